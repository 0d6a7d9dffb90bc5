//go:build linux

package impersonation

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// The kill test runs the watcher in a child process (this test binary
// again) against the fake in the parent, with the positions in a
// FileStore. The child's handler appends every batch, with its SyncState,
// to a file before it returns, as a caller that keeps its copy on disk
// would; the parent rebuilds the caller's copy from that file, and a
// restarted child resumes from the states in it (a replay from the
// watcher's last save would be net, and could not report the deletes of
// items the first child handed between that save and the kill).

const (
	watchHelperEnv  = "SCC_WATCH_SOAK_HELPER"
	watchViewLogEnv = "SCC_WATCH_SOAK_VIEW_LOG"
)

// soakLine is one handled batch in the view log.
type soakLine struct {
	Mailbox string      `json:"m"`
	Folder  string      `json:"f"`
	Start   bool        `json:"s,omitempty"`
	Full    bool        `json:"full,omitempty"`
	Changes [][3]string `json:"c,omitempty"` // type, id, change key
	State   string      `json:"st"`
}

// logPositions is the kill test's PositionStore, as a caller that needs
// its copy exact across crashes keeps one (see [ChangeHandler]): the
// subscriptions from the organization, the sync states from the view log,
// where the handler wrote each with its batch.
type logPositions struct {
	PositionStore
	path string
}

func (p logPositions) LoadPositions(ctx context.Context) (map[string]MailboxPosition, error) {
	pos, err := p.PositionStore.LoadPositions(ctx)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p.path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for l := range bytes.SplitSeq(data, []byte("\n")) {
		var sl soakLine
		if json.Unmarshal(l, &sl) != nil {
			continue // empty, or cut by the kill: not handled
		}
		k := org.AddressKey(sl.Mailbox)
		mp := pos[k]
		if mp.SyncStates == nil {
			mp.SyncStates = map[string]string{}
		}
		mp.SyncStates[sl.Folder] = sl.State
		pos[k] = mp
	}
	return pos, nil
}

