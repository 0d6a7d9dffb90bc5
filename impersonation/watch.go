package impersonation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// MailboxChanges is one batch of changes the [Watcher] hands to its
// [ChangeHandler]: one page of SyncFolderItems for one watched folder of
// one mailbox.
type MailboxChanges struct {
	// Mailbox is the mailbox's primary SMTP address, as in the
	// organization.
	Mailbox string
	// Folder is the folder's key: a provisioning plan key ("contacts")
	// or a distinguished folder name ("inbox"), as given to
	// [WithWatchFolders].
	Folder string
	// FolderID is the folder watched.
	FolderID ews.FolderID
	// Changes are the changes, newest first as Exchange reports them: the
	// change type (Create, Update, Delete, ReadFlagChange), the item id
	// and, for Create and Update, the item with the shape of
	// [WithWatchItemShape] (ids and item class by default).
	Changes []ews.ItemSyncChange
	// FullSync is true while the folder is synced from the start (no sync
	// state was stored, or the server refused the stored one): every item
	// of the folder comes as a Create; reconcile with what you hold.
	FullSync bool
	// FullSyncStart is true on the first batch of a full sync, which is
	// handed even when the folder is empty (no Changes): drop what you
	// hold of the folder, then apply this batch and the FullSync batches
	// after it. A full sync can follow one the handler has already seen
	// (a crash before the position was saved, a refused sync state); the
	// items deleted meanwhile come in neither, so without this mark a
	// caller's copy would keep them.
	FullSyncStart bool
	// SyncState is the folder's SyncFolderItems state after this batch:
	// the position the watcher records once the handler returned nil.
	SyncState string
}

// ChangeHandler receives a [Watcher]'s changes. Calls for one mailbox never
// overlap and come in order; calls for different mailboxes run
// concurrently (up to [WithConcurrency]). Changes are delivered at least
// once: the watcher stores a mailbox's position only after the handler
// returned nil for the changes before it, so after a crash or restart the
// changes since the last saved batch come again. Such a replay is net:
// an item created and deleted since the saved position comes in neither
// way, so a copy that took its Create before the crash keeps it. A caller
// that needs its copy exact across crashes stores each batch's SyncState
// with its data, in the same write, and returns those states from the
// LoadPositions of its [PositionStore]: the watcher then resumes where the
// caller's data stands. A non-nil error leaves
// the position where it was; the folder is synced again, with the same
// changes, after a back-off. The handler should return promptly: the
// mailbox's other folders wait for it.
type ChangeHandler func(ctx context.Context, c MailboxChanges) error

// WatchState is what a [Watcher] is doing with one mailbox.
type WatchState string

// The watch states.
const (
	// WatchSubscribing: the mailbox's subscription is being created.
	WatchSubscribing WatchState = "subscribing"
	// WatchStreaming: the mailbox's subscription is open on its group's
	// GetStreamingEvents connection; events arrive as they happen.
	WatchStreaming WatchState = "streaming"
	// WatchResyncing: events may have been lost (see MailboxStatus.Code:
	// ErrorMissedNotificationEvents, a lost subscription, a dropped
	// connection, a restart); the watched folders are being synced from
	// their last stored state.
	WatchResyncing WatchState = "resyncing"
	// WatchRetrying: a request for the mailbox failed (Err says why) and
	// is repeated after a back-off; throttling (ErrorServerBusy) is
	// honoured.
	WatchRetrying WatchState = "retrying"
	// WatchFailed: the mailbox cannot be watched as configured (Err says
	// why, for example a folder key it has no folder for); it is not
	// retried until the watcher restarts.
	WatchFailed WatchState = "failed"
)

// MailboxStatus reports a change of what a [Watcher] does with one
// mailbox, see [WithWatchStatus].
type MailboxStatus struct {
	// Mailbox is the primary SMTP address.
	Mailbox string
	State   WatchState
	// Anchor is the anchor mailbox of the mailbox's affinity group (the
	// mailbox its group's GetStreamingEvents connection impersonates).
	Anchor string
	// Code is the EWS code behind the state, when there is one
	// (ErrorMissedNotificationEvents, ErrorSubscriptionNotFound,
	// ErrorServerBusy, ...).
	Code ews.ResponseCode
	// Err is the failure of a WatchRetrying or WatchFailed mailbox.
	Err error
	// Time is when the state changed.
	Time time.Time
}

