package impersonation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// waitLong bounds every wait of the watcher tests: far above what the
// steps take, for a loaded machine.
const waitLong = 60 * time.Second

// watchRig is a fake server with n active users in a store, and a
// recording handler.
type watchRig struct {
	f     *fake
	store *org.MemoryStore
	orgID string
	users []org.User
	conns *connTracker

	mu      sync.Mutex
	changes []MailboxChanges
	status  []MailboxStatus
	fail    func(MailboxChanges) error // the handler's answer, nil = accept
}

func newWatchRig(t *testing.T, n int, opts ...scctest.Option) *watchRig {
	t.Helper()
	f := newFake(t, scctest.ImpersonateAll(), opts...)
	users := f.addMailboxes(t, n)
	for i := range users {
		users[i].Sync.Status = org.Active
	}
	store := org.NewMemoryStore()
	saved, err := store.Create(context.Background(), &org.Organization{Name: "Contoso", Users: users, Email: f.cfg})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	r := &watchRig{f: f, store: store, orgID: saved.ID, users: users, conns: &connTracker{}}
	return r
}

// handler records the changes.
func (r *watchRig) handler(_ context.Context, c MailboxChanges) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(c); err != nil {
			return err
		}
	}
	r.changes = append(r.changes, c)
	return nil
}

// options are the watcher options pointing at the fake through tracked
// connections.
func (r *watchRig) options(more ...Option) []Option {
	base := r.f.srv.Client()
	tr := base.Transport.(*http.Transport).Clone()
	d := &net.Dialer{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return r.conns.add(c), nil
	}
	hc := &http.Client{Transport: tr}
	return append([]Option{WithHTTPClient(hc), WithRetryBudget(RetryBudget{BaseDelay: time.Millisecond}),
		WithWatchFolders("inbox"),
		WithWatchStatus(func(st MailboxStatus) {
			r.mu.Lock()
			r.status = append(r.status, st)
			r.mu.Unlock()
		})}, more...)
}

// start runs a new watcher until the test ends or stop is called; stop
// returns Run's error.
func (r *watchRig) start(t *testing.T, opts ...Option) (*Watcher, func() error) {
	t.Helper()
	w, err := NewWatcher(r.store, r.orgID, r.handler, r.options(opts...)...)
	if err != nil {
		t.Fatalf("NewWatcher: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(waitLong):
				runErr = errors.New("Run did not return after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	return w, stop
}

// waitFor polls cond until it holds, failing the test after waitLong.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitStreaming waits until every mailbox of w is streaming.
func waitStreaming(t *testing.T, w *Watcher, n int) {
	t.Helper()
	waitFor(t, "every mailbox streaming", func() bool {
		ms := w.Mailboxes()
		if len(ms) != n {
			return false
		}
		for _, m := range ms {
			if m.State != WatchStreaming {
				return false
			}
		}
		return true
	})
}

// created returns the ids of items handed as Create for mailbox.
func (r *watchRig) created(mailbox string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, c := range r.changes {
		if c.Mailbox != mailbox {
			continue
		}
		for _, ch := range c.Changes {
			if ch.Type == ews.ChangeCreate {
				ids = append(ids, ch.ItemID.ID)
			}
		}
	}
	return ids
}

func (r *watchRig) waitCreated(t *testing.T, mailbox, id string) {
	t.Helper()
	waitFor(t, "item "+id+" of "+mailbox+" handed to the handler", func() bool {
		return slices.Contains(r.created(mailbox), id)
	})
}

func (r *watchRig) addItem(t *testing.T, mailbox, subject string) string {
	t.Helper()
	id, err := r.f.srv.AddItem(mailbox, "inbox", scctest.Message{Subject: subject})
	if err != nil {
		t.Fatalf("AddItem(%s): %v", mailbox, err)
	}
	return id.ID
}

// requests returns the logged requests of an operation.
func (r *watchRig) requests(op string) []scctest.Request {
	var out []scctest.Request
	for _, q := range r.f.srv.Requests() {
		if q.Operation == op && q.StatusCode != 401 {
			out = append(out, q)
		}
	}
	return out
}

// connTracker keeps the client's connections so that a test can drop
// them, as a network failure would.
type connTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *connTracker) add(n net.Conn) net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conns = append(c.conns, n)
	return n
}

// dropAll closes every connection made so far.
func (c *connTracker) dropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.conns {
		n.Close()
	}
	c.conns = nil
}

