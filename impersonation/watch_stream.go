package impersonation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sccsync/scc/ews"
)

// watchEvents are the events the watcher subscribes to: every change of
// an item or folder (NewMailEvent repeats CreatedEvent, FreeBusyChanged
// says nothing a sync needs).
var watchEvents = []ews.EventType{ews.EventCreated, ews.EventDeleted, ews.EventModified, ews.EventMoved, ews.EventCopied}

// groupLoop keeps the group's subscriptions and its one GetStreamingEvents
// connection until ctx is done.
func (w *Watcher) groupLoop(ctx context.Context, g *watchGroup) {
	failures := 0
	for ctx.Err() == nil {
		w.subscribeMembers(ctx, g)
		ids, byID := w.groupIDs(g)
		if len(ids) == 0 {
			failures++
			sleepCtx(ctx, w.backoff(failures, 0))
			continue
		}
		opened, err := w.stream(ctx, g, ids, byID)
		if ctx.Err() != nil {
			return
		}
		if opened {
			// The connection worked: a failure after it starts the
			// back-off afresh, else a stream dropped every few minutes
			// would wait longer after each drop.
			failures = 0
		}
		if err == nil {
			failures = 0
			continue
		}
		failures++
		wait := w.backoff(failures, serverBackOff(err))
		w.s.logger.Warn("watcher: the group's event stream failed; reconnecting", "anchor", g.anchor,
			"mailboxes", len(ids), "wait", wait, "error", err.Error())
		sleepCtx(ctx, wait)
	}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// groupIDs returns the subscription ids of the group's watched members.
func (w *Watcher) groupIDs(g *watchGroup) ([]string, map[string]*watchedMailbox) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []string
	byID := map[string]*watchedMailbox{}
	for _, mb := range g.members {
		if mb.failed || mb.subID == "" {
			continue
		}
		ids = append(ids, mb.subID)
		byID[mb.subID] = mb
	}
	return ids, byID
}

// subscribeMembers subscribes the members that have no subscription and
// whose retry time has come: the first alone, so that it fixes the group's
// backend cookie, the others concurrently.
func (w *Watcher) subscribeMembers(ctx context.Context, g *watchGroup) {
	now := w.s.now()
	var todo []*watchedMailbox
	w.mu.Lock()
	for _, mb := range g.members {
		if !mb.failed && mb.subID == "" && !now.Before(mb.subRetryAt) {
			todo = append(todo, mb)
		}
	}
	w.mu.Unlock()
	if len(todo) == 0 {
		return
	}
	w.subscribe(ctx, g, todo[0])
	var wg sync.WaitGroup
	for _, mb := range todo[1:] {
		release, err := w.acquire(ctx)
		if err != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer release()
			w.subscribe(ctx, g, mb)
		}()
	}
	wg.Wait()
}

// subscribe creates mb's streaming subscription, impersonating mb within
// the group's affinity, and asks for a resync of its folders (events
// before the subscription are not in it).
func (w *Watcher) subscribe(ctx context.Context, g *watchGroup, mb *watchedMailbox) {
	w.report(mb, MailboxStatus{State: WatchSubscribing})
	ids := make([]ews.FolderID, len(mb.folders))
	for i, f := range mb.folders {
		ids[i] = f.id
	}
	cctx, cancel := context.WithTimeout(ctx, w.s.reqTimeout)
	sub, err := w.client.SubscribeStreaming(cctx, &ews.StreamingSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{FolderIDs: ids, EventTypes: watchEvents}},
		ews.Impersonate(mb.sid), ews.Affinity(g.aff))
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		code := codeOf(err)
		w.mu.Lock()
		mb.subFailures++
		mb.subRetryAt = w.s.now().Add(w.backoff(mb.subFailures, serverBackOff(err)))
		permanent := permanentSubscribeFailure(err)
		if permanent {
			mb.failed = true
		}
		w.mu.Unlock()
		state := WatchRetrying
		if permanent {
			state = WatchFailed
		}
		w.report(mb, MailboxStatus{State: state, Code: code, Err: fmt.Errorf("impersonation: watcher: subscribing %s: %w", mb.addr, err)})
		return
	}
	w.mu.Lock()
	mb.subFailures = 0
	mb.subID = sub.ID
	mb.pos.Watch.SubscriptionID = sub.ID
	mb.ver++
	w.requestResyncLocked(mb, mb.resyncCode)
	w.mu.Unlock()
}

