package impersonation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// TestCheckAppOnly: Exchange Online app-only OAuth through a bearer token
// passed in the EWS options. The app's scope (an application access policy)
// makes one mailbox out of scope; a blocked app stops at the preflight.
func TestCheckAppOnly(t *testing.T) {
	const appID = "8f3c2b1a-1111-4222-8333-944455556666"
	srv := scctest.NewTLSServer(t)
	var users []org.User
	for _, a := range []string{"anna@contoso.example", "ben@contoso.example"} {
		if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: a}); err != nil {
			t.Fatal(err)
		}
		users = append(users, org.User{PrimarySMTP: a})
	}
	if err := srv.AddToken("app-token", scctest.Token{Kind: scctest.AppOnly, AppID: appID, Scope: []string{"anna@contoso.example"}}); err != nil {
		t.Fatal(err)
	}
	cfg := org.EmailConfiguration{
		AccessType:   org.OnlineAppOnly,
		EWSURL:       srv.EWSURL(),
		TenantID:     "contoso.onmicrosoft.com",
		ClientID:     appID,
		ClientSecret: org.NewSecret("client-secret"),
	}
	token := ews.WithBearerToken(func(context.Context) (string, error) { return "app-token", nil })
	opts := []Option{WithEWSOptions(ews.WithHTTPClient(srv.Client()), token)}

	rep, err := CheckUsers(context.Background(), cfg, users, opts...)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	assertOneResultPerUser(t, rep, users)
	got := byAddress(rep)
	if r := got["anna@contoso.example"]; r.Status != StatusOK {
		t.Errorf("anna: %s %s %s, want ok", r.Status, r.Code, r.Message)
	}
	if r := got["ben@contoso.example"]; r.Status != StatusOutOfScope || !strings.Contains(r.Remediation, "application") {
		t.Errorf("ben: %s %s, remediation %q; want out-of-scope naming the application's access", r.Status, r.Code, r.Remediation)
	}
	if !strings.Contains(rep.ServiceAccount, appID) {
		t.Errorf("ServiceAccount = %q, want the application id", rep.ServiceAccount)
	}
	srv.AssertImpersonated(t, "anna@contoso.example")

	srv.BlockApp(appID)
	rep, err = CheckUsers(context.Background(), cfg, users, opts...)
	if err == nil || rep.Stopped == nil || rep.Stopped.Status != StatusBlockedByPolicy {
		t.Fatalf("CheckUsers() with a blocked app = %+v, %v; want a blocked-by-policy stop", rep.Stopped, err)
	}
	assertOneResultPerUser(t, rep, users)

	// Without a token source the library says what is missing.
	rep, err = CheckUsers(context.Background(), cfg, users, WithEWSOptions(ews.WithHTTPClient(srv.Client())))
	var ae *ews.AuthError
	if !errors.As(err, &ae) || rep.Counts[StatusNotChecked] != len(users) {
		t.Errorf("CheckUsers() without a token = %v (counts %v), want an *ews.AuthError stop", err, rep.Counts)
	}
}

// TestCheckNegotiatesAuth: with AuthNegotiate the check asks the server
// anonymously which schemes it offers and uses Basic when that is all it
// offers over https.
func TestCheckNegotiatesAuth(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll(), scctest.WithAuth(scctest.AuthBasic))
	users := f.addMailboxes(t, 3)
	f.cfg.AuthMethod = org.AuthNegotiate
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options()...)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	if rep.Counts[StatusOK] != 3 {
		t.Errorf("counts = %v, want 3 ok", rep.Counts)
	}
	if n := len(f.srv.Stats().FailedLogons); n != 0 {
		t.Errorf("server counted failed logons %v, want none (the anonymous probe carries no credentials)", f.srv.Stats().FailedLogons)
	}
}

// TestCheckNTLM runs the check with NTLM, as on-premises Exchange uses by
// default, when the fake server offers it.
func TestCheckNTLM(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll(), scctest.WithAuth(scctest.AuthNTLM))
	users := f.addMailboxes(t, 40)
	for _, method := range []org.AuthMethod{org.AuthNTLM, org.AuthNegotiate} {
		f.cfg.AuthMethod = method
		rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(8))...)
		if err != nil {
			t.Fatalf("CheckUsers(%v) error = %v", method, err)
		}
		if rep.Counts[StatusOK] != len(users) {
			t.Errorf("CheckUsers(%v) counts = %v, want all ok", method, rep.Counts)
		}
	}
}

