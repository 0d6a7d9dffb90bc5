package impersonation

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// The soak tests make thousands of changes in many mailboxes through the
// fake's direct API (as other clients of the mailboxes would) while the
// fake drops the streaming connections, expires subscriptions, loses
// events and answers ErrorServerBusy for a while, every one to two
// seconds; then they check that the caller's copy of every watched folder,
// built by the handler from the changes alone, equals the fake's state,
// and that every change reached the caller.

// soakWatched are the folders the soak watches; soakUnwatched is where
// items also move to and from.
var soakWatched = []string{"inbox", "drafts"}

const soakUnwatched = "junkemail"

// soakSize is the size of a soak: mailboxes, changes, the pause between
// two changes and the range of the pause between two rounds of faults.
type soakSize struct {
	mailboxes, changes int
	pace               time.Duration
	faultMin, faultMax time.Duration
}

// soakSizeFor returns the soak's size: 100 mailboxes and 1,000 changes
// under -short and by default (so that go test -race ./... stays fast),
// the Proof's 1,000 mailboxes and 10,000 changes with SCC_WATCH_SOAK=full.
func soakSizeFor(t *testing.T) soakSize {
	if os.Getenv("SCC_WATCH_SOAK") == "full" && !testing.Short() {
		return soakSize{mailboxes: 1000, changes: 10000, pace: 2 * time.Millisecond, faultMin: time.Second, faultMax: 2 * time.Second}
	}
	t.Log("100 mailboxes, 1,000 changes; SCC_WATCH_SOAK=full runs the 1,000 mailboxes and 10,000 changes of the Proof")
	return soakSize{mailboxes: 100, changes: 1000, pace: 4 * time.Millisecond, faultMin: 300 * time.Millisecond, faultMax: 700 * time.Millisecond}
}

// soakChange is one change the soak made to the fake, as the caller should
// come to know it: an item of a watched folder that now has a change key
// (ck), or that is gone from it (ck "").
type soakChange struct {
	mailbox, folder, id, ck string
	kind                    string // create, update, delete, move-in, move-out
}

func (c soakChange) key() string { return c.mailbox + "|" + c.folder + "|" + c.id }

// soakWorld is the fake and the changes made to it. Only the goroutine
// that makes changes touches live and log.
type soakWorld struct {
	srv       *scctest.Server
	mailboxes []string
	live      map[string]map[string][]string // mailbox, folder (watched or not): item ids
	log       []soakChange
	kinds     map[string]int
}

func newSoakWorld(t *testing.T, srv *scctest.Server, mailboxes []string) *soakWorld {
	t.Helper()
	w := &soakWorld{srv: srv, mailboxes: mailboxes, live: map[string]map[string][]string{}, kinds: map[string]int{}}
	for _, m := range mailboxes {
		w.live[m] = map[string][]string{}
		// One item before the watcher starts, for its first full sync.
		id, err := srv.AddItem(m, "inbox", scctest.Message{Subject: "before"})
		if err != nil {
			t.Fatal(err)
		}
		w.live[m]["inbox"] = []string{id.ID}
	}
	return w
}

func soakIsWatched(f string) bool { return slices.Contains(soakWatched, f) }

