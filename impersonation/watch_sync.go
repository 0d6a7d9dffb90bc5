package impersonation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
)

// requestResyncLocked marks every folder of mb to be synced from its
// stored state because events may have been lost (code says why, "" for a
// restart or a new subscription). Callers hold w.mu and report the state
// afterwards.
func (w *Watcher) requestResyncLocked(mb *watchedMailbox, code ews.ResponseCode) {
	for _, f := range mb.folders {
		mb.dirty[f.key] = true
	}
	if code != "" || !mb.resync {
		// A pending resync keeps its reason unless this one has one.
		mb.resyncCode = code
	}
	mb.resync = true
	mb.resyncGen++
	w.enqueueLocked(mb)
}

// markDirtyLocked marks one folder (or, with key "", all) of mb to sync
// because an event named it. Callers hold w.mu.
func (w *Watcher) markDirtyLocked(mb *watchedMailbox, key string) {
	if key == "" {
		for _, f := range mb.folders {
			mb.dirty[f.key] = true
		}
	} else {
		mb.dirty[key] = true
	}
	w.enqueueLocked(mb)
}

// enqueueLocked puts mb on the sync queue when it has folders to sync and
// is neither queued, syncing nor waiting for a retry. Callers hold w.mu.
func (w *Watcher) enqueueLocked(mb *watchedMailbox) {
	if mb.queued || mb.syncing || mb.failed || len(mb.dirty) == 0 || mb.timer {
		return
	}
	if wait := mb.retryAt.Sub(w.s.now()); wait > 0 {
		mb.timer = true
		time.AfterFunc(wait, func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			mb.timer = false
			mb.retryAt = time.Time{}
			w.enqueueLocked(mb)
		})
		return
	}
	mb.queued = true
	w.queue <- mb // never blocks: the queue holds every mailbox once
}

// syncWorker syncs queued mailboxes until ctx is done.
func (w *Watcher) syncWorker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case mb := <-w.queue:
			w.syncMailbox(ctx, mb)
		}
	}
}

// syncMailbox syncs the dirty folders of mb and hands their changes to the
// handler.
func (w *Watcher) syncMailbox(ctx context.Context, mb *watchedMailbox) {
	w.mu.Lock()
	mb.queued, mb.syncing = false, true
	todo := mb.dirty
	mb.dirty = map[string]bool{}
	wm := mb.seenWM
	gen, resync, code := mb.resyncGen, mb.resync, mb.resyncCode
	w.mu.Unlock()
	if resync {
		w.report(mb, MailboxStatus{State: WatchResyncing, Code: code})
	}
	var failure error
	for i, f := range mb.folders {
		if !todo[f.key] {
			continue
		}
		if err := w.syncFolder(ctx, mb, f); err != nil {
			failure = err
			w.mu.Lock()
			for _, rest := range mb.folders[i:] {
				if todo[rest.key] {
					mb.dirty[rest.key] = true
				}
			}
			w.mu.Unlock()
			break
		}
	}
	w.mu.Lock()
	mb.syncing = false
	steady := false
	if failure == nil {
		if wm != "" && wm != mb.pos.Watch.Watermark {
			mb.pos.Watch.Watermark = wm
			mb.ver++
		}
		mb.failures = 0
		if mb.resyncGen == gen {
			mb.resync = false
		}
		steady = !mb.resync && mb.onStream
	} else if ctx.Err() == nil {
		mb.failures++
		mb.retryAt = w.s.now().Add(w.backoff(mb.failures, serverBackOff(failure)))
	}
	w.enqueueLocked(mb)
	w.mu.Unlock()
	switch {
	case failure != nil && ctx.Err() == nil:
		w.report(mb, MailboxStatus{State: WatchRetrying, Code: codeOf(failure), Err: failure})
	case steady:
		w.report(mb, MailboxStatus{State: WatchStreaming})
	}
}

