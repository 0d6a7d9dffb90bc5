package org_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sccsync/scc/org"
)

// The tests in this file re-execute the test binary as child processes that
// write to a shared file store, to prove what a real crash or a second
// process would do to it.

const helperEnv = "SCC_ORG_TEST_HELPER"

// TestHelperProcess is not a test: it is the body of the child processes.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process for the multi-process tests")
	}
	s, err := org.OpenFileStore(os.Getenv("SCC_ORG_DIR"), org.FileStoreOptions{Key: testKey(7)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	switch mode {
	case "crash":
		fmt.Println("ready")
		for {
			saved, err := org.Modify(ctx, s, "crash", func(o *org.Organization) error {
				fillStep(o, o.Version+1)
				return nil
			})
			if err != nil {
				fmt.Fprintln(os.Stderr, "helper:", err)
				os.Exit(2)
			}
			fmt.Printf("committed %d\n", saved.Version)
		}
	case "increment":
		n, _ := strconv.Atoi(os.Getenv("SCC_ORG_N"))
		for range n {
			_, err := org.Modify(ctx, s, "counter", func(o *org.Organization) error {
				v, err := strconv.Atoi(o.Name)
				if err != nil {
					return err
				}
				o.Name = strconv.Itoa(v + 1)
				return nil
			})
			if err != nil {
				fmt.Fprintln(os.Stderr, "helper:", err)
				os.Exit(2)
			}
		}
		os.Exit(0)
	}
}

// fillStep makes o's content a function of version, so a reader can tell
// whether what it reads is one consistent write.
func fillStep(o *org.Organization, version int64) {
	o.Name = fmt.Sprintf("step-%d", version)
	o.Email.Password = org.NewSecret(fmt.Sprintf("pw-%d", version))
	n := int(version%37) + 1
	o.Users = o.Users[:0]
	for i := range n {
		o.Users = append(o.Users, org.User{PrimarySMTP: fmt.Sprintf("u%d-%d@contoso.com", i, version), DisplayName: strings.Repeat("x", int(version%200))})
	}
}

func checkStep(t *testing.T, o *org.Organization) {
	t.Helper()
	wantName := fmt.Sprintf("step-%d", o.Version)
	if o.Name != wantName || o.Email.Password.Reveal() != fmt.Sprintf("pw-%d", o.Version) || len(o.Users) != int(o.Version%37)+1 {
		t.Fatalf("organization at version %d is inconsistent: name %q, %d users", o.Version, o.Name, len(o.Users))
	}
	for i, u := range o.Users {
		if u.PrimarySMTP != fmt.Sprintf("u%d-%d@contoso.com", i, o.Version) {
			t.Fatalf("organization at version %d has user %q from another version", o.Version, u.PrimarySMTP)
		}
	}
}

func helperCommand(t *testing.T, mode, dir string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode, "SCC_ORG_DIR=" + dir}, env...)...)
	return cmd
}

func TestFileStoreSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 30 processes")
	}
	dir := t.TempDir()
	ctx := context.Background()
	first := &org.Organization{ID: "crash"}
	fillStep(first, 1)
	if _, err := openFileStore(t, dir).Create(ctx, first); err != nil {
		t.Fatal(err)
	}
	last := int64(1)
	total := 0
	for round := range 30 {
		cmd := helperCommand(t, "crash", dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		// The kill comes after the child's first commit of the round, so
		// every round proves a write and a kill, however loaded the machine.
		firstCommit := make(chan struct{})
		before := total
		var mu sync.Mutex
		reported := last
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line := sc.Text()
				if line == "ready" {
					close(ready)
					continue
				}
				if v, ok := strings.CutPrefix(line, "committed "); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					mu.Lock()
					reported = max(reported, n)
					total++
					if total == before+1 {
						close(firstCommit)
					}
					mu.Unlock()
				}
			}
			io.Copy(io.Discard, stdout)
		}()
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: helper never became ready; stderr: %s", round, stderr.String())
		}
		select {
		case <-firstCommit:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: helper never committed; stderr: %s", round, stderr.String())
		}
		// Let it write for a random while, then kill it mid-flight.
		time.Sleep(time.Duration(rand.IntN(40000)) * time.Microsecond)
		cmd.Process.Kill()
		<-done
		cmd.Wait()
		if s := stderr.String(); s != "" {
			t.Fatalf("round %d: helper failed: %s", round, s)
		}

		s := openFileStore(t, dir) // as a restarted process would
		got, err := s.Get(ctx, "crash")
		if err != nil {
			t.Fatalf("round %d: after kill, Get error: %v", round, err)
		}
		mu.Lock()
		want := reported
		mu.Unlock()
		// The child may have committed one write it did not live to report.
		if got.Version < want || got.Version > want+1 {
			t.Fatalf("round %d: stored version %d, last reported commit %d", round, got.Version, want)
		}
		checkStep(t, got)
		last = got.Version
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".tmp-") {
				t.Errorf("round %d: temporary file %s not cleaned up on open", round, e.Name())
			}
		}
	}
	if total < 30 {
		t.Errorf("the helpers committed only %d writes in 30 rounds; the test proved little", total)
	}
	t.Logf("30 kills, %d commits, final version %d", total, last)
}

func TestFileStoreSharedByProcesses(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := openFileStore(t, dir).Create(ctx, &org.Organization{ID: "counter", Name: "0"}); err != nil {
		t.Fatal(err)
	}
	const procs, each = 2, 40
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range procs {
		cmd := helperCommand(t, "increment", dir, "SCC_ORG_N="+strconv.Itoa(each))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		outs = append(outs, &out)
	}
	// This process writes too, through its own FileStore.
	s := openFileStore(t, filepath.Clean(dir))
	for range each {
		if _, err := org.Modify(ctx, s, "counter", func(o *org.Organization) error {
			v, err := strconv.Atoi(o.Name)
			o.Name = strconv.Itoa(v + 1)
			return err
		}); err != nil {
			t.Fatalf("Modify error: %v", err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outs[i].String())
		}
	}
	got, err := s.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	want := (procs + 1) * each
	if got.Name != strconv.Itoa(want) || got.Version != int64(want+1) {
		t.Errorf("after %d increments from %d processes: counter %s, version %d; want %d and %d (an update was lost)", want, procs+1, got.Name, got.Version, want, want+1)
	}
}