// Watcher watches the mailboxes of one organization for changes with EWS
// streaming notifications, the way Microsoft prescribes for many
// mailboxes, and hands the changes to a [ChangeHandler]. Create it with
// [NewWatcher] and start it with [Watcher.Run]; see the package
// documentation for what it does.
type Watcher struct {
	store     org.Store
	orgID     string
	handler   ChangeHandler
	s         *settings
	ws        *watchSettings
	positions PositionStore

	client    *ews.Client
	mailboxes []*watchedMailbox
	groups    []*watchGroup
	queue     chan *watchedMailbox
	reqs      chan struct{} // bounds Subscribe and SyncFolderItems in flight
	saveNow   chan struct{}

	mu       sync.Mutex // guards the mutable fields of mailboxes and groups
	statusMu sync.Mutex // serialises the status callback

	running sync.Mutex // held by Run
}

// watchedFolder is one folder of a watched mailbox.
type watchedFolder struct {
	key string
	id  ews.FolderID
}

// watchedMailbox is the watcher's state for one mailbox. The fields below
// mu are guarded by Watcher.mu.
type watchedMailbox struct {
	key     string // org.AddressKey
	addr    string
	sid     ews.ConnectingSID
	folders []watchedFolder
	group   *watchGroup

	subID    string
	dirty    map[string]bool // folder keys to sync
	seenWM   string          // watermark of the last event received
	queued   bool
	syncing  bool
	retryAt  time.Time
	failures int
	failed   bool // WatchFailed: not watched
	timer    bool // a retry is scheduled
	state    WatchState
	code     ews.ResponseCode
	// resync is set while a resync (events may have been lost) is pending;
	// resyncGen counts the requests, resyncCode is the last one's reason.
	resync     bool
	resyncGen  uint64
	resyncCode ews.ResponseCode
	// onStream: the subscription is on an open connection of the group.
	onStream bool
	// subRetryAt and subFailures pace the retries of Subscribe.
	subRetryAt  time.Time
	subFailures int
	// pos is the handled position; unsavedStates the folder states changed
	// since the last save; ver counts changes, savedVer the last saved.
	pos           MailboxPosition
	unsavedStates map[string]string
	ver, savedVer uint64
}

// ErrWatchingOff is what [Watcher.Run] returns (wrapped) for an
// organization whose provisioning plan has StartWatcher off: the admin
// turned sync off for it, so a watcher left running does not resume it.
var ErrWatchingOff = errors.New("impersonation: watching is off in the organization's provisioning plan")

// NewWatcher returns a watcher for the organization orgID of store that
// hands the changes of its users' mailboxes to handle. It checks its
// arguments and options; the organization is read by [Watcher.Run].
//
// The options that apply: [WithWatchFolders], [WithWatchItemShape],
// [WithWatchStatus], [WithPositionStore], [WithSaveInterval],
// [WithWatchGrouping], [WithGroupingInformation], [WithConcurrency],
// [WithRequestTimeout], [WithRetryBudget] (its BaseDelay starts the
// back-off between reconnections), [WithLogger], and those of every entry
// point ([WithHTTPClient], [WithEWSOptions], [WithBearerToken],
// [WithAuthority]).
func NewWatcher(store org.Store, orgID string, handle ChangeHandler, opts ...Option) (*Watcher, error) {
	if store == nil {
		return nil, errors.New("impersonation: NewWatcher: store is nil; pass the store the organization was saved in")
	}
	if strings.TrimSpace(orgID) == "" {
		return nil, &wrappedError{msg: "impersonation: NewWatcher: empty organization ID; save the organization with store.Create first and pass the ID it returns", err: org.ErrNotFound}
	}
	if handle == nil {
		return nil, errors.New("impersonation: NewWatcher: handler is nil")
	}
	ws, err := newWatchSettings(opts)
	if err != nil {
		return nil, err
	}
	w := &Watcher{store: store, orgID: orgID, handler: handle, s: &ws.settings, ws: ws, positions: ws.positions}
	if w.positions == nil {
		w.positions = OrgPositions(store, orgID)
	}
	return w, nil
}