// TestCheckWrongPasswordDoesNotLockOut: with Active Directory's lockout
// threshold at 2, a check with a wrong password over many users costs one
// failed logon, NTLM or negotiated, so the account stays unlocked.
func TestCheckWrongPasswordDoesNotLockOut(t *testing.T) {
	for _, method := range []org.AuthMethod{org.AuthNTLM, org.AuthNegotiate} {
		t.Run(method.String(), func(t *testing.T) {
			f := newFake(t, scctest.ImpersonateAll(), scctest.WithAuth(scctest.AuthNTLM), scctest.WithLockout(2))
			users := f.addMailboxes(t, 300)
			f.cfg.AuthMethod = method
			f.cfg.Password = org.NewSecret("wrong")
			rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(MaxConcurrency))...)
			var ae *ews.AuthError
			if !errors.As(err, &ae) || rep.Counts[StatusNotChecked] != len(users) {
				t.Fatalf("CheckUsers(wrong password) = %v (counts %v), want an *ews.AuthError stop", err, rep.Counts)
			}
			failed := 0
			for _, n := range f.srv.Stats().FailedLogons {
				failed += n
			}
			if failed != 1 {
				t.Errorf("server counted %d failed logons (%v), want exactly 1", failed, f.srv.Stats().FailedLogons)
			}
			if f.srv.Locked(testLogon) {
				t.Errorf("the service account is locked out after one check")
			}
			if !strings.Contains(rep.Stopped.Remediation, "lock") {
				t.Errorf("remediation = %q, want it to mention the lockout it avoided", rep.Stopped.Remediation)
			}
		})
	}
}

// TestCheckTLSNameMismatch: a certificate that does not name the host is
// reported as a TLS name problem.
func TestCheckTLSNameMismatch(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 2)
	f.cfg.EWSURL = strings.Replace(f.srv.EWSURL(), "127.0.0.1", "localhost", 1)
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options()...)
	if err == nil || rep.Stopped == nil || rep.Stopped.Status != StatusNetworkError {
		t.Fatalf("CheckUsers() = %+v, %v; want a network-error stop", rep.Stopped, err)
	}
	if !strings.Contains(rep.Stopped.Remediation, "does not name localhost") {
		t.Errorf("remediation = %q, want it to say the certificate does not name the host", rep.Stopped.Remediation)
	}
}

// TestCheckDelegatedToken: a delegated OAuth token cannot impersonate; the
// first user's ErrorInvalidExchangeImpersonationHeaderData stops the check.
func TestCheckDelegatedToken(t *testing.T) {
	srv := scctest.NewTLSServer(t)
	var users []org.User
	for _, a := range []string{"anna@contoso.example", "ben@contoso.example", "carla@contoso.example"} {
		if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: a}); err != nil {
			t.Fatal(err)
		}
		users = append(users, org.User{PrimarySMTP: a})
	}
	if err := srv.AddToken("user-token", scctest.Token{Kind: scctest.Delegated, AppID: "app", User: "anna@contoso.example"}); err != nil {
		t.Fatal(err)
	}
	cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, EWSURL: srv.EWSURL(), TenantID: "contoso.onmicrosoft.com",
		ClientID: "8f3c2b1a-1111-4222-8333-944455556666", ClientSecret: org.NewSecret("s")}
	rep, err := CheckUsers(context.Background(), cfg, users, WithConcurrency(1), WithEWSOptions(
		ews.WithHTTPClient(srv.Client()), ews.WithBearerToken(func(context.Context) (string, error) { return "user-token", nil })))
	if !errors.Is(err, ews.ErrorInvalidExchangeImpersonationHeaderData) {
		t.Fatalf("CheckUsers() error = %v, want a stop wrapping ErrorInvalidExchangeImpersonationHeaderData", err)
	}
	assertOneResultPerUser(t, rep, users)
	if rep.Counts[StatusError] != 1 || rep.Counts[StatusNotChecked] != 2 || !strings.Contains(rep.Stopped.Remediation, "app-only token") {
		t.Errorf("counts = %v, stop = %+v; want 1 error, 2 not-checked and the app-only advice", rep.Counts, rep.Stopped)
	}
}
