package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sccsync/scc/examples/internal/account"
	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/scctest"
)

func TestRunDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	code, err := run(context.Background(), flags{demo: true, concurrency: 10}, &out, &errOut)
	if err != nil || code != 0 {
		t.Fatalf("run(-demo) = %d, %v; stderr:\n%s", code, err, errOut.String())
	}
	for _, want := range []string{"out-of-scope", "no-mailbox", "Checked 41 of 41 users", "What to do:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo table lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "41/41 users") {
		t.Errorf("progress on stderr lacks the final line:\n%s", errOut.String())
	}
}

// TestRunRealServer drives the real-server path (flags, CSV import,
// password from the environment) against a fake over plain HTTP with NTLM.
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
	f := flags{Flags: account.Flags{EWSURL: srv.EWSURL(), Logon: `CONTOSO\svc-sync`, Auth: "ntlm", InsecureHTTP: true},
		users: csvFile, concurrency: 4, json: true}

	t.Setenv("SCC_PASSWORD", "")
	var out, errOut bytes.Buffer
	if code, err := run(context.Background(), f, &out, &errOut); code != 2 || err == nil || !strings.Contains(err.Error(), "SCC_PASSWORD") {
		t.Errorf("run() without a password = %d, %v; want exit 2 naming SCC_PASSWORD", code, err)
	}

	t.Setenv("SCC_PASSWORD", "Real-Secret-1")
	out.Reset()
	errOut.Reset()
	code, err := run(context.Background(), f, &out, &errOut)
	if err != nil || code != 1 {
		t.Fatalf("run() = %d, %v, want exit 1 (one user out of scope); stderr:\n%s", code, err, errOut.String())
	}
	var rep impersonation.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("-json output does not parse: %v\n%s", err, out.String())
	}
	if rep.Counts[impersonation.StatusOK] != 1 || rep.Counts[impersonation.StatusOutOfScope] != 1 {
		t.Errorf("counts = %v, want 1 ok and 1 out-of-scope", rep.Counts)
	}
	if strings.Contains(out.String()+errOut.String(), "Real-Secret-1") {
		t.Errorf("output contains the password")
	}

	// -password works, loudly.
	t.Setenv("SCC_PASSWORD", "")
	f.Password = "Real-Secret-1"
	errOut.Reset()
	if code, _ := run(context.Background(), f, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "WARNING") {
		t.Errorf("run(-password) = %d, stderr %q; want the check to run with a warning", code, errOut.String())
	}
}

// TestBenchmarkCountsOnlyCheckedUsers: a benchmark run cancelled after 100
// of 1,000 users reports the throughput and the ideal time of the users it
// checked, and says how many were not checked, instead of dividing all
// 1,000 by the short wall time.
func TestBenchmarkCountsOnlyCheckedUsers(t *testing.T) {
	f := flags{demo: true, users: "1000", concurrency: 4}
	d, _, err := startDemo(f)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := append(d.Options(), impersonation.WithConcurrency(4), impersonation.WithProgress(func(p impersonation.Progress) {
		if p.Done == 100 {
			cancel()
		}
	}))
	var out bytes.Buffer
	if _, err := benchmark(ctx, d.Org, f, opts, &out); err == nil {
		t.Fatalf("benchmark() after a cancel = nil error, want the stop")
	}
	var checked, notChecked int
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "checked") {
			fmt.Sscanf(line, "checked %d (%d not checked", &checked, &notChecked)
		}
	}
	if checked < 100 || checked >= 1000 || checked+notChecked != 1000 {
		t.Fatalf("benchmark output =\n%s\nwant a checked line with at least 100 of 1000 users and the rest not checked", out.String())
	}
	rep := &impersonation.Report{Total: 1000, Counts: impersonation.Counts{impersonation.StatusOK: checked, impersonation.StatusNotChecked: notChecked}}
	st := benchStatsOf(rep, 2*time.Second, 10*time.Millisecond, 4)
	if st.checked != checked || st.throughput != float64(checked)/2 || st.ideal != time.Duration(checked)*10*time.Millisecond/4 {
		t.Errorf("benchStatsOf(%d of 1000 checked, 2s, 10ms, 4) = %+v, want throughput and ideal of the checked users", checked, st)
	}
}