// Run watches until ctx is done, then saves the positions once more and
// returns ctx's error (nil-safe: context.Canceled or DeadlineExceeded). It
// returns earlier only when it cannot start: the organization cannot be
// read, its configuration is invalid, or no user can be watched. Failures
// of single mailboxes, connections and the handler are reported through
// [WithWatchStatus] and retried; they never end Run.
//
// Run reads the organization once: users added or changed later are
// watched from the next Run. It watches the users that are org.Active.
// An organization whose provisioning plan has StartWatcher off is not
// watched: Run returns an error matching [ErrWatchingOff] before it sends
// anything (an organization without a plan is watched).
// Subscriptions are not removed when Run returns, so that the next Run
// resumes them (the subscription ids are part of the saved position); a
// subscription the server no longer has is replaced. A Watcher runs one
// Run at a time.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.running.TryLock() {
		return errors.New("impersonation: Watcher.Run is already running")
	}
	defer w.running.Unlock()
	o, err := load(ctx, "Watcher.Run", w.store, w.orgID)
	if err != nil {
		return err
	}
	if err := o.Email.Validate(); err != nil {
		return fmt.Errorf("impersonation: Watcher.Run: the email configuration is invalid: %w", err)
	}
	if o.Provisioning != nil && !o.Provisioning.StartWatcher {
		return &wrappedError{msg: fmt.Sprintf("impersonation: Watcher.Run: the provisioning plan of organization %q has StartWatcher off; set it to watch the organization's mailboxes", o.ID), err: ErrWatchingOff}
	}
	positions, err := w.positions.LoadPositions(ctx)
	if err != nil {
		return err
	}
	client, err := w.newClient(o.Email)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	w.client = client
	if err := w.build(ctx, o, positions); err != nil {
		return err
	}
	return w.run(ctx)
}

// newClient builds the EWS client as CheckUsers does, with the ews
// default retries (the watcher honours longer back-offs itself).
func (w *Watcher) newClient(cfg org.EmailConfiguration) (*ews.Client, error) {
	if cfg.AccessType == org.DirectLogon {
		return nil, ErrDirectLogon
	}
	var eo []ews.Option
	if w.s.httpClient != nil {
		eo = append(eo, ews.WithHTTPClient(w.s.httpClient))
	}
	ao, err := w.s.authOptions(cfg, w.s.tokenHTTPClient())
	if err != nil {
		return nil, err
	}
	return newEWSClient(cfg, cfg.AuthMethod, append(eo, ao...))
}

// build makes the watched mailboxes and their groups.
func (w *Watcher) build(ctx context.Context, o *org.Organization, positions map[string]MailboxPosition) error {
	keys := w.ws.folders
	if len(keys) == 0 && o.Provisioning != nil {
		keys = o.Provisioning.BaselineFolders
	}
	if len(keys) == 0 {
		return errors.New("impersonation: Watcher.Run: no folders to watch; pass WithWatchFolders or set the provisioning plan's BaselineFolders")
	}
	planned := map[string]bool{}
	if o.Provisioning != nil {
		for _, f := range o.Provisioning.Folders {
			planned[f.Key] = true
		}
	}
	seen := map[string]bool{}
	var mbs []*watchedMailbox
	var failed []*watchedMailbox
	for _, u := range o.Users {
		if u.Sync.Status != org.Active {
			continue
		}
		k := org.AddressKey(u.PrimarySMTP)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		mb := &watchedMailbox{key: k, addr: strings.TrimSpace(u.PrimarySMTP), dirty: map[string]bool{}}
		sid, ok := connectingSID(u.ImpersonationIdentity())
		var why error
		if !ok {
			why = fmt.Errorf("impersonation: watcher: user %s has no identity to impersonate", mb.addr)
		}
		mb.sid = sid
		for _, fk := range keys {
			switch id, ok := u.Sync.Folders[fk]; {
			case ok && id != "":
				mb.folders = append(mb.folders, watchedFolder{key: fk, id: ews.FolderID{ID: id}})
			case planned[fk]:
				why = fmt.Errorf("impersonation: watcher: mailbox %s has no provisioned folder %q; activate the user with the provisioning plan first", mb.addr, fk)
			default:
				mb.folders = append(mb.folders, watchedFolder{key: fk, id: ews.DistinguishedFolder(ews.DistinguishedFolderName(fk))})
			}
		}
		if p, ok := positions[k]; ok {
			mb.pos.SyncStates = maps.Clone(p.SyncStates)
			mb.pos.Watch = p.Watch
			mb.subID = p.Watch.SubscriptionID
		}
		if mb.pos.SyncStates == nil {
			mb.pos.SyncStates = map[string]string{}
		}
		if why != nil {
			mb.failed, mb.state = true, WatchFailed
			failed = append(failed, mb)
			w.report(mb, MailboxStatus{State: WatchFailed, Err: why})
			continue
		}
		// A restart may have lost events: sync every folder from its
		// stored state once.
		for _, f := range mb.folders {
			mb.dirty[f.key] = true
		}
		mb.resync, mb.resyncGen = true, 1
		mbs = append(mbs, mb)
	}
	if len(mbs) == 0 {
		return fmt.Errorf("impersonation: Watcher.Run: organization %q has no active user that can be watched (%d failed)", o.ID, len(failed))
	}
	grouping := maps.Clone(w.ws.grouping)
	if w.s.grouping {
		found := discoverGrouping(ctx, o.Email, mbs, w.s)
		if grouping == nil {
			grouping = found
		} else {
			for k, v := range found {
				if _, set := grouping[k]; !set {
					grouping[k] = v
				}
			}
		}
	}
	groups, err := groupMailboxes(mbs, grouping, o.Email.EWSURL)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.mailboxes = append(mbs, failed...)
	w.groups = groups
	w.mu.Unlock()
	w.queue = make(chan *watchedMailbox, len(mbs))
	w.reqs = make(chan struct{}, w.s.concurrency)
	w.saveNow = make(chan struct{}, 1)
	return nil
}

