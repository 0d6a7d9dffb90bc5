package scctest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

// A service account in the server's own domain is one AD account whether
// the client writes DOMAIN\user or its UPN user@dnsdomain, over Basic and
// over NTLM (go-ntlmssp sends DOMAIN\user as user+domain, user@domain as
// the user with an empty domain).
func TestServiceAccountLogonForms(t *testing.T) {
	const pw = "Svc-pw1"
	tests := []struct {
		name       string
		registered string
		logon      string
		wantStatus int
	}{
		{"DOMAIN registered, UPN logon", `CONTOSO\svc-sync`, "svc-sync@contoso.example", 200},
		{"DOMAIN registered, DOMAIN logon", `CONTOSO\svc-sync`, `CONTOSO\svc-sync`, 200},
		{"UPN registered, DOMAIN logon", "svc-sync@contoso.example", `CONTOSO\svc-sync`, 200},
		{"UPN registered, DNS DOMAIN logon", "svc-sync@contoso.example", `contoso.example\svc-sync`, 200},
		{"UPN registered, UPN logon", "SVC-Sync@Contoso.Example", "svc-sync@contoso.example", 200},
		{"bare registered, UPN logon", "svc-sync", "svc-sync@contoso.example", 200},
		{"bare registered, DOMAIN logon", "svc-sync", `CONTOSO\svc-sync`, 200},
		{"other-domain UPN, DOMAIN logon", "svc-sync@fabrikam.example", `CONTOSO\svc-sync`, 401},
		{"other-domain UPN, UPN logon", "svc-sync@fabrikam.example", "svc-sync@fabrikam.example", 200},
		{"other DOMAIN, server UPN logon", `FABRIKAM\svc-sync`, "svc-sync@contoso.example", 401},
	}
	for _, scheme := range []AuthScheme{AuthBasic, AuthNTLM} {
		for _, tt := range tests {
			t.Run(string(scheme)+"/"+tt.name, func(t *testing.T) {
				s := NewServer(t, WithAuth(scheme))
				if _, err := s.AddMailbox(Mailbox{PrimarySMTP: alice}); err != nil {
					t.Fatal(err)
				}
				if err := s.AddServiceAccount(tt.registered, pw, ImpersonateAll()); err != nil {
					t.Fatalf("AddServiceAccount(%q) = %v, want nil", tt.registered, err)
				}
				var c *http.Client
				if scheme == AuthNTLM {
					c = ntlmClient()
				}
				r := do(t, s, c, req{user: tt.logon, pass: pw, body: envelope(version("Exchange2013_SP1")+imp(alice), getInbox)})
				if r.status != tt.wantStatus {
					t.Fatalf("%s logon as %q (registered %q): status = %d, want %d\n%s", scheme, tt.logon, tt.registered, r.status, tt.wantStatus, r.body)
				}
				if tt.wantStatus == 200 {
					if len(r.codes) != 1 || r.codes[0] != ews.NoError {
						t.Errorf("codes = %v, want [NoError]", r.codes)
					}
					for _, name := range []string{tt.registered, tt.logon} {
						if err := s.SetPassword(name, pw); err != nil {
							t.Errorf("SetPassword(%q) = %v, want nil (same account)", name, err)
						}
					}
				}
			})
		}
	}
}