// permanentSubscribeFailure reports whether a Subscribe failure will not
// go away by repeating it.
func permanentSubscribeFailure(err error) bool {
	if errors.Is(err, ews.ErrInvalidRequest) {
		return true
	}
	switch codeOf(err) {
	case ews.ErrorNonExistentMailbox, ews.ErrorImpersonateUserDenied, ews.ErrorImpersonationDenied,
		ews.ErrorSubscriptionDelegateAccessNotSupported, ews.ErrorInvalidSubscriptionRequest,
		ews.ErrorFolderNotFound, ews.ErrorInvalidIdMalformed:
		return true
	}
	return false
}

// stream opens the group's connection with ids and reads it until it
// ends. It returns nil when the connection ended in order (Closed, an
// error about single subscriptions, or members waiting to join): the
// caller reconnects at once; else why it failed. opened reports whether
// the server took every id (the connection worked for a while).
//
// When the watcher leaves a connection the server has not ended (members
// waiting to join, an error about some subscriptions), the server may
// already have written events of the other subscriptions that will never
// be read: those mailboxes are resynced, as after a dropped connection.
func (w *Watcher) stream(ctx context.Context, g *watchGroup, ids []string, byID map[string]*watchedMailbox) (opened bool, err error) {
	s, err := w.client.GetStreamingEvents(ctx, &ews.GetStreamingEventsRequest{SubscriptionIDs: ids,
		ConnectionTimeout: w.ws.connTimeout, IdleTimeout: w.ws.idleTimeout},
		ews.Impersonate(g.anchorSID), ews.Affinity(g.aff))
	if err != nil {
		return false, err
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	// Members without a subscription join on a new connection: end this
	// one when the first of them is due to subscribe again.
	var rejoin atomic.Bool
	if at, ok := w.nextSubscribe(g); ok {
		t := time.AfterFunc(max(at.Sub(w.s.now()), 0), func() {
			rejoin.Store(true)
			s.Close()
		})
		defer t.Stop()
	}
	defer w.setOnStream(byID, false)
	open := false
	for {
		m, err := s.Next()
		switch {
		case ctx.Err() != nil:
			return open, ctx.Err()
		case errors.Is(err, io.EOF):
			return open, nil
		case rejoin.Load() && errors.Is(err, ews.ErrStreamClosed):
			// Closed by this side: what the server wrote since is lost.
			w.resyncAll(byID, "")
			return open, nil
		case err != nil:
			// A connection that broke may have taken events with it.
			w.resyncAll(byID, "")
			return open, err
		}
		if !open && m.Err == nil {
			// The server took every id: the connection is open.
			open = true
			w.setOnStream(byID, true)
		}
		w.deliver(m, byID)
		if m.Err != nil {
			// The subscriptions not named keep working, but only on a new
			// connection; closing this one loses what the server wrote
			// after the error.
			err := w.subscriptionError(m, byID)
			w.resyncAll(byID, "")
			return open, err
		}
	}
}

// nextSubscribe returns when the first member of g without a subscription
// is due to subscribe again.
func (w *Watcher) nextSubscribe(g *watchGroup) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var at time.Time
	ok := false
	for _, mb := range g.members {
		if mb.failed || mb.subID != "" {
			continue
		}
		if !ok || mb.subRetryAt.Before(at) {
			at, ok = mb.subRetryAt, true
		}
	}
	return at, ok
}

// setOnStream marks the mailboxes as on (or off) an open connection and
// reports those that are in sync as streaming.
func (w *Watcher) setOnStream(byID map[string]*watchedMailbox, on bool) {
	var steady []*watchedMailbox
	w.mu.Lock()
	for id, mb := range byID {
		if mb.subID != id {
			continue
		}
		mb.onStream = on
		if on && !mb.resync && !mb.syncing && !mb.queued {
			steady = append(steady, mb)
		}
	}
	w.mu.Unlock()
	for _, mb := range steady {
		w.report(mb, MailboxStatus{State: WatchStreaming})
	}
}

