package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sccsync/scc/examples/internal/account"
	"github.com/sccsync/scc/scctest"
)

func TestRunDemo(t *testing.T) {
	tests := []struct {
		which string
		code  int
		want  []string
	}{
		{"ok", 0, []string{"✓  Impersonation", "Verdict: PASS with warnings."}},
		{"out-of-scope", 1, []string{"✗  Impersonation", "ErrorImpersonateUserDenied", "Get-ManagementScope", `Verdict: FAIL at "Impersonation".`}},
		{"no-mailbox", 1, []string{"ErrorNonExistentMailbox", `Verdict: FAIL at "Impersonation".`}},
		{"proxy-address", 1, []string{"is a secondary (proxy) address", "primary SMTP address instead of"}},
	}
	for _, tt := range tests {
		t.Run(tt.which, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code, err := run(context.Background(), flags{demo: true, demoMailbox: tt.which, writeTest: true}, &out, &errOut)
			if err != nil || code != tt.code {
				t.Fatalf("run(-demo -demo-mailbox %s) = %d, %v; want %d, nil; stderr:\n%s", tt.which, code, err, tt.code, errOut.String())
			}
			text := strings.Join(strings.Fields(out.String()), " ") // undo the wrapping
			for _, w := range tt.want {
				if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestRunRealServer drives the real-server flags against a fake over plain
// HTTP with NTLM: password from the environment, JSON output, and a wrong
// password that fails the logon step without printing the password.
func TestRunRealServer(t *testing.T) {
	srv := scctest.NewServer(t, scctest.WithAuth(scctest.AuthNTLM))
	if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: "anna@contoso.example"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddServiceAccount(`CONTOSO\svc-sync`, "Real-Secret-1", scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	f := flags{Flags: account.Flags{EWSURL: srv.EWSURL(), Logon: `CONTOSO\svc-sync`, Auth: "ntlm", InsecureHTTP: true},
		mailbox: "anna@contoso.example", json: true, writeTest: true}

	t.Setenv("SCC_PASSWORD", "")
	var out, errOut bytes.Buffer
	if code, err := run(context.Background(), f, &out, &errOut); code != 2 || err == nil || !strings.Contains(err.Error(), "SCC_PASSWORD") {
		t.Errorf("run() without a password = %d, %v; want exit 2 naming SCC_PASSWORD", code, err)
	}

	t.Setenv("SCC_PASSWORD", "Real-Secret-1")
	out.Reset()
	if code, err := run(context.Background(), f, &out, &errOut); code != 0 || err != nil {
		t.Fatalf("run() = %d, %v; want 0, nil; output:\n%s", code, err, out.String())
	}
	var got struct {
		Verdict string `json:"verdict"`
		Steps   []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if got.Verdict != "warning" || len(got.Steps) != 12 || got.Steps[11].Status != "pass" {
		t.Errorf("verdict %q, %d steps, write test %+v; want warning (http:// and Exchange 2019), 12, pass", got.Verdict, len(got.Steps), got.Steps)
	}

	t.Setenv("SCC_PASSWORD", "Wrong-Secret-2")
	out.Reset()
	f.json = false
	if code, err := run(context.Background(), f, &out, &errOut); code != 1 || err != nil {
		t.Fatalf("run() with a wrong password = %d, %v; want 1, nil", code, err)
	}
	if !strings.Contains(out.String(), `Verdict: FAIL at "Service account logon".`) || strings.Contains(out.String(), "Wrong-Secret-2") {
		t.Errorf("wrong-password output must fail at the logon and never print the password:\n%s", out.String())
	}
	if n := srv.Stats().FailedLogons; len(n) != 1 {
		t.Errorf("FailedLogons = %v, want one account with one failure", n)
	}
}

func TestRunUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code, err := run(context.Background(), flags{Flags: account.Flags{EWSURL: "https://mail.contoso.example/EWS/Exchange.asmx"}}, &out, &errOut); code != 2 || err == nil {
		t.Errorf("run() without -logon and -mailbox = %d, %v; want 2 and an error", code, err)
	}
	t.Setenv("SCC_CLIENT_SECRET", "")
	f := flags{Flags: account.Flags{Tenant: "contoso.onmicrosoft.com", ClientID: "3f2b8c1e-5d4a-4e7b-9c61-0a1b2c3d4e5f"}, mailbox: "anna@contoso.example"}
	if code, err := run(context.Background(), f, &out, &errOut); code != 2 || err == nil || !strings.Contains(err.Error(), "SCC_CLIENT_SECRET") {
		t.Errorf("run() app-only without a secret = %d, %v; want 2 naming SCC_CLIENT_SECRET", code, err)
	}
}