func TestServiceAccountDuplicateForms(t *testing.T) {
	tests := []struct {
		first, second string
		wantDup       bool
	}{
		{`CONTOSO\svc-sync`, "svc-sync@contoso.example", true},
		{"svc-sync@contoso.example", `CONTOSO\svc-sync`, true},
		{"svc-sync@contoso.example", `contoso.example\SVC-SYNC`, true},
		{"svc-sync", "svc-sync@contoso.example", true},
		{"svc-sync@contoso.example", "svc-sync", true},
		{"svc-sync@fabrikam.example", `CONTOSO\svc-sync`, false},
		{`FABRIKAM\svc-sync`, "svc-sync@contoso.example", false},
		{"alice@contoso.example", "svc-sync@contoso.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.first+" then "+tt.second, func(t *testing.T) {
			s := NewServer(t)
			if err := s.AddServiceAccount(tt.first, "pw1", ImpersonateAll()); err != nil {
				t.Fatalf("AddServiceAccount(%q) = %v, want nil", tt.first, err)
			}
			err := s.AddServiceAccount(tt.second, "pw2", ImpersonateAll())
			if got := errorsIs(err, ErrDuplicate); got != tt.wantDup {
				t.Errorf("AddServiceAccount(%q) after %q = %v, want duplicate %v", tt.second, tt.first, err, tt.wantDup)
			}
		})
	}
	t.Run("mailbox owner alias", func(t *testing.T) {
		s := NewServer(t)
		if _, err := s.AddMailbox(Mailbox{PrimarySMTP: "svc-sync@contoso.example", UPN: "svc-sync@ad.contoso.example", Password: "pw"}); err != nil {
			t.Fatal(err)
		}
		// The owner logs on as CONTOSO\svc-sync; its implicit UPN is
		// svc-sync@contoso.example, so that is the same account.
		if err := s.AddServiceAccount("svc-sync@contoso.example", "pw2", ImpersonateAll()); !errorsIs(err, ErrDuplicate) {
			t.Errorf("AddServiceAccount(svc-sync@contoso.example) over owner CONTOSO\\svc-sync = %v, want ErrDuplicate", err)
		}
	})
	t.Run("WithDomain", func(t *testing.T) {
		s := NewServer(t, WithDomain("FABRIKAM", "fabrikam.example"))
		if err := s.AddServiceAccount(`FABRIKAM\svc-sync`, "pw1", ImpersonateAll()); err != nil {
			t.Fatal(err)
		}
		if err := s.AddServiceAccount("svc-sync@fabrikam.example", "pw2", ImpersonateAll()); !errorsIs(err, ErrDuplicate) {
			t.Errorf("AddServiceAccount(svc-sync@fabrikam.example) after FABRIKAM\\svc-sync = %v, want ErrDuplicate", err)
		}
		if err := s.AddServiceAccount("svc-sync@contoso.example", "pw2", ImpersonateAll()); err != nil {
			t.Errorf("AddServiceAccount(svc-sync@contoso.example) on a FABRIKAM server = %v, want nil (another domain)", err)
		}
	})
}

// Failed logons count against the account, whichever form names it: the
// lockout threshold is shared, and Stats().FailedLogons has one key, the
// logon as registered (lowercased).
func TestLockoutAcrossLogonForms(t *testing.T) {
	s := newTestServer(t, WithAuth(AuthBasic, AuthNTLM), WithLockout(3))
	body := envelope(version("Exchange2013_SP1")+imp(alice), getInbox)
	wrong := []struct {
		logon string
		ntlm  bool
	}{
		{"svc-sync@contoso.example", false},
		{`CONTOSO\svc-sync`, true},
		{"svc-sync@contoso.example", true},
	}
	for i, w := range wrong {
		var c *http.Client
		if w.ntlm {
			c = ntlmClient()
		}
		if r := do(t, s, c, req{user: w.logon, pass: "wrong", body: body}); r.status != 401 {
			t.Fatalf("wrong password #%d as %q: status = %d, want 401", i+1, w.logon, r.status)
		}
		if locked, want := s.Locked("svc-sync@contoso.example"), i == len(wrong)-1; locked != want {
			t.Fatalf("Locked(svc-sync@contoso.example) after %d failures = %v, want %v", i+1, locked, want)
		}
	}
	if !s.Locked(testSvc) {
		t.Errorf("Locked(%s) = false, want true (same account)", testSvc)
	}
	if r := do(t, s, nil, req{user: "svc-sync@contoso.example", pass: testPassword, body: body}); r.status != 401 {
		t.Errorf("right password on the locked account by UPN: status = %d, want 401", r.status)
	}
	want := map[string]int{strings.ToLower(testSvc): 4}
	if got := s.Stats().FailedLogons; len(got) != 1 || got[strings.ToLower(testSvc)] != 4 {
		t.Errorf("Stats().FailedLogons = %v, want %v", got, want)
	}
	if err := s.Unlock("svc-sync@contoso.example"); err != nil {
		t.Fatalf("Unlock(svc-sync@contoso.example) = %v, want nil", err)
	}
	if r := do(t, s, ntlmClient(), req{user: "svc-sync@contoso.example", pass: testPassword, body: body}); r.status != 200 {
		t.Errorf("after Unlock, NTLM by UPN: status = %d, want 200", r.status)
	}
}