// deliver marks the folders the notifications name for syncing.
func (w *Watcher) deliver(m *ews.StreamMessage, byID map[string]*watchedMailbox) {
	if len(m.Notifications) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range m.Notifications {
		mb := byID[n.SubscriptionID]
		if mb == nil || mb.subID != n.SubscriptionID {
			continue
		}
		for _, ev := range n.Events {
			if ev.Watermark != "" {
				mb.seenWM = ev.Watermark
			}
			if ev.Type == ews.EventStatus {
				continue
			}
			w.markDirtyLocked(mb, folderOf(mb, &ev))
		}
	}
}

// folderOf returns the key of the watched folder an event is about, or ""
// when it cannot tell (a distinguished folder whose id it does not know):
// then every folder of the mailbox is synced.
func folderOf(mb *watchedMailbox, ev *ews.Event) string {
	for _, id := range []string{ev.ParentFolderID.ID, ev.OldParentFolderID.ID, ev.FolderID.ID} {
		if id == "" {
			continue
		}
		for _, f := range mb.folders {
			if f.id.ID == id {
				return f.key
			}
		}
	}
	if len(mb.folders) == 1 {
		return mb.folders[0].key
	}
	return ""
}

// subscriptionError acts on an error message of the stream. It returns an
// error when the whole connection should back off before reconnecting.
func (w *Watcher) subscriptionError(m *ews.StreamMessage, byID map[string]*watchedMailbox) error {
	var se *ews.SubscriptionError
	if !errors.As(m.Err, &se) || se.Err == nil {
		return m.Err
	}
	code := se.Err.Code
	var named []*watchedMailbox
	w.mu.Lock()
	if len(se.SubscriptionIDs) == 0 {
		for id, mb := range byID {
			if mb.subID == id {
				named = append(named, mb)
			}
		}
	} else {
		for _, id := range se.SubscriptionIDs {
			if mb := byID[id]; mb != nil && mb.subID == id {
				named = append(named, mb)
			}
		}
	}
	w.mu.Unlock()
	switch code {
	case ews.ErrorMissedNotificationEvents:
		// The subscriptions stay; the events are to be found by syncing.
		w.resyncAll(byIDOf(named), code)
		return nil
	case ews.ErrorSubscriptionNotFound, ews.ErrorExpiredSubscription, ews.ErrorInvalidSubscription,
		ews.ErrorReadEventsFailed, ews.ErrorInvalidWatermark, ews.ErrorSubscriptionAccessDenied,
		ews.ErrorSubscriptionUnsubscribed, ews.ErrorProxiedSubscriptionCallFailure:
		// Lost: subscribe again (which resyncs).
		w.mu.Lock()
		for _, mb := range named {
			mb.subID = ""
			mb.onStream = false
			mb.resyncCode = code
			mb.pos.Watch.SubscriptionID = ""
			mb.ver++
		}
		w.mu.Unlock()
		for _, mb := range named {
			w.report(mb, MailboxStatus{State: WatchSubscribing, Code: code})
		}
		return nil
	case ews.ErrorNewEventStreamConnectionOpened:
		return nil
	}
	return se
}

// byIDOf indexes mailboxes by their subscription id.
func byIDOf(mbs []*watchedMailbox) map[string]*watchedMailbox {
	out := make(map[string]*watchedMailbox, len(mbs))
	for _, mb := range mbs {
		out[mb.subID] = mb
	}
	return out
}

// resyncAll asks for a resync of the mailboxes still subscribed with the
// ids of byID.
func (w *Watcher) resyncAll(byID map[string]*watchedMailbox, code ews.ResponseCode) {
	var mbs []*watchedMailbox
	w.mu.Lock()
	for id, mb := range byID {
		if mb.subID == id && !mb.failed {
			w.requestResyncLocked(mb, code)
			mbs = append(mbs, mb)
		}
	}
	w.mu.Unlock()
	for _, mb := range mbs {
		w.report(mb, MailboxStatus{State: WatchResyncing, Code: code})
	}
}