func TestWatcherDeliversChangesOverOneStreamPerGroup(t *testing.T) {
	r := newWatchRig(t, 5)
	// Two groups by GroupingInformation: user0000-0002 and user0003-0004,
	// listed out of order to show the anchor is the first alphabetically.
	grouping := map[string]string{
		"user0002@contoso.example": "EXCH-A", "user0000@contoso.example": "EXCH-A", "user0001@contoso.example": "EXCH-A",
		"user0004@contoso.example": "EXCH-B", "user0003@contoso.example": "EXCH-B",
	}
	w, stop := r.start(t, WithWatchGrouping(grouping))
	waitStreaming(t, w, 5)

	id1 := r.addItem(t, "user0001@contoso.example", "one")
	id4 := r.addItem(t, "user0004@contoso.example", "four")
	r.waitCreated(t, "user0001@contoso.example", id1)
	r.waitCreated(t, "user0004@contoso.example", id4)
	for _, c := range r.changes {
		if c.Folder != "inbox" || c.FolderID.Distinguished != ews.FolderInbox {
			t.Errorf("change of %s is for folder %q (%+v), want inbox", c.Mailbox, c.Folder, c.FolderID)
		}
	}

	anchorOf := map[string]string{
		"user0000@contoso.example": "user0000@contoso.example", "user0001@contoso.example": "user0000@contoso.example",
		"user0002@contoso.example": "user0000@contoso.example",
		"user0003@contoso.example": "user0003@contoso.example", "user0004@contoso.example": "user0003@contoso.example",
	}
	for _, m := range w.Mailboxes() {
		if m.Anchor != anchorOf[m.Mailbox] {
			t.Errorf("Mailboxes(): %s has anchor %s, want %s", m.Mailbox, m.Anchor, anchorOf[m.Mailbox])
		}
	}
	subs := r.requests("Subscribe")
	if len(subs) != 5 {
		t.Errorf("%d Subscribe requests, want 5 (one per mailbox)", len(subs))
	}
	for _, q := range subs {
		if q.AnchorMailbox != anchorOf[q.Impersonated] {
			t.Errorf("Subscribe impersonating %s sent X-AnchorMailbox %q, want its group's anchor %s", q.Impersonated, q.AnchorMailbox, anchorOf[q.Impersonated])
		}
	}
	streams := r.requests("GetStreamingEvents")
	got := map[string]int{}
	for _, q := range streams {
		got[q.Impersonated]++
		if q.AnchorMailbox != q.Impersonated {
			t.Errorf("GetStreamingEvents impersonating %s sent X-AnchorMailbox %q", q.Impersonated, q.AnchorMailbox)
		}
	}
	want := map[string]int{"user0000@contoso.example": 1, "user0003@contoso.example": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("GetStreamingEvents per impersonated mailbox = %v, want %v (one stream per group, impersonating its anchor)", got, want)
	}
	// Sync traffic is not notification traffic: it routes by the mailbox.
	for _, q := range r.requests("SyncFolderItems") {
		if q.AnchorMailbox != q.Impersonated {
			t.Errorf("SyncFolderItems impersonating %s sent X-AnchorMailbox %q", q.Impersonated, q.AnchorMailbox)
		}
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

func TestWatcherReconnectsAfterDroppedConnection(t *testing.T) {
	r := newWatchRig(t, 3)
	w, _ := r.start(t)
	waitStreaming(t, w, 3)
	before := len(r.requests("GetStreamingEvents"))

	r.conns.dropAll()
	id := r.addItem(t, "user0002@contoso.example", "after the drop")
	r.waitCreated(t, "user0002@contoso.example", id)
	waitStreaming(t, w, 3)

	if n := len(r.requests("GetStreamingEvents")); n <= before {
		t.Errorf("%d GetStreamingEvents after the drop, want more than %d (a reconnection)", n, before)
	}
	if n := len(r.requests("Subscribe")); n != 3 {
		t.Errorf("%d Subscribe requests, want 3: a reconnection keeps the subscriptions", n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	resynced := 0
	for _, st := range r.status {
		if st.State == WatchResyncing && st.Time.After(time.Time{}) {
			resynced++
		}
	}
	if resynced < 3 {
		t.Errorf("%d resyncing reports, want at least 3: a dropped connection may have lost events", resynced)
	}
}

func TestWatcherResyncsAfterMissedEvents(t *testing.T) {
	r := newWatchRig(t, 2)
	w, _ := r.start(t)
	waitStreaming(t, w, 2)
	syncsBefore := len(r.requests("SyncFolderItems"))

	if err := r.f.srv.Inject(scctest.MessageError(ews.ErrorMissedNotificationEvents),
		scctest.ForOperation("GetStreamingEvents"), scctest.Times(1)); err != nil {
		t.Fatal(err)
	}
	r.conns.dropAll()
	waitFor(t, "a resync with ErrorMissedNotificationEvents", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, st := range r.status {
			if st.State == WatchResyncing && st.Code == ews.ErrorMissedNotificationEvents {
				return true
			}
		}
		return false
	})
	waitStreaming(t, w, 2)
	id := r.addItem(t, "user0001@contoso.example", "after the loss")
	r.waitCreated(t, "user0001@contoso.example", id)
	if n := len(r.requests("SyncFolderItems")); n < syncsBefore+2 {
		t.Errorf("%d SyncFolderItems, want at least %d: both mailboxes resync", n, syncsBefore+2)
	}
	if n := len(r.requests("Subscribe")); n != 2 {
		t.Errorf("%d Subscribe requests, want 2: ErrorMissedNotificationEvents keeps the subscriptions", n)
	}
}

func TestWatcherResubscribesLostSubscription(t *testing.T) {
	r := newWatchRig(t, 2)
	w, _ := r.start(t)
	waitStreaming(t, w, 2)
	if err := r.f.srv.Inject(scctest.MessageError(ews.ErrorSubscriptionNotFound),
		scctest.ForOperation("GetStreamingEvents"), scctest.Times(1)); err != nil {
		t.Fatal(err)
	}
	r.conns.dropAll()
	waitFor(t, "new subscriptions", func() bool { return len(r.requests("Subscribe")) >= 4 })
	waitStreaming(t, w, 2)
	id := r.addItem(t, "user0000@contoso.example", "after the loss")
	r.waitCreated(t, "user0000@contoso.example", id)
}

func TestWatcherRestartResumesFromSavedPositions(t *testing.T) {
	r := newWatchRig(t, 3)
	// Saves only when Run ends: the organization is not rewritten per event.
	w, stop := r.start(t, WithSaveInterval(time.Hour))
	waitStreaming(t, w, 3)
	v0 := mustGet(t, r.store, r.orgID).Version
	first := map[string]string{}
	for _, u := range r.users {
		first[u.PrimarySMTP] = r.addItem(t, u.PrimarySMTP, "before the restart")
	}
	for m, id := range first {
		r.waitCreated(t, m, id)
	}
	if v := mustGet(t, r.store, r.orgID).Version; v != v0 {
		t.Errorf("organization version %d while running, want %d: positions are saved in batches", v, v0)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	o := mustGet(t, r.store, r.orgID)
	if o.Version != v0+1 {
		t.Errorf("organization version %d after Run, want %d (one final save)", o.Version, v0+1)
	}
	subIDs := map[string]string{}
	for _, u := range o.Users {
		if u.Sync.SyncStates["inbox"] == "" || u.Sync.Watch == nil || u.Sync.Watch.SubscriptionID == "" {
			t.Fatalf("user %s has sync states %v and watch %+v after Run, want the inbox state and the subscription", u.PrimarySMTP, u.Sync.SyncStates, u.Sync.Watch)
		}
		subIDs[u.PrimarySMTP] = u.Sync.Watch.SubscriptionID
	}

	// While stopped: a new item, and one subscription vanishes.
	second := r.addItem(t, "user0001@contoso.example", "while stopped")
	// The subscription lives on its group anchor's backend; the fake's
	// direct API ends it wherever it is.
	if err := r.f.srv.ExpireSubscription(subIDs["user0002@contoso.example"]); err != nil {
		t.Fatalf("ExpireSubscription: %v", err)
	}
	third := r.addItem(t, "user0002@contoso.example", "while unsubscribed")

	r.mu.Lock()
	r.changes = nil
	r.mu.Unlock()
	r.f.srv.ResetRequests()
	w2, _ := r.start(t, WithSaveInterval(time.Hour))
	r.waitCreated(t, "user0001@contoso.example", second)
	r.waitCreated(t, "user0002@contoso.example", third)
	waitStreaming(t, w2, 3)
	for m, id := range first {
		if slices.Contains(r.created(m), id) {
			t.Errorf("item %s of %s handed again after the restart, though its position was saved", id, m)
		}
	}
	subs := r.requests("Subscribe")
	if len(subs) != 1 || subs[0].Impersonated != "user0002@contoso.example" {
		var who []string
		for _, q := range subs {
			who = append(who, q.Impersonated)
		}
		t.Errorf("Subscribe after the restart for %v, want only user0002 (the others resume their subscriptions)", who)
	}
}

func mustGet(t *testing.T, s org.Store, id string) *org.Organization {
	t.Helper()
	o, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return o
}

// TestWatcherObeysStartWatcherOff: a plan with StartWatcher off keeps Run
// from watching, before any request; turned on, the same organization is
// watched.
func TestWatcherObeysStartWatcherOff(t *testing.T) {
	r := newWatchRig(t, 2)
	setStart := func(on bool) {
		t.Helper()
		_, err := org.Modify(context.Background(), r.store, r.orgID, func(o *org.Organization) error {
			o.Provisioning = &org.ProvisioningPlan{BaselineFolders: []string{"inbox"}, StartWatcher: on}
			return nil
		})
		if err != nil {
			t.Fatalf("Modify: %v", err)
		}
	}
	setStart(false)
	w, err := NewWatcher(r.store, r.orgID, r.handler, r.options()...)
	if err != nil {
		t.Fatalf("NewWatcher: %v", err)
	}
	before := len(r.f.srv.Requests())
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	err = w.Run(ctx)
	if !errors.Is(err, ErrWatchingOff) || !strings.Contains(err.Error(), "StartWatcher") {
		t.Fatalf("Run with StartWatcher off = %v, want ErrWatchingOff naming StartWatcher", err)
	}
	if n := len(r.f.srv.Requests()) - before; n != 0 {
		t.Errorf("Run with StartWatcher off sent %d requests, want none", n)
	}
	setStart(true)
	w, stop := r.start(t)
	waitStreaming(t, w, 2)
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with StartWatcher on, after cancel = %v, want context.Canceled", err)
	}
}
