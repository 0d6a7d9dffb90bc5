package impersonation

import (
	"context"
	"errors"
	"regexp"
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
	token := WithBearerToken(func(context.Context) (string, error) { return "app-token", nil })
	opts := []Option{WithHTTPClient(srv.Client()), token}

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

}

// TestAppOnlyFromConfiguration: the email configuration alone is enough
// for app-only access: Check, Activate and Renew get their tokens from the
// (fake, 127.0.0.1) Microsoft Entra ID token endpoint with the
// configuration's client secret or certificate, and the fake Exchange
// accepts them. A token endpoint that refuses stops the check before
// anything reaches Exchange.
func TestAppOnlyFromConfiguration(t *testing.T) {
	cert, certPEM, keyPEM := selfSigned(t)
	for _, tt := range []struct {
		name, secret string
		cfg          func(*org.EmailConfiguration)
	}{
		{"client secret", "app-secret-8", func(c *org.EmailConfiguration) { c.ClientSecret = org.NewSecret("app-secret-8") }},
		{"certificate", "", func(c *org.EmailConfiguration) { c.CertificatePEM, c.PrivateKey = certPEM, org.NewSecret(keyPEM) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			entra := newEntraFake(t, tt.secret, cert)
			srv := scctest.NewTLSServer(t)
			users := []org.User{{PrimarySMTP: "anna@contoso.example"}, {PrimarySMTP: "ben@contoso.example"}}
			for _, u := range users {
				if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: u.PrimarySMTP}); err != nil {
					t.Fatal(err)
				}
			}
			if err := srv.AddToken(entra.accessToken, scctest.Token{Kind: scctest.AppOnly, AppID: entraClientID}); err != nil {
				t.Fatal(err)
			}
			cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, EWSURL: srv.EWSURL(),
				TenantID: "contoso.onmicrosoft.com", ClientID: entraClientID}
			tt.cfg(&cfg)
			// Both test servers use httptest's certificate, which
			// srv.Client() trusts.
			opts := []Option{WithHTTPClient(srv.Client()), WithAuthority(entra.srv.URL)}
			rep, err := CheckUsers(context.Background(), cfg, users, opts...)
			if err != nil || rep.Counts[StatusOK] != len(users) {
				t.Fatalf("CheckUsers() = %v, %v; want every user ok", rep.Counts, err)
			}
			store := org.NewMemoryStore()
			saved, err := store.Create(context.Background(), &org.Organization{Name: "Contoso", Email: cfg, Users: users})
			if err != nil {
				t.Fatal(err)
			}
			act, err := Activate(context.Background(), store, saved.ID, opts...)
			if err != nil || act.Activated != len(users) {
				t.Fatalf("Activate() = %+v, %v; want every user activated", act, err)
			}
			if n := entra.requests.Load(); n < 1 {
				t.Errorf("the token endpoint saw %d requests, want at least 1", n)
			}
			srv.AssertImpersonated(t, "anna@contoso.example")
		})
	}

	entra := newEntraFake(t, "right-secret", cert)
	srv := scctest.NewTLSServer(t)
	cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, EWSURL: srv.EWSURL(),
		TenantID: "contoso.onmicrosoft.com", ClientID: entraClientID, ClientSecret: org.NewSecret("wrong-secret-9")}
	users := []org.User{{PrimarySMTP: "anna@contoso.example"}}
	rep, err := CheckUsers(context.Background(), cfg, users, WithHTTPClient(srv.Client()), WithAuthority(entra.srv.URL))
	var te *TokenError
	if !errors.As(err, &te) || te.Code != "invalid_client" || rep.Counts[StatusNotChecked] != 1 || strings.Contains(err.Error(), "wrong-secret-9") {
		t.Errorf("CheckUsers() with a wrong client secret = %v (counts %v), want a stop wrapping the *TokenError invalid_client, without the secret", err, rep.Counts)
	}
	if err != nil && !strings.Contains(err.Error(), "nothing was sent to Exchange") {
		t.Errorf("CheckUsers() error = %v, want it to say nothing was sent to Exchange", err)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("Exchange saw %d requests, want 0", n)
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
	rep, err := CheckUsers(context.Background(), cfg, users, WithConcurrency(1),
		WithHTTPClient(srv.Client()), WithBearerToken(func(context.Context) (string, error) { return "user-token", nil }))
	if !errors.Is(err, ews.ErrorInvalidExchangeImpersonationHeaderData) {
		t.Fatalf("CheckUsers() error = %v, want a stop wrapping ErrorInvalidExchangeImpersonationHeaderData", err)
	}
	assertOneResultPerUser(t, rep, users)
	if rep.Counts[StatusError] != 1 || rep.Counts[StatusNotChecked] != 2 || !strings.Contains(rep.Stopped.Remediation, "app-only token") {
		t.Errorf("counts = %v, stop = %+v; want 1 error, 2 not-checked and the app-only advice", rep.Counts, rep.Stopped)
	}
}