// syncFolder runs SyncFolderItems for one folder from its handled state
// until the folder is in sync, handing each page's changes to the handler
// and advancing the state after it returned.
func (w *Watcher) syncFolder(ctx context.Context, mb *watchedMailbox, f watchedFolder) error {
	w.mu.Lock()
	state := mb.pos.SyncStates[f.key]
	w.mu.Unlock()
	req := &ews.SyncFolderItemsRequest{FolderID: f.id, SyncState: state, Shape: w.ws.shape,
		AdditionalProperties: w.ws.props, ExtendedProperties: w.ws.extProps}
	full := state == ""
	start := full // the next batch is the first of a full sync
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		resp, err := w.syncCall(ctx, mb, req)
		if err != nil && req.SyncState != "" && errors.Is(err, ews.ErrorInvalidSyncStateData) {
			w.s.logger.Warn("watcher: the server refused a stored sync state; syncing the folder from the start",
				"mailbox", mb.addr, "folder", f.key)
			w.setSyncState(mb, f.key, "")
			req.SyncState, full, start = "", true, true
			continue
		}
		if err != nil {
			return err
		}
		if !resp.IncludesLastItemInRange && len(resp.Changes) == 0 && resp.SyncState == req.SyncState {
			return fmt.Errorf("impersonation: watcher: SyncFolderItems of %s in %s says more changes are waiting but returned none and the same state", f.key, mb.addr)
		}
		if len(resp.Changes) > 0 || start {
			c := MailboxChanges{Mailbox: mb.addr, Folder: f.key, FolderID: f.id, Changes: resp.Changes, FullSync: full, FullSyncStart: start, SyncState: resp.SyncState}
			if err := w.handle(ctx, c); err != nil {
				return fmt.Errorf("impersonation: watcher: the change handler failed for %s in %s: %w", f.key, mb.addr, err)
			}
			start = false
		}
		w.setSyncState(mb, f.key, resp.SyncState)
		if resp.IncludesLastItemInRange {
			return nil
		}
		req.SyncState = resp.SyncState
	}
}

// handle calls the handler.
func (w *Watcher) handle(ctx context.Context, c MailboxChanges) error {
	return w.handler(ctx, c)
}

// syncCall runs one SyncFolderItems impersonating mb, within the request
// limit and timeout.
func (w *Watcher) syncCall(ctx context.Context, mb *watchedMailbox, req *ews.SyncFolderItemsRequest) (*ews.SyncFolderItemsResponse, error) {
	release, err := w.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	cctx, cancel := context.WithTimeout(ctx, w.s.reqTimeout)
	defer cancel()
	return w.client.SyncFolderItems(cctx, req, ews.Impersonate(mb.sid))
}

// acquire takes one of the request slots.
func (w *Watcher) acquire(ctx context.Context) (func(), error) {
	select {
	case w.reqs <- struct{}{}:
		return func() { <-w.reqs }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// setSyncState records a handled folder state of mb for the next save.
func (w *Watcher) setSyncState(mb *watchedMailbox, key, state string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if mb.pos.SyncStates[key] == state && state != "" {
		return
	}
	mb.pos.SyncStates[key] = state
	if mb.unsavedStates == nil {
		mb.unsavedStates = map[string]string{}
	}
	mb.unsavedStates[key] = state
	mb.ver++
}

// codeOf returns the EWS code behind err, if any.
func codeOf(err error) ews.ResponseCode {
	var re *ews.ResponseError
	if errors.As(err, &re) {
		return re.Code
	}
	var fe *ews.FaultError
	if errors.As(err, &fe) {
		return fe.Code
	}
	var te *ews.ThrottledError
	if errors.As(err, &te) {
		return ews.ErrorServerBusy
	}
	return ""
}

// serverBackOff returns the back-off the server asked for with err
// (ErrorServerBusy's BackOffMilliseconds, HTTP 503's Retry-After), or 0.
func serverBackOff(err error) time.Duration {
	var te *ews.ThrottledError
	if errors.As(err, &te) {
		return te.BackOff
	}
	var re *ews.ResponseError
	if errors.As(err, &re) {
		if v, ok := re.MessageXML.Get("BackOffMilliseconds"); ok {
			if ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && ms > 0 && ms < 24*3600*1000 {
				return time.Duration(ms) * time.Millisecond
			}
		}
	}
	return 0
}
