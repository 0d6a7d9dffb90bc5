package impersonation

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// The handler's promise (ChangeHandler): a non-nil error leaves the
// position where it was and the folder is synced again, with the same
// changes, after a back-off; a watcher stopped meanwhile hands them again
// after its restart. The handler keeps its own lock only while it records,
// never while the watcher retries.
func TestWatcherRetriesFailedHandler(t *testing.T) {
	r := newWatchRig(t, 2)
	const target = "user0001@contoso.example"
	errCRM := errors.New("the CRM is down")
	var mu sync.Mutex
	failing := true
	var attempts [][]string // item ids of each failed batch with the flaky item
	var accepted []MailboxChanges
	handler := func(_ context.Context, c MailboxChanges) error {
		mu.Lock()
		defer mu.Unlock()
		flaky := slices.ContainsFunc(c.Changes, func(ch ews.ItemSyncChange) bool { return ch.Item.Subject == "flaky" })
		if flaky && failing {
			var ids []string
			for _, ch := range c.Changes {
				ids = append(ids, string(ch.Type)+" "+ch.ItemID.ID)
			}
			attempts = append(attempts, ids)
			return errCRM
		}
		accepted = append(accepted, c)
		return nil
	}
	shape := WithWatchItemShape(ews.ShapeIDOnly, []ews.FieldURI{ews.FieldItemSubject}, nil)
	run := func() func() {
		w, err := NewWatcher(r.store, r.orgID, handler, r.options(shape, WithSaveInterval(time.Hour))...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		waitStreaming(t, w, 2)
		return func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
		}
	}
	stop := run()
	id := r.addItem(t, target, "flaky")
	waitFor(t, "three failed attempts", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(attempts) >= 3
	})
	stop()

	mu.Lock()
	for i, a := range attempts {
		if !slices.Equal(a, attempts[0]) {
			t.Errorf("attempt %d handed %v, attempt 0 %v: a failed batch comes again with the same changes", i, a, attempts[0])
		}
	}
	if !slices.Contains(attempts[0], "Create "+id) {
		t.Errorf("failed batch %v, want the Create of %s", attempts[0], id)
	}
	failing = false
	accepted = nil
	mu.Unlock()
	r.mu.Lock()
	retrying := 0
	for _, st := range r.status {
		if st.Mailbox == target && st.State == WatchRetrying && errors.Is(st.Err, errCRM) {
			retrying++
		}
	}
	r.mu.Unlock()
	if retrying < 3 {
		t.Errorf("%d WatchRetrying reports wrapping the handler's error, want one per failure (3 or more)", retrying)
	}

	// The position stayed before the failed batch: after a restart the
	// change comes again.
	stop = run()
	defer stop()
	waitFor(t, "the flaky item handed after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range accepted {
			for _, ch := range c.Changes {
				if c.Mailbox == target && ch.Type == ews.ChangeCreate && ch.ItemID.ID == id {
					return true
				}
			}
		}
		return false
	})
}

