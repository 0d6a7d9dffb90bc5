package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sccsync/scc/examples/internal/account"
	"github.com/sccsync/scc/scctest"
)

func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo(context.Background(), t.TempDir(), &out); err != nil {
		t.Fatalf("runDemo() error = %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"Activate: 10 activated, 0 renewed, 3 failed",
		"; 10 provisioned (0 repaired), 0 provisioning failed",
		"Activate again: 0 activated, 0 renewed, 0 failed, 0 need renewal, 13 unchanged",
		"Activate again: 13 requests, 0 writes",
		"Renew: 0 activated, 10 renewed, 3 failed, 0 need renewal, 0 unchanged, 0 not checked, 0 skipped",
		"10 of 13 users active",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunRealServer drives the real-server mode against a fake over plain
// HTTP with NTLM: first run (store key created, organization created from
// the CSV, mailboxes provisioned), second run (no writes), deactivation
// with removal, with the mailboxes checked through scctest's direct API.
func TestRunRealServer(t *testing.T) {
	srv := scctest.NewServer(t, scctest.WithAuth(scctest.AuthNTLM))
	for _, a := range []string{"anna@contoso.example", "ben@contoso.example"} {
		if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: a}); err != nil {
			t.Fatal(err)
		}
	}
	const password = "Real-Secret-1"
	if err := srv.AddServiceAccount(`CONTOSO\svc-sync`, password, scctest.ImpersonateScope("anna@contoso.example")); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	csvFile := filepath.Join(tmp, "mailboxes.csv")
	csv := "#TYPE Selected.Microsoft.Exchange.Data.Directory.Management.Mailbox\r\n\"PrimarySmtpAddress\",\"UserPrincipalName\"\r\n\"anna@contoso.example\",\"anna@contoso.example\"\r\n\"ben@contoso.example\",\"ben@contoso.example\"\r\n"
	if err := os.WriteFile(csvFile, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	acct := account.Flags{EWSURL: srv.EWSURL(), Logon: `CONTOSO\svc-sync`, Auth: "ntlm", InsecureHTTP: true}
	base := flags{dir: filepath.Join(tmp, "store"), keyFile: filepath.Join(tmp, "store.key"),
		orgName: "activate", system: "CRM", concurrency: 4}
	t.Setenv("SCC_PASSWORD", password)

	runOK := func(t *testing.T, f flags, wantCode int) string {
		t.Helper()
		var out, errOut bytes.Buffer
		code, err := run(context.Background(), f, &out, &errOut)
		if code != wantCode {
			t.Fatalf("run() = %d, %v, want exit %d; stdout:\n%s\nstderr:\n%s", code, err, wantCode, out.String(), errOut.String())
		}
		if strings.Contains(out.String()+errOut.String(), password) {
			t.Fatalf("the output holds the password:\n%s\n%s", out.String(), errOut.String())
		}
		return out.String() + errOut.String()
	}

	t.Run("usage", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			f    flags
			want string
		}{
			{"no dir", flags{keyFile: base.keyFile}, "need -dir"},
			{"no key", flags{dir: base.dir}, "need -store-key"},
			{"key inside dir", flags{dir: base.dir, keyFile: filepath.Join(base.dir, "k")}, "inside -dir"},
			{"renew and deactivate", flags{dir: base.dir, keyFile: base.keyFile, renew: true, deactivate: true}, "choose one"},
			{"remove without deactivate", flags{dir: base.dir, keyFile: base.keyFile, remove: true}, "goes with -deactivate"},
		} {
			var out, errOut bytes.Buffer
			code, err := run(context.Background(), tc.f, &out, &errOut)
			if code != 2 || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: run() = %d, %v; want exit 2 naming %q", tc.name, code, err, tc.want)
			}
		}
	})

	first := base
	first.Flags, first.users = acct, csvFile
	out := runOK(t, first, 1) // ben is outside the management scope
	for _, want := range []string{"New store key written to", "Organization \"activate\" created", "Activate: 1 activated", "1 provisioned"} {
		if !strings.Contains(out, want) {
			t.Errorf("first run lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "ben@contoso.example") || !strings.Contains(out, "ErrorImpersonateUserDenied") {
		t.Errorf("first run does not report ben's failure:\n%s", out)
	}
	assertFolders(t, srv, "anna@contoso.example", 1)
	assertFolders(t, srv, "ben@contoso.example", 0)

	// The second run takes everything from the store.
	out = runOK(t, base, 1)
	if !strings.Contains(out, "Activate: 2 requests, 0 writes") || !strings.Contains(out, "2 unchanged") {
		t.Errorf("second run wrote or changed something:\n%s", out)
	}
	assertFolders(t, srv, "anna@contoso.example", 1)

	undo := base
	undo.deactivate, undo.remove = true, true
	// ben's removal fails: the service account cannot open his mailbox to
	// make sure no folder of ours is there, and the report says why.
	out = runOK(t, undo, 1)
	if !strings.Contains(out, "Deactivate: 2 deactivated, 1 removed, 1 remove failed") || !strings.Contains(out, "Get-ManagementRoleAssignment") {
		t.Errorf("deactivation report:\n%s", out)
	}
	assertFolders(t, srv, "anna@contoso.example", 0)
}

// assertFolders checks that the mailbox holds want copies of each folder of
// the default plan for "CRM".
func assertFolders(t *testing.T, srv *scctest.Server, addr string, want int) {
	t.Helper()
	for _, f := range []struct{ parent, name, class string }{
		{"contacts", "CRM Contacts", "IPF.Contact"},
		{"tasks", "CRM Tasks", "IPF.Task"},
		{"msgfolderroot", "CRM", "IPF.Note"},
	} {
		fs, err := srv.Folders(addr, f.parent)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range fs {
			if x.DisplayName == f.name && x.FolderClass == f.class {
				n++
			}
		}
		if n != want {
			t.Errorf("%s: %d folders %q (%s) under %s, want %d", addr, n, f.name, f.class, f.parent, want)
		}
	}
}
