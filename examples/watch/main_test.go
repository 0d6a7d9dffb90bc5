package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sccsync/scc/examples/internal/account"
	"github.com/sccsync/scc/scctest"
)

// syncBuffer is a bytes.Buffer safe for the test to read while run writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var changeLine = regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d{3} Create +\S+@contoso\.example inbox item `)

func TestRunDemo(t *testing.T) {
	var out, errOut syncBuffer
	// -changes ends the run; -duration only bounds it.
	f := flags{demo: true, users: "8", rate: 20, changes: 30, duration: 2 * time.Minute, every: 100 * time.Millisecond}
	code, err := run(context.Background(), f, &out, &errOut)
	if code != 0 || err != nil {
		t.Fatalf("run(-demo) = %d, %v; stderr:\n%s", code, err, errOut.String())
	}
	if got := len(changeLine.FindAllString(out.String(), -1)); got != 30 {
		t.Errorf("printed %d changes, want 30 (-changes 30):\n%s", got, out.String())
	}
	if !strings.Contains(out.String(), "30 changes in ") {
		t.Errorf("no summary line:\n%s", out.String())
	}
	if !regexp.MustCompile(`(?m)^-- \d+ connections \(\d+ open at the server\), \d+ mailboxes streaming, [\d.]+ events/s`).MatchString(out.String()) {
		t.Errorf("no live count line:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "Activated 8 of 8 users") {
		t.Errorf("stderr lacks the activation line:\n%s", errOut.String())
	}
}

func TestRunRealServer(t *testing.T) {
	srv := scctest.NewServer(t, scctest.WithAuth(scctest.AuthNTLM))
	for _, a := range []string{"anna@contoso.example", "ben@contoso.example"} {
		if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: a}); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.AddServiceAccount(`CONTOSO\svc-sync`, "Real-Secret-1", scctest.ImpersonateScope("anna@contoso.example")); err != nil {
		t.Fatal(err)
	}
	csvFile := filepath.Join(t.TempDir(), "mailboxes.csv")
	csv := "#TYPE Selected.Microsoft.Exchange.Data.Directory.Management.Mailbox\r\n\"PrimarySmtpAddress\",\"UserPrincipalName\"\r\n\"anna@contoso.example\",\"anna@contoso.example\"\r\n\"ben@contoso.example\",\"ben@contoso.example\"\r\n"
	if err := os.WriteFile(csvFile, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCC_PASSWORD", "Real-Secret-1")
	f := flags{Flags: account.Flags{EWSURL: srv.EWSURL(), Logon: `CONTOSO\svc-sync`, Auth: "ntlm", InsecureHTTP: true},
		users: csvFile, changes: 3, duration: 2 * time.Minute, every: 100 * time.Millisecond}

	// Mail arrives in both mailboxes while the watch runs: only anna's
	// (in the service account's scope) is watched.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, a := range []string{"anna@contoso.example", "ben@contoso.example"} {
				if _, err := srv.AddItem(a, "inbox", scctest.Message{Subject: "hello"}); err != nil {
					t.Errorf("AddItem(%s): %v", a, err)
					return
				}
			}
		}
	}()
	var out, errOut syncBuffer
	code, err := run(ctx, f, &out, &errOut)
	cancel()
	if code != 0 || err != nil {
		t.Fatalf("run() = %d, %v; stderr:\n%s", code, err, errOut.String())
	}
	lines := changeLine.FindAllString(out.String(), -1)
	if len(lines) != 3 {
		t.Errorf("printed %d changes, want 3:\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "anna@contoso.example") {
			t.Errorf("change of an unwatched mailbox: %q", l)
		}
	}
	if !strings.Contains(errOut.String(), "Activated 1 of 2 users (1 failed)") {
		t.Errorf("stderr lacks the activation line:\n%s", errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), "Real-Secret-1") {
		t.Error("the output contains the password")
	}
}

func TestRunBench(t *testing.T) {
	var out, errOut syncBuffer
	f := flags{demo: true, bench: true, users: "30", rate: 50, duration: time.Second, every: 50 * time.Millisecond,
		memProf: filepath.Join(t.TempDir(), "heap.pprof")}
	code, err := run(context.Background(), f, &out, &errOut)
	if code != 0 || err != nil {
		t.Fatalf("run(-demo -bench) = %d, %v; stderr:\n%s", code, err, errOut.String())
	}
	for _, re := range []string{
		`(?m)^mailboxes    30 watched for `,
		// 30 mailboxes are one group of at most 200: one stream.
		`(?m)^connections  1 open at the last count, at most 1 at once; \d+ GetStreamingEvents requests logged, 30 Subscribe`,
		`(?m)^changes      \d+ made, \d+ seen by the handler`,
		`(?m)^heap         [\d.]+ MB in use before the watcher`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output lacks %s:\n%s", re, out.String())
		}
	}
	if changeLine.MatchString(out.String()) {
		t.Errorf("-bench printed single changes:\n%s", out.String())
	}
	if st, err := os.Stat(f.memProf); err != nil || st.Size() == 0 {
		t.Errorf("heap profile: %v", err)
	}
}