// TestWatchSoakHelperProcess is not a test: it is the body of the child
// processes of TestWatcherSoakSurvivesKill. It watches the organization
// until it is killed.
func TestWatchSoakHelperProcess(t *testing.T) {
	if os.Getenv(watchHelperEnv) == "" {
		t.Skip("helper process for the watcher kill test")
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	key, err := org.ParseFileStoreKey(os.Getenv(helperKeyEnv))
	if err != nil {
		fail(err)
	}
	store, err := org.OpenFileStore(os.Getenv(helperDirEnv), org.FileStoreOptions{Key: key})
	if err != nil {
		fail(err)
	}
	path := os.Getenv(watchViewLogEnv)
	if data, err := os.ReadFile(path); err == nil && len(data) > 0 && data[len(data)-1] != '\n' {
		// The killed process's last line was cut: end it.
		if err := appendFile(path, []byte("\n")); err != nil {
			fail(err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fail(err)
	}
	handler := func(_ context.Context, c MailboxChanges) error {
		l := soakLine{Mailbox: c.Mailbox, Folder: c.Folder, Start: c.FullSyncStart, Full: c.FullSync, State: c.SyncState}
		for _, ch := range c.Changes {
			l.Changes = append(l.Changes, [3]string{string(ch.Type), ch.ItemID.ID, ch.ItemID.ChangeKey})
		}
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = f.Write(append(b, '\n'))
		return err
	}
	orgID := os.Getenv(helperOrgEnv)
	w, err := NewWatcher(store, orgID, handler, soakWatchOptions(WithPositionStore(logPositions{OrgPositions(store, orgID), path}))...)
	if err != nil {
		fail(err)
	}
	fmt.Println("ready")
	fail(w.Run(context.Background()))
}

func appendFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readSoakView rebuilds the caller's copy from the view log; it returns
// the view, the number of lines and of cut lines skipped.
func readSoakView(t *testing.T, path string) (*soakView, int, int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	v := newSoakView()
	lines, cut := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l soakLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			cut++
			continue
		}
		lines++
		c := MailboxChanges{Mailbox: l.Mailbox, Folder: l.Folder, FullSyncStart: l.Start, FullSync: l.Full}
		for _, ch := range l.Changes {
			c.Changes = append(c.Changes, ews.ItemSyncChange{Type: ews.ChangeType(ch[0]), ItemID: ews.ItemID{ID: ch[1], ChangeKey: ch[2]}})
		}
		v.apply(c)
	}
	return v, lines, cut
}

// startWatchChild starts a watcher child and waits until it is ready.
func startWatchChild(t *testing.T, env []string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchSoakHelperProcess$", "-test.count=1")
	cmd.Env = env
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		ready <- sc.Text()
		for sc.Scan() {
		}
	}()
	select {
	case l := <-ready:
		if l != "ready" {
			t.Fatalf("watcher child said %q first, want ready; stderr: %s", l, errb.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("watcher child did not get ready within 60 s")
	}
	return cmd, &errb
}

// No lost change across kill -9s: the watcher child is killed with
// SIGKILL at random points of the changes (three times by default,
// SCC_WATCH_SOAK_KILLS sets how many), one of them a moment after the
// restart before it, while it catches up; more changes are made while no
// watcher runs, and each new child resumes from the positions the ones
// before saved. The caller's copy built from every run's batches equals
// the fake's state, and every change reached it. The faults of
// TestWatcherSoakNoLostChange run all along; the size is the same (100
// mailboxes, 1,000 changes; SCC_WATCH_SOAK=full for the Proof's). The
// seed replays the kill points too.
func TestWatcherSoakSurvivesKill(t *testing.T) {
	size := soakSizeFor(t)
	seed := soakSeed(t)
	srv := scctest.NewServer(t)
	if err := srv.AddServiceAccount(testLogon, testPassword, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	users := make([]org.User, size.mailboxes)
	addrs := make([]string, size.mailboxes)
	for i := range users {
		addrs[i] = fmt.Sprintf("user%04d@contoso.example", i)
		if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: addrs[i]}); err != nil {
			t.Fatal(err)
		}
		users[i] = org.User{PrimarySMTP: addrs[i], ImpersonateBy: org.IdentityPrimarySMTP, Sync: org.SyncState{Status: org.Active}}
	}
	key, err := org.NewFileStoreKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	o, err := store.Create(context.Background(), &org.Organization{Name: "Contoso", Users: users, Email: org.EmailConfiguration{
		AccessType: org.Impersonation, AccountLogon: testLogon, Password: org.NewSecret(testPassword),
		EWSURL: srv.EWSURL(), AuthMethod: org.AuthNTLM, AllowInsecureHTTP: true}})
	if err != nil {
		t.Fatal(err)
	}
	viewLog := filepath.Join(t.TempDir(), "view.log")
	env := append(os.Environ(), watchHelperEnv+"=1", helperDirEnv+"="+dir, helperKeyEnv+"="+key.Encode(),
		helperOrgEnv+"="+o.ID, watchViewLogEnv+"="+viewLog)

	world := newSoakWorld(t, srv, addrs)
	start := time.Now()
	cmd, errb := startWatchChild(t, env)
	faultCtx, stopFaults := context.WithCancel(context.Background())
	faultsDone := make(chan soakFaults, 1)
	go func() { faultsDone <- world.faults(faultCtx, t, size, seed) }()
	kills := soakKillPlan(t, seed, size.changes)
	next := 0 // the next entry of kills
	var firstLines int
	runSoakChanges(t, world, size, seed, 0, size.changes, func(i int) {
		for next < len(kills) && (kills[next].kill == i || kills[next].restart == i) {
			k := &kills[next]
			if k.kill == i && !k.killed {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				if err := cmd.Wait(); !isKilled(err) {
					t.Fatalf("watcher child ended with %v, want killed by SIGKILL; stderr: %s", err, errb.String())
				}
				k.killed = true
				if next == 0 {
					_, firstLines, _ = readSoakView(t, viewLog)
				}
			}
			if k.restart != i {
				return
			}
			cmd, errb = startWatchChild(t, env)
			next++
		}
	})
	if next != len(kills) {
		t.Fatalf("%d of %d kills and restarts happened", next, len(kills))
	}
	stopFaults()
	fs := <-faultsDone
	changed := time.Since(start)

	deadline := time.Now().Add(time.Minute)
	var view *soakView
	var lines, cut int
	for {
		view, lines, cut = readSoakView(t, viewLog)
		d, n := view.diff(srv, addrs)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the caller's view differs from the fake's state a minute after the last change (%d differences):\n%s\nchild stderr: %s", n, strings.Join(d, "\n"), errb.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if cut > len(kills) {
		t.Errorf("%d cut lines in the view log, want at most the %d the kills cut", cut, len(kills))
	}
	resets := readSoakViewFrom(t, viewLog, firstLines)
	t.Logf("%d mailboxes, %d changes (%v) in %s, killed and restarted at %v; %d batches before the first kill, %d after (%d full-sync starts after it), %d cut lines; faults: %d rounds, %d streams dropped, %d subscriptions expired, %d lost events, %d spells of ErrorServerBusy; in sync %s after the last change",
		size.mailboxes, size.changes, world.kinds, changed.Round(time.Millisecond), kills, firstLines, lines-firstLines, resets, cut,
		fs.rounds, fs.dropped, fs.expired, fs.lost, fs.busy, (time.Since(start) - changed).Round(time.Millisecond))
	view.checkDelivered(t, world.log)
}

// soakKill is one kill of the watcher child before change kill and its
// restart before change restart.
type soakKill struct {
	kill, restart int
	killed        bool
}

func (k soakKill) String() string { return fmt.Sprintf("%d/%d", k.kill, k.restart) }

// soakKillPlan picks the kills of a soak of n changes from seed: in each
// of equal spans of the middle 80 % a kill at a random point, restarted
// after up to a fifth of the span; the second kill comes 0 to 3 changes
// after the first restart, while that child still catches up.
func soakKillPlan(t *testing.T, seed uint64, n int) []soakKill {
	t.Helper()
	count := 3
	if s := os.Getenv("SCC_WATCH_SOAK_KILLS"); s != "" {
		if _, err := fmt.Sscan(s, &count); err != nil || count < 1 || count > n/20 {
			t.Fatalf("SCC_WATCH_SOAK_KILLS=%q: want 1 to %d", s, n/20)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	lo, span := n/10, (8*n/10)/count
	var plan []soakKill
	for j := range count {
		kill := lo + j*span + rng.IntN(span/2)
		if j == 1 {
			kill = plan[0].restart + rng.IntN(4)
		}
		plan = append(plan, soakKill{kill: kill, restart: kill + 1 + rng.IntN(max(span/5, 1))})
	}
	return plan
}

// readSoakViewFrom counts the FullSyncStart batches of the view log from
// line skip on (the second run's).
func readSoakViewFrom(t *testing.T, path string, skip int) (resets int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for l := range bytes.SplitSeq(data, []byte("\n")) {
		var sl soakLine
		if json.Unmarshal(l, &sl) != nil {
			continue
		}
		if n++; n > skip && sl.Start {
			resets++
		}
	}
	return resets
}
