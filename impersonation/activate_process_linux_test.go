//go:build linux

package impersonation

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// The tests in this file re-execute the test binary as child processes that
// activate an organization kept in a FileStore, against a fake Exchange
// server that lives in the parent (so it outlives them): a crash, or a
// second process, must never leave a mailbox with a folder or category
// twice.

const (
	helperEnv    = "SCC_IMPERSONATION_ACTIVATE_HELPER"
	helperDirEnv = "SCC_IMPERSONATION_STORE_DIR"
	helperKeyEnv = "SCC_IMPERSONATION_STORE_KEY"
	helperOrgEnv = "SCC_IMPERSONATION_ORG_ID"
)

// TestActivateHelperProcess is not a test: it is the body of the child
// processes. It opens the store, says "ready" and activates.
func TestActivateHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process for the multi-process activation tests")
	}
	key, err := org.ParseFileStoreKey(os.Getenv(helperKeyEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	store, err := org.OpenFileStore(os.Getenv(helperDirEnv), org.FileStoreOptions{Key: key})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	ar, err := Activate(context.Background(), store, os.Getenv(helperOrgEnv), proofOptions()...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	fmt.Printf("done: %d activated, %d provisioned, %d provision failed, version %d\n", ar.Activated, ar.Provisioned, ar.ProvisionFailed, ar.Version)
	os.Exit(0)
}

// processFixture is a fake with n mailboxes and an organization for it
// saved in a FileStore in a temporary directory.
func processFixture(t *testing.T, n int) (*scctest.Server, *org.FileStore, *org.Organization, []string) {
	t.Helper()
	srv, o := proofFake(t, n)
	key, err := org.NewFileStoreKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if o, err = store.Create(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), helperEnv+"=1", helperDirEnv+"="+dir, helperKeyEnv+"="+key.Encode(), helperOrgEnv+"="+o.ID)
	return srv, store, o, env
}

// child starts the helper process and waits until it is ready; lines
// collects what it prints.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	errb  strings.Builder
}

func startChild(t *testing.T, env []string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestActivateHelperProcess$", "-test.count=1")
	cmd.Env = env
	c := &child{cmd: cmd, lines: make(chan string, 16)}
	cmd.Stderr = &c.errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	select {
	case l := <-c.lines:
		if l != "ready" {
			t.Fatalf("helper said %q first, want ready", l)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("helper did not get ready within 60 s")
	}
	return c
}

// wait waits for the child and returns what it printed after "ready".
func (c *child) wait() (string, error) {
	var said []string
	for l := range c.lines {
		said = append(said, l)
	}
	err := c.cmd.Wait()
	return strings.Join(said, "; "), err
}

// An activation killed with SIGKILL at random points, 30 times, then run
// to completion: every mailbox holds each planned folder and category
// exactly once, and the store records every user. A kill point is a
// number of requests the fake has served to that child (so that it falls
// at the same place of the run however loaded the machine is) and a delay
// of up to 3 ms after it (so that it falls inside a request, a response or
// the store's write rather than between them). Early kills land in the
// check and the folder creation; as the folders accumulate, runs need
// fewer requests and some reach the store's write or finish, and later
// ones verify. The seed is logged; SCC_CRASH_SEED replays a run.
func TestActivateSurvivesKills(t *testing.T) {
	// A fresh run sends about 7 requests a user, one that finds the
	// folders made about 3, a verification 2: kill points up to 4.5
	// requests a user reach every phase (and some runs finish) within a
	// total CI affords under -race (some 7,000 requests).
	const users, kills = 100, 30
	const maxKillPoint = users * 9 / 2
	srv, store, o, env := processFixture(t, users)
	srv.SetLatency(time.Millisecond, time.Millisecond)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SCC_CRASH_SEED"); s != "" {
		if _, err := fmt.Sscan(s, &seed); err != nil {
			t.Fatalf("SCC_CRASH_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (SCC_CRASH_SEED=%d replays the kill points)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	finished := 0
	for i := range kills {
		point := rng.IntN(maxKillPoint)
		delay := time.Duration(rng.Int64N(int64(3 * time.Millisecond)))
		before := srv.Stats().Requests
		c := startChild(t, env)
		exited := make(chan struct{})
		var said string
		var err error
		go func() { said, err = c.wait(); close(exited) }()
		deadline := time.Now().Add(2 * time.Minute)
	poll:
		for srv.Stats().Requests-before < point {
			select {
			case <-exited:
				break poll
			case <-time.After(200 * time.Microsecond):
			}
			if time.Now().After(deadline) {
				_ = c.cmd.Process.Kill()
				t.Fatalf("run %d: the child sent %d requests in 2 minutes, want %d", i, srv.Stats().Requests-before, point)
			}
		}
		time.Sleep(delay)
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		sent := srv.Stats().Requests - before
		v := int64(-1)
		if cur, gerr := store.Get(context.Background(), o.ID); gerr == nil {
			v = cur.Version
		}
		switch {
		case err == nil:
			finished++
			t.Logf("run %2d: finished before its kill point %d (%d requests); store version %d: %s", i, point, sent, v, said)
		case isKilled(err):
			t.Logf("run %2d: killed at %d requests + %v (%d served); store version %d", i, point, delay.Round(time.Microsecond), sent, v)
		default:
			t.Fatalf("run %2d: helper failed: %v\n%s", i, err, c.errb.String())
		}
	}
	t.Logf("%d of %d runs finished before their kill point", finished, kills)

	srv.SetLatency(0, 0)
	ar, err := Activate(context.Background(), store, o.ID, proofOptions()...)
	if err != nil {
		t.Fatalf("Activate(after the kills) error = %v", err)
	}
	if ar.Provisioned != users || ar.ProvisionFailed != 0 || !ar.Saved {
		t.Errorf("Activate(after the kills) = %+v, want all %d provisioned and saved", ar, users)
	}
	logRaces(t, srv)
	assertProvisionedOnce(t, srv, store, o.ID)
	assertNoWrites(t, srv, store, o.ID)
}

// isKilled reports whether err is the exit of a process killed by SIGKILL.
func isKilled(err error) bool {
	ee, ok := err.(*exec.ExitError)
	if !ok {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// Two processes activate the same organization in one FileStore at once:
// the mailboxes end as after one activation.
func TestActivateTwoProcessesAtOnce(t *testing.T) {
	srv, store, o, env := processFixture(t, 100)
	srv.SetLatency(time.Millisecond, time.Millisecond)
	var wg sync.WaitGroup
	children := []*child{startChild(t, env), startChild(t, env)}
	results := make([]string, len(children))
	errs := make([]error, len(children))
	for i, c := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.wait()
		}()
	}
	wg.Wait()
	for i, c := range children {
		if errs[i] != nil {
			t.Fatalf("process %d: %v\n%s", i, errs[i], c.errb.String())
		}
		t.Logf("process %d: %s", i, results[i])
	}
	srv.SetLatency(0, 0)
	logRaces(t, srv)
	assertProvisionedOnce(t, srv, store, o.ID)
	assertNoWrites(t, srv, store, o.ID)
}