// ErrorServerBusy's BackOffMilliseconds is honoured: after a throttled
// SyncFolderItems (the ews client's own retries used up) the watcher waits
// at least the server's back-off before it asks again, though its own
// back-off (1 ms) is shorter, and reports the mailbox as retrying with
// ErrorServerBusy; the change still arrives.
func TestWatcherHonoursServerBusyBackOff(t *testing.T) {
	r := newWatchRig(t, 1)
	const mbx = "user0000@contoso.example"
	w, _ := r.start(t)
	waitStreaming(t, w, 1)
	const backOff = 300 * time.Millisecond
	// The ews client tries 4 times; the fifth request is the watcher's
	// retry, which is throttled again; the sixth succeeds.
	if err := r.f.srv.Inject(scctest.ServerBusy(backOff), scctest.ForOperation("SyncFolderItems"),
		scctest.ForMailbox(mbx), scctest.Times(5)); err != nil {
		t.Fatal(err)
	}
	r.f.srv.ResetRequests()
	id := r.addItem(t, mbx, "while busy")
	r.waitCreated(t, mbx, id)

	syncs := r.requests("SyncFolderItems")
	sort.Slice(syncs, func(i, j int) bool { return syncs[i].Time.Before(syncs[j].Time) })
	busy := 0
	for i, q := range syncs {
		if q.Fault != ews.ErrorServerBusy {
			continue
		}
		busy++
		if i+1 >= len(syncs) {
			t.Fatalf("throttled request %d is the last SyncFolderItems; want a retry after it", i)
		}
		if gap := syncs[i+1].Time.Sub(q.Time); gap < backOff {
			t.Errorf("SyncFolderItems %d came %v after ErrorServerBusy with BackOffMilliseconds %d, want at least %v", i+1, gap, backOff.Milliseconds(), backOff)
		}
	}
	if busy != 5 {
		t.Errorf("%d throttled SyncFolderItems, want 5", busy)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.ContainsFunc(r.status, func(st MailboxStatus) bool {
		return st.Mailbox == mbx && st.State == WatchRetrying && st.Code == ews.ErrorServerBusy
	}) {
		t.Errorf("no WatchRetrying report with ErrorServerBusy for %s", mbx)
	}
}

// failingPositions is a PositionStore that never saves, as a process
// killed before its first save.
type failingPositions struct{ PositionStore }

func (failingPositions) SavePositions(context.Context, map[string]MailboxPosition) error {
	return errors.New("disk full")
}

// Regression: a full sync that follows one the handler has already seen
// (the positions were never saved) starts with a FullSyncStart batch, even
// for an emptied folder, so that the caller drops the items deleted
// meanwhile, which the sync reports in no way.
func TestWatcherFullSyncStartsAfterUnsavedPositions(t *testing.T) {
	r := newWatchRig(t, 2)
	view := newSoakView()
	handler := func(_ context.Context, c MailboxChanges) error {
		view.apply(c)
		return nil
	}
	a := r.addItem(t, "user0000@contoso.example", "a")
	r.addItem(t, "user0000@contoso.example", "b")
	only := r.addItem(t, "user0001@contoso.example", "only")
	addrs := []string{"user0000@contoso.example", "user0001@contoso.example"}
	pos := failingPositions{OrgPositions(r.store, r.orgID)}
	for run := range 2 {
		before := view.resets
		w, err := NewWatcher(r.store, r.orgID, handler, r.options(WithPositionStore(pos), WithWatchFolders(soakWatched...))...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		waitStreaming(t, w, 2)
		view.waitSame(t, r.f.srv, addrs, waitLong, w)
		cancel()
		<-done
		view.mu.Lock()
		if n := view.resets - before; n != 4 {
			t.Errorf("run %d: %d FullSyncStart batches, want 4 (two folders of two mailboxes, empty ones too)", run, n)
		}
		view.mu.Unlock()
		if run == 0 {
			// While stopped: deletes the next full sync cannot report.
			if err := r.f.srv.DeleteItem("user0000@contoso.example", a); err != nil {
				t.Fatal(err)
			}
			if err := r.f.srv.DeleteItem("user0001@contoso.example", only); err != nil {
				t.Fatal(err)
			}
		}
	}
	if o := mustGet(t, r.store, r.orgID); slices.ContainsFunc(o.Users, func(u org.User) bool { return u.Sync.Watch != nil }) {
		t.Errorf("positions saved though the store refused every save")
	}
}

// waitLogHandler keeps the slog records of one message.
type waitLogHandler struct {
	mu   sync.Mutex
	msg  string
	recs []slog.Record
}

func (h *waitLogHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *waitLogHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.mu.Lock()
		h.recs = append(h.recs, r.Clone())
		h.mu.Unlock()
	}
	return nil
}
func (h *waitLogHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *waitLogHandler) WithGroup(string) slog.Handler      { return h }

// Regression: the reconnection back-off starts afresh after a connection
// that worked. It grew with every drop of the run before, so that a
// stream dropped every few seconds soon waited 30 s before each
// reconnection, blind to events meanwhile.
func TestWatcherStreamBackOffRestartsAfterWorkingConnection(t *testing.T) {
	r := newWatchRig(t, 1)
	rec := &waitLogHandler{msg: "watcher: the group's event stream failed; reconnecting"}
	const base = 20 * time.Millisecond
	w, _ := r.start(t, WithRetryBudget(RetryBudget{BaseDelay: base}), WithLogger(slog.New(rec)))
	waitStreaming(t, w, 1)
	const drops = 8
	for i := range drops {
		before := len(r.requests("GetStreamingEvents"))
		if n := r.f.srv.DropStreams(); n != 1 {
			t.Fatalf("drop %d: DropStreams cut %d streams, want 1", i, n)
		}
		waitFor(t, "a new stream", func() bool { return len(r.requests("GetStreamingEvents")) > before })
		waitFor(t, "the stream open", func() bool { return w.Mailboxes()[0].State == WatchStreaming && r.f.srv.OpenStreams() == 1 })
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.recs) < drops {
		t.Fatalf("%d reconnection warnings, want %d", len(rec.recs), drops)
	}
	for i, r := range rec.recs {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "wait" {
				if d := a.Value.Duration(); d > base {
					t.Errorf("reconnection %d waits %v, want the first back-off %v: the connection before it worked", i, d, base)
				}
			}
			return true
		})
	}
}