// TestCheckNoAcceptableAuthScheme: a server that offers only Basic over
// plain http:// gets no credentials at all (scc sends no password with
// Basic over http, and NTLM starts no handshake with a server that does not
// offer it). The stop must say what the server offers and what to change in
// the Email Configuration or on the server, must not claim a failed logon,
// and must not name library options.
func TestCheckNoAcceptableAuthScheme(t *testing.T) {
	srv := scctest.NewServer(t, scctest.WithAuth(scctest.AuthBasic))
	if err := srv.AddServiceAccount(testLogon, testPassword, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	users := []org.User{{PrimarySMTP: "anna@contoso.example"}}
	if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: users[0].PrimarySMTP}); err != nil {
		t.Fatal(err)
	}
	for _, method := range []org.AuthMethod{org.AuthNegotiate, org.AuthNTLM} {
		t.Run(method.String(), func(t *testing.T) {
			cfg := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: testLogon, Password: org.NewSecret(testPassword),
				EWSURL: srv.EWSURL(), AuthMethod: method, AllowInsecureHTTP: true}
			rep, err := CheckUsers(context.Background(), cfg, users, WithHTTPClient(srv.Client()))
			var ae *ews.AuthError
			if !errors.As(err, &ae) || rep.Stopped == nil {
				t.Fatalf("CheckUsers() = %+v, %v; want a stop wrapping *ews.AuthError", rep.Stopped, err)
			}
			if rep.Stopped.Status != StatusAuthFailed {
				t.Errorf("Stopped.Status = %s, want %s", rep.Stopped.Status, StatusAuthFailed)
			}
			text := err.Error() + "\n" + rep.Stopped.Reason + "\n" + rep.Stopped.Remediation + "\n" + rep.Preflight.Message
			for _, want := range []string{"only Basic", "http://", "https://", "-WindowsAuthentication $true", "no failed logon"} {
				if !strings.Contains(text, want) {
					t.Errorf("stop text does not contain %q:\n%s", want, text)
				}
			}
			// No failed logon claimed, the password not blamed, no
			// library option named.
			for _, bad := range []string{"saw one failed logon", "rejected the", "auth option", "check the service account's logon", "and Password"} {
				if strings.Contains(text, bad) {
					t.Errorf("stop text contains %q:\n%s", bad, text)
				}
			}
			if m := libraryOption.FindString(text); m != "" {
				t.Errorf("stop text names the library option %q:\n%s", m, text)
			}
			if n := len(srv.Stats().FailedLogons); n != 0 {
				t.Errorf("server counted failed logons %v, want none", srv.Stats().FailedLogons)
			}
			assertOneResultPerUser(t, rep, users)
		})
	}
}

// libraryOption matches an ews or impersonation option name (WithNTLM,
// ews.WithBasicAuth, WithEWSOptions), which an admin cannot act on.
var libraryOption = regexp.MustCompile(`\bWith[A-Z]\w*`)

// TestCheckAuthSchemeFix: the remediation for a 401 the server never
// checked names what it offers and what to change.
func TestCheckAuthSchemeFix(t *testing.T) {
	tests := []struct {
		name    string
		tried   string
		offered []string
		https   bool
		appOnly bool
		want    []string
	}{
		{"basic only over http", "NTLM", []string{"Basic"}, false, false, []string{"only Basic", "https://", "-WindowsAuthentication $true"}},
		{"basic only over https", "NTLM", []string{"Basic"}, true, false, []string{"set Authentication Method to Basic", "-WindowsAuthentication $true"}},
		{"ntlm only, basic tried", "Basic", []string{"Negotiate", "NTLM"}, true, false, []string{"does not accept Basic", "Authentication Method to NTLM", "-BasicAuthentication $true"}},
		{"bearer only", "NTLM", []string{"Bearer"}, true, false, []string{"only OAuth", "app-only OAuth"}},
		{"app-only without token", "", []string{"Bearer"}, true, true, []string{"No access token was sent"}},
		{"app-only on premises", "Bearer", []string{"NTLM"}, true, true, []string{"does not accept OAuth", "outlook.office365.com"}},
		{"nothing usable", "NTLM", []string{"Digest"}, true, false, []string{"only Digest", "-WindowsAuthentication $true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := authSchemeFix(tt.tried, tt.offered, tt.https, tt.appOnly)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("authSchemeFix(%q, %v, https=%v, appOnly=%v) = %q, want it to contain %q", tt.tried, tt.offered, tt.https, tt.appOnly, got, w)
				}
			}
			if m := libraryOption.FindString(got); m != "" {
				t.Errorf("authSchemeFix(%q, %v) = %q names the library option %q", tt.tried, tt.offered, got, m)
			}
		})
	}
}