// change makes one random change: a create (40%), an update (25%), a
// delete (15%) or a move (20%) between inbox, drafts and junkemail.
func (w *soakWorld) change(t *testing.T, rng *rand.Rand) {
	t.Helper()
	m := w.mailboxes[rng.IntN(len(w.mailboxes))]
	folders := []string{"inbox", "drafts", soakUnwatched}
	var items []struct{ folder, id string }
	for _, f := range folders {
		for _, id := range w.live[m][f] {
			items = append(items, struct{ folder, id string }{f, id})
		}
	}
	p := rng.IntN(100)
	if len(items) == 0 || p < 40 {
		f := folders[rng.IntN(len(folders))]
		id, err := w.srv.AddItem(m, f, scctest.Message{Subject: fmt.Sprintf("c%d", len(w.log))})
		if err != nil {
			t.Fatalf("AddItem: %v", err)
		}
		w.live[m][f] = append(w.live[m][f], id.ID)
		w.record(soakChange{m, f, id.ID, id.ChangeKey, "create"})
		return
	}
	pick := items[rng.IntN(len(items))]
	switch {
	case p < 65:
		id, err := w.srv.SetItemSubject(m, pick.id, fmt.Sprintf("u%d", len(w.log)))
		if err != nil {
			t.Fatalf("SetItemSubject: %v", err)
		}
		w.record(soakChange{m, pick.folder, id.ID, id.ChangeKey, "update"})
	case p < 80:
		if err := w.srv.DeleteItem(m, pick.id); err != nil {
			t.Fatalf("DeleteItem: %v", err)
		}
		w.remove(m, pick.folder, pick.id)
		w.record(soakChange{m, pick.folder, pick.id, "", "delete"})
	default:
		to := folders[rng.IntN(len(folders))]
		for to == pick.folder {
			to = folders[rng.IntN(len(folders))]
		}
		id, err := w.srv.MoveItem(m, pick.id, to)
		if err != nil {
			t.Fatalf("MoveItem: %v", err)
		}
		w.remove(m, pick.folder, pick.id)
		w.live[m][to] = append(w.live[m][to], id.ID)
		w.record(soakChange{m, pick.folder, pick.id, "", "move-out"})
		w.record(soakChange{m, to, id.ID, id.ChangeKey, "move-in"})
		w.kinds["move"]++
	}
}

func (w *soakWorld) remove(m, f, id string) {
	w.live[m][f] = slices.DeleteFunc(w.live[m][f], func(s string) bool { return s == id })
}

// record logs a change of a watched folder.
func (w *soakWorld) record(c soakChange) {
	if c.kind != "move-in" && c.kind != "move-out" {
		w.kinds[c.kind]++
	}
	if soakIsWatched(c.folder) {
		w.log = append(w.log, c)
	}
}

// soakFaults counts the faults of a soak.
type soakFaults struct {
	rounds, dropped, expired, lost, busy int
}

// faults injects a round of faults after every pause of faultMin to
// faultMax until ctx is done: it drops every stream, expires and loses the
// events of the subscriptions of 2% of the mailboxes, and alternately
// starts and ends a spell of ErrorServerBusy (back-off 100 ms) on every
// request. It ends the spell when ctx is done.
func (w *soakWorld) faults(ctx context.Context, t *testing.T, size soakSize, seed uint64) soakFaults {
	rng := rand.New(rand.NewPCG(seed, 1))
	var st soakFaults
	busy := false
	defer func() {
		if busy {
			w.srv.ClearFaults()
		}
	}()
	for {
		pause := size.faultMin + time.Duration(rng.Int64N(int64(size.faultMax-size.faultMin)))
		select {
		case <-ctx.Done():
			return st
		case <-time.After(pause):
		}
		st.rounds++
		st.dropped += w.srv.DropStreams()
		for range max(1, len(w.mailboxes)/50) {
			n, err := w.srv.ExpireSubscriptions(w.mailboxes[rng.IntN(len(w.mailboxes))])
			if err != nil {
				t.Errorf("ExpireSubscriptions: %v", err)
			}
			st.expired += n
			n, err = w.srv.LoseEvents(w.mailboxes[rng.IntN(len(w.mailboxes))])
			if err != nil {
				t.Errorf("LoseEvents: %v", err)
			}
			st.lost += n
		}
		if busy {
			w.srv.ClearFaults()
		} else {
			if err := w.srv.Inject(scctest.ServerBusy(100 * time.Millisecond)); err != nil {
				t.Errorf("Inject: %v", err)
			}
			st.busy++
		}
		busy = !busy
	}
}

// soakView is the caller's copy of the watched folders, built from the
// changes handed to the handler, and what reached it.
type soakView struct {
	mu      sync.Mutex
	folders map[string]map[string]string // mailbox|folder: item id -> change key
	got     map[string]bool              // mailbox|folder|id|change key ("" for a Delete) handed
	batches int
	resets  int
}

func newSoakView() *soakView {
	return &soakView{folders: map[string]map[string]string{}, got: map[string]bool{}}
}