// run starts the sync workers, the saver and one loop per group, and
// waits for ctx.
func (w *Watcher) run(ctx context.Context) error {
	var wg sync.WaitGroup
	saverCtx, stopSaver := context.WithCancel(context.WithoutCancel(ctx))
	saverDone := make(chan struct{})
	go func() {
		defer close(saverDone)
		w.saver(saverCtx)
	}()
	for range w.s.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.syncWorker(ctx)
		}()
	}
	w.mu.Lock()
	for _, mb := range w.mailboxes {
		if !mb.failed && mb.subID != "" {
			// A resumed subscription: resync now, while its stream opens.
			w.enqueueLocked(mb)
		}
	}
	w.mu.Unlock()
	for _, g := range w.groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.groupLoop(ctx, g)
		}()
	}
	<-ctx.Done()
	wg.Wait()
	stopSaver()
	<-saverDone
	return ctx.Err()
}

// report records a state change of mb and tells the status callback when
// the state or code changed (or for every failure).
func (w *Watcher) report(mb *watchedMailbox, st MailboxStatus) {
	w.mu.Lock()
	same := mb.state == st.State && mb.code == st.Code && st.Err == nil
	mb.state, mb.code = st.State, st.Code
	w.mu.Unlock()
	if same || w.ws.status == nil {
		return
	}
	st.Mailbox = mb.addr
	if mb.group != nil {
		st.Anchor = mb.group.anchor
	}
	st.Time = w.s.now()
	w.statusMu.Lock()
	defer w.statusMu.Unlock()
	w.ws.status(st)
}

// Mailboxes returns the current status of every mailbox the running (or
// last) Run watches or failed to watch, in the organization's order
// (failed ones last).
func (w *Watcher) Mailboxes() []MailboxStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]MailboxStatus, 0, len(w.mailboxes))
	for _, mb := range w.mailboxes {
		st := MailboxStatus{Mailbox: mb.addr, State: mb.state, Code: mb.code}
		if mb.group != nil {
			st.Anchor = mb.group.anchor
		}
		out = append(out, st)
	}
	return out
}

// backoff returns the wait before the n-th retry (n from 1): BaseDelay
// doubling up to 30 seconds, at least the server's back-off.
func (w *Watcher) backoff(n int, server time.Duration) time.Duration {
	d := w.s.budget.BaseDelay
	for i := 1; i < n && d < maxRetryDelay; i++ {
		d *= 2
	}
	d = min(d, maxRetryDelay)
	return max(d, server)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