// apply applies one batch. It holds the view's lock only while it applies.
func (v *soakView) apply(c MailboxChanges) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.batches++
	k := c.Mailbox + "|" + c.Folder
	if c.FullSyncStart {
		v.folders[k] = map[string]string{}
		v.resets++
	}
	f := v.folders[k]
	if f == nil {
		f = map[string]string{}
		v.folders[k] = f
	}
	for _, ch := range c.Changes {
		switch ch.Type {
		case ews.ChangeCreate, ews.ChangeUpdate:
			f[ch.ItemID.ID] = ch.ItemID.ChangeKey
			v.got[k+"|"+ch.ItemID.ID+"|"+ch.ItemID.ChangeKey] = true
		case ews.ChangeDelete:
			delete(f, ch.ItemID.ID)
			v.got[k+"|"+ch.ItemID.ID+"|"] = true
		}
	}
}

// diff compares the view with the fake's watched folders and returns the
// differences (at most 10) and their number.
func (v *soakView) diff(srv *scctest.Server, mailboxes []string) ([]string, int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	n := 0
	add := func(format string, args ...any) {
		if n++; n <= 10 {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	for _, m := range mailboxes {
		for _, f := range soakWatched {
			items, err := srv.Items(m, f)
			if err != nil {
				add("Items(%s, %s): %v", m, f, err)
				continue
			}
			have := v.folders[m+"|"+f]
			for _, it := range items {
				switch ck, ok := have[it.ID]; {
				case !ok:
					add("%s %s: item %s missing from the caller's view", m, f, it.ID)
				case ck != it.ChangeKey:
					add("%s %s: item %s has change key %s in the view, %s in the fake", m, f, it.ID, ck, it.ChangeKey)
				}
			}
			if len(have) != len(items) {
				add("%s %s: %d items in the view, %d in the fake", m, f, len(have), len(items))
			}
		}
	}
	return out, n
}

// waitSame waits until the view equals the fake's state, failing the test
// with the differences after within.
func (v *soakView) waitSame(t *testing.T, srv *scctest.Server, mailboxes []string, within time.Duration, w *Watcher) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		d, n := v.diff(srv, mailboxes)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			if w != nil {
				for _, st := range w.Mailboxes() {
					if st.State != WatchStreaming {
						t.Logf("watcher: %s is %s (%s)", st.Mailbox, st.State, st.Code)
					}
				}
				// What the watcher holds of the mailboxes that differ.
				all := strings.Join(d, " ")
				w.mu.Lock()
				for _, mb := range w.mailboxes {
					if strings.Contains(all, mb.addr+" ") {
						t.Logf("watcher: %s dirty=%v queued=%v syncing=%v timer=%v retryAt=%v resync=%v subscribed=%v onStream=%v",
							mb.addr, mb.dirty, mb.queued, mb.syncing, mb.timer, mb.retryAt, mb.resync, mb.subID != "", mb.onStream)
					}
				}
				w.mu.Unlock()
			}
			t.Fatalf("the caller's view differs from the fake's state %s after the last change (%d differences):\n%s", within, n, strings.Join(d, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkDelivered checks that every change reached the caller: a create or
// update as itself (id and change key) unless a later change of the same
// item superseded it (a sync reports an item's latest state only); a
// delete as a Delete unless the caller never had the item (created and
// gone between two syncs). It logs how many changes came each way.
func (v *soakView) checkDelivered(t *testing.T, log []soakChange) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	last := map[string]int{}
	for i, c := range log {
		last[c.key()] = i
	}
	known := map[string]bool{} // mailbox|folder|id the caller had in some state
	for k := range v.got {
		if i := strings.LastIndexByte(k, '|'); i >= 0 && !strings.HasSuffix(k, "|") {
			known[k[:i]] = true
		}
	}
	verbatim, superseded, unseen, lost := 0, 0, 0, 0
	for i, c := range log {
		switch {
		case v.got[c.key()+"|"+c.ck]:
			verbatim++
		case c.ck != "" && last[c.key()] > i:
			superseded++
		case c.ck == "" && !known[c.key()]:
			unseen++
		default:
			if lost++; lost <= 10 {
				t.Errorf("change %d (%s of %s in %s of %s, change key %q) never reached the caller", i, c.kind, c.id, c.folder, c.mailbox, c.ck)
			}
		}
	}
	t.Logf("%d changes of watched folders: %d handed as themselves, %d superseded by a later change of the item, %d deletes of items the caller never had, %d lost; %d batches, %d full-sync starts",
		len(log), verbatim, superseded, unseen, lost, v.batches, v.resets)
}

// soakWatchOptions are the watcher options of the soaks.
func soakWatchOptions(more ...Option) []Option {
	return append([]Option{WithRetryBudget(RetryBudget{BaseDelay: time.Millisecond}), WithWatchFolders(soakWatched...),
		WithConcurrency(MaxConcurrency), WithSaveInterval(200 * time.Millisecond)}, more...)
}

// runSoakChanges makes size.changes changes, pausing size.pace between
// them: changes from to to, calling between (if not nil) before each.
func runSoakChanges(t *testing.T, w *soakWorld, size soakSize, seed uint64, from, to int, between func(i int)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, uint64(from)))
	for i := from; i < to; i++ {
		if between != nil {
			between(i)
		}
		w.change(t, rng)
		time.Sleep(size.pace)
	}
}

// soakSeed returns the seed of a soak, logged; SCC_WATCH_SOAK_SEED
// replays one.
func soakSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SCC_WATCH_SOAK_SEED"); s != "" {
		if _, err := fmt.Sscan(s, &seed); err != nil {
			t.Fatalf("SCC_WATCH_SOAK_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (SCC_WATCH_SOAK_SEED=%d replays the changes and faults)", seed, seed)
	return seed
}

// No lost change: while the fake drops every stream, expires
// subscriptions, loses events and answers ErrorServerBusy for a while,
// every 0.3 to 0.7 s (1 to 2 s at full size), changes in random mailboxes
// all reach the handler and the caller's copy ends equal to the fake's
// state. 100 mailboxes and 1,000 changes by default; SCC_WATCH_SOAK=full
// runs the Proof's 1,000 mailboxes and 10,000 changes (several minutes
// under -race on a loaded machine).
func TestWatcherSoakNoLostChange(t *testing.T) {
	size := soakSizeFor(t)
	seed := soakSeed(t)
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, size.mailboxes)
	addrs := make([]string, len(users))
	for i := range users {
		users[i].Sync.Status = org.Active
		addrs[i] = users[i].PrimarySMTP
	}
	store := org.NewMemoryStore()
	o, err := store.Create(context.Background(), &org.Organization{Name: "Contoso", Users: users, Email: f.cfg})
	if err != nil {
		t.Fatal(err)
	}
	world := newSoakWorld(t, f.srv, addrs)
	view := newSoakView()
	handler := func(_ context.Context, c MailboxChanges) error {
		view.apply(c)
		return nil
	}
	w, err := NewWatcher(store, o.ID, handler, soakWatchOptions(WithHTTPClient(f.srv.Client()))...)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- w.Run(ctx) }()
	defer func() {
		cancel()
		<-runDone
	}()

	faultCtx, stopFaults := context.WithCancel(context.Background())
	faultsDone := make(chan soakFaults, 1)
	go func() { faultsDone <- world.faults(faultCtx, t, size, seed) }()
	runSoakChanges(t, world, size, seed, 0, size.changes, nil)
	stopFaults()
	fs := <-faultsDone
	changed := time.Since(start)

	view.waitSame(t, f.srv, addrs, time.Minute, w)
	t.Logf("%d mailboxes, %d changes (%v) in %s; faults: %d rounds, %d streams dropped, %d subscriptions expired, %d lost events, %d spells of ErrorServerBusy; in sync %s after the last change; %d requests",
		size.mailboxes, size.changes, world.kinds, changed.Round(time.Millisecond), fs.rounds, fs.dropped, fs.expired, fs.lost, fs.busy,
		(time.Since(start) - changed).Round(time.Millisecond), f.srv.Stats().Requests)
	view.checkDelivered(t, world.log)
	if fs.dropped == 0 || fs.expired == 0 || fs.lost == 0 || fs.busy == 0 {
		t.Errorf("faults %+v: want every kind at least once", fs)
	}
}
