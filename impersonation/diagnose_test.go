package impersonation

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

const (
	diagLogon    = `CONTOSO\svc-diag`
	diagPassword = "Diag-Secret-77!"
	diagAlice    = "alice@contoso.example"
	diagBob      = "bob@contoso.example"
	diagAppID    = "3f2b8c1e-5d4a-4e7b-9c61-0a1b2c3d4e5f"
	diagToken    = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.diag-app-token"
	diagSecret   = "app-client-secret-do-not-print"
)

// diagFake is a TLS fake Exchange server with a service account and two
// mailboxes (alice, and bob with the proxy address robert@), plus a
// configuration and options that point Diagnose at it.
type diagFake struct {
	srv  *scctest.Server
	cfg  org.EmailConfiguration
	opts []Option
}

func newDiagFake(t *testing.T, grant scctest.Grant, method org.AuthMethod, opts ...scctest.Option) *diagFake {
	t.Helper()
	srv := scctest.NewTLSServer(t, opts...)
	if err := srv.AddServiceAccount(diagLogon, diagPassword, grant); err != nil {
		t.Fatalf("AddServiceAccount: %v", err)
	}
	for _, m := range []scctest.Mailbox{{PrimarySMTP: diagAlice}, {PrimarySMTP: diagBob, ProxyAddresses: []string{"robert@contoso.example"}}} {
		if _, err := srv.AddMailbox(m); err != nil {
			t.Fatalf("AddMailbox(%s): %v", m.PrimarySMTP, err)
		}
	}
	return &diagFake{
		srv: srv,
		cfg: org.EmailConfiguration{
			AccessType:   org.Impersonation,
			AccountLogon: diagLogon,
			Password:     org.NewSecret(diagPassword),
			EWSURL:       srv.EWSURL(),
			AuthMethod:   method,
		},
		opts: []Option{WithHTTPClient(srv.Client())},
	}
}

func (f *diagFake) diagnose(t *testing.T, mailbox string, more ...Option) *Diagnosis {
	t.Helper()
	return mustDiagnose(t, f.cfg, mailbox, append(append([]Option(nil), f.opts...), more...)...)
}

func mustDiagnose(t *testing.T, cfg org.EmailConfiguration, mailbox string, opts ...Option) *Diagnosis {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Diagnose(ctx, cfg, mailbox, opts...)
	if err != nil {
		t.Fatalf("Diagnose(%s) error = %v, want nil", mailbox, err)
	}
	if got, want := len(d.Steps), len(StepNames()); got != want {
		t.Fatalf("Diagnose(%s) has %d steps, want %d", mailbox, got, want)
	}
	for i, n := range StepNames() {
		if d.Steps[i].Name != n {
			t.Fatalf("Diagnose(%s) step %d = %s, want %s", mailbox, i, d.Steps[i].Name, n)
		}
	}
	return d
}

// statuses maps each step to its status.
func statuses(d *Diagnosis) map[StepName]StepStatus {
	m := map[StepName]StepStatus{}
	for _, s := range d.Steps {
		m[s.Name] = s.Status
	}
	return m
}

// assertFailsAt checks the central promise: steps before name did not
// fail, name failed, and every later step was skipped.
func assertFailsAt(t *testing.T, d *Diagnosis, name StepName, code ews.ResponseCode, fixWants ...string) Step {
	t.Helper()
	var failed Step
	seen := false
	for _, s := range d.Steps {
		switch {
		case s.Name == name:
			seen = true
			failed = s
			if s.Status != StepFailed {
				t.Errorf("step %s = %s (%s), want fail", s.Name, s.Status, s.Detail)
			}
		case !seen && s.Status == StepFailed:
			t.Errorf("step %s failed before %s: %s", s.Name, name, s.Detail)
		case seen && s.Status != StepSkipped:
			t.Errorf("step %s after the failure = %s, want skipped", s.Name, s.Status)
		}
	}
	if failed.Code != code {
		t.Errorf("step %s code = %q, want %q", name, failed.Code, code)
	}
	if failed.Fix == "" {
		t.Errorf("step %s has no fix", name)
	}
	for _, w := range fixWants {
		if !strings.Contains(failed.Fix, w) {
			t.Errorf("step %s fix = %q, want it to contain %q", name, failed.Fix, w)
		}
	}
	if d.Verdict() != StepFailed || d.OK() {
		t.Errorf("Verdict() = %s, OK() = %v, want fail, false", d.Verdict(), d.OK())
	}
	if d.Fix() != failed.Fix {
		t.Errorf("Fix() = %q, want the failed step's fix %q", d.Fix(), failed.Fix)
	}
	assertNoSecrets(t, d)
	return failed
}

// assertNoSecrets renders d every way and looks for the test secrets.
func assertNoSecrets(t *testing.T, d *Diagnosis) {
	t.Helper()
	var text, js bytes.Buffer
	if err := d.WriteText(&text); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	if err := d.WriteJSON(&js); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	for _, out := range []string{text.String(), js.String(), fmt.Sprintf("%v %+v", d, *d)} {
		for _, secret := range []string{diagPassword, diagToken, diagSecret, "Wrong-Password-1"} {
			if strings.Contains(out, secret) {
				t.Fatalf("a rendering of the diagnosis contains the secret %q:\n%s", secret, out)
			}
		}
	}
}

func failedLogons(s *scctest.Server) int {
	n := 0
	for _, v := range s.Stats().FailedLogons {
		n += v
	}
	return n
}

func TestDiagnoseAllPass(t *testing.T) {
	for _, method := range []org.AuthMethod{org.AuthBasic, org.AuthNTLM, org.AuthNegotiate} {
		t.Run(method.String(), func(t *testing.T) {
			f := newDiagFake(t, scctest.ImpersonateAll(), method)
			if _, err := f.srv.AddItem(diagAlice, "inbox", scctest.Message{Subject: "hello"}); err != nil {
				t.Fatalf("AddItem: %v", err)
			}
			d := f.diagnose(t, diagAlice)
			want := map[StepName]StepStatus{
				StepConfiguration: StepPassed, StepAutodiscover: StepSkipped, StepDNS: StepPassed, StepTCP: StepPassed, StepTLS: StepPassed,
				StepEndpoint: StepPassed, StepAuthSchemes: StepPassed, StepLogon: StepPassed,
				StepServerVersion: StepWarning, // Exchange 2019 is out of support
				StepImpersonation: StepPassed, StepInbox: StepPassed, StepWriteTest: StepSkipped,
			}
			if diff := cmp.Diff(want, statuses(d)); diff != "" {
				t.Errorf("Diagnose statuses (-want +got):\n%s", diff)
			}
			if d.Verdict() != StepWarning || !d.OK() {
				t.Errorf("Verdict() = %s, OK() = %v, want warning, true", d.Verdict(), d.OK())
			}
			if d.Product != "Exchange 2019" || !strings.HasPrefix(d.ServerVersion, "15.2.") {
				t.Errorf("Product, ServerVersion = %q, %q, want Exchange 2019, 15.2.*", d.Product, d.ServerVersion)
			}
			wantMethod := "NTLM"
			if method == org.AuthBasic {
				wantMethod = "Basic"
			}
			if d.AuthMethod != wantMethod {
				t.Errorf("AuthMethod = %q, want %q", d.AuthMethod, wantMethod)
			}
			inbox, _ := d.Step(StepInbox)
			if !strings.Contains(inbox.Detail, "holds 1 item") || strings.Contains(inbox.Detail, "1 items") {
				t.Errorf("inbox detail = %q, want the item count 1", inbox.Detail)
			}
			if n := failedLogons(f.srv); n != 0 {
				t.Errorf("failed logons = %d, want 0", n)
			}
			f.srv.AssertImpersonated(t, diagAlice)
			f.srv.AssertAnchorMailbox(t)
			f.srv.AssertRequestCount(t, "CreateItem", 0)
			assertNoSecrets(t, d)
		})
	}
}

func TestDiagnoseWriteTest(t *testing.T) {
	f := newDiagFake(t, scctest.ImpersonateAll(), org.AuthNTLM)
	d := f.diagnose(t, diagAlice, WithWriteTest())
	if s, _ := d.Step(StepWriteTest); s.Status != StepPassed {
		t.Fatalf("write test = %s (%s / %s), want pass", s.Status, s.Detail, s.Fix)
	}
	f.srv.AssertRequestCount(t, "CreateItem", 1)
	f.srv.AssertRequestCount(t, "DeleteItem", 1)
	items, err := f.srv.Items(diagAlice, "drafts")
	if err != nil {
		t.Fatalf("Items: %v", err)
	}
	if len(items) != 0 {
		t.Errorf("Drafts of %s holds %d items after the write test, want 0: %+v", diagAlice, len(items), items)
	}
}

func TestDiagnoseWriteTestDeleteFails(t *testing.T) {
	f := newDiagFake(t, scctest.ImpersonateAll(), org.AuthBasic)
	f.srv.React("DeleteItem", diagAlice, func(scctest.Call) scctest.Reaction {
		return scctest.Reaction{Fault: scctest.MessageError(ews.ErrorAccessDenied)}
	})
	d := f.diagnose(t, diagAlice, WithWriteTest())
	st := assertFailsAt(t, d, StepWriteTest, ews.ErrorAccessDenied, "Delete the message", "Drafts")
	if !strings.Contains(st.Detail, "left behind") {
		t.Errorf("write test detail = %q, want it to say the message is left behind", st.Detail)
	}
	items, err := f.srv.Items(diagAlice, "drafts")
	if err != nil {
		t.Fatalf("Items: %v", err)
	}
	if len(items) != 1 || !strings.Contains(st.Fix, items[0].Subject) {
		t.Errorf("Drafts holds %+v; want the one test message, named in the fix %q", items, st.Fix)
	}
}

func TestDiagnoseEWSFailures(t *testing.T) {
	tests := []struct {
		name    string
		grant   scctest.Grant
		method  org.AuthMethod
		srvOpts []scctest.Option
		setup   func(t *testing.T, f *diagFake)
		mailbox string
		step    StepName
		code    ews.ResponseCode
		fix     []string
		logons  int // failed logons the server may see
	}{
		{name: "wrong password basic", grant: scctest.ImpersonateAll(), method: org.AuthBasic,
			setup:   func(t *testing.T, f *diagFake) { f.cfg.Password = org.NewSecret("Wrong-Password-1") },
			mailbox: diagAlice, step: StepLogon, fix: []string{"rejected", diagLogon, "Get-ADUser"}, logons: 1},
		{name: "wrong password ntlm", grant: scctest.ImpersonateAll(), method: org.AuthNTLM,
			setup:   func(t *testing.T, f *diagFake) { f.cfg.Password = org.NewSecret("Wrong-Password-1") },
			mailbox: diagAlice, step: StepLogon, fix: []string{"rejected"}, logons: 1},
		{name: "basic configured, server offers only NTLM", grant: scctest.ImpersonateAll(), method: org.AuthBasic,
			srvOpts: []scctest.Option{scctest.WithAuth(scctest.AuthNTLM)},
			mailbox: diagAlice, step: StepAuthSchemes, fix: []string{"Choose NTLM", "-BasicAuthentication $true"}},
		{name: "ntlm configured, server offers only Basic", grant: scctest.ImpersonateAll(), method: org.AuthNTLM,
			srvOpts: []scctest.Option{scctest.WithAuth(scctest.AuthBasic)},
			mailbox: diagAlice, step: StepAuthSchemes, fix: []string{"Choose Basic", "-WindowsAuthentication $true"}},
		{name: "impersonation denied", grant: scctest.NoImpersonation(), method: org.AuthNTLM,
			mailbox: diagAlice, step: StepImpersonation, code: ews.ErrorImpersonationDenied,
			fix: []string{"New-ManagementRoleAssignment", "-Role ApplicationImpersonation", `-User CONTOSO\svc-diag`}},
		{name: "out of scope", grant: scctest.ImpersonateScope(diagBob), method: org.AuthBasic,
			mailbox: diagAlice, step: StepImpersonation, code: ews.ErrorImpersonateUserDenied,
			fix: []string{"management scope", "Get-ManagementScope"}},
		{name: "no mailbox", grant: scctest.ImpersonateAll(), method: org.AuthBasic,
			mailbox: "nobody@contoso.example", step: StepImpersonation, code: ews.ErrorNonExistentMailbox,
			fix: []string{"primary SMTP address"}},
		{name: "proxy address", grant: scctest.ImpersonateAll(), method: org.AuthBasic,
			mailbox: "robert@contoso.example", step: StepImpersonation, code: ews.ErrorNonExistentMailbox,
			fix: []string{"primary SMTP address instead of robert@contoso.example", "Get-Recipient"}},
		{name: "EWS disabled for the organization", grant: scctest.ImpersonateAll(), method: org.AuthBasic,
			setup:   func(t *testing.T, f *diagFake) { f.srv.SetEWSEnabled(false) },
			mailbox: diagAlice, step: StepLogon, fix: []string{"Set-OrganizationConfig -EwsEnabled $true"}},
		{name: "EWS disabled for the mailbox", grant: scctest.ImpersonateAll(), method: org.AuthNTLM,
			setup: func(t *testing.T, f *diagFake) {
				if err := f.srv.SetMailboxEWSEnabled(diagAlice, false); err != nil {
					t.Fatal(err)
				}
			},
			mailbox: diagAlice, step: StepImpersonation, fix: []string{"Set-CASMailbox " + diagAlice + " -EwsEnabled $true"}},
		{name: "inbox access denied", grant: scctest.ImpersonateAll(), method: org.AuthBasic,
			setup: func(t *testing.T, f *diagFake) {
				f.srv.React("FindItem", diagAlice, func(scctest.Call) scctest.Reaction {
					return scctest.Reaction{Fault: scctest.MessageError(ews.ErrorAccessDenied)}
				})
			},
			mailbox: diagAlice, step: StepInbox, code: ews.ErrorAccessDenied, fix: []string{"Get-MailboxFolderPermission"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newDiagFake(t, tt.grant, tt.method, tt.srvOpts...)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			d := f.diagnose(t, tt.mailbox, WithWriteTest())
			assertFailsAt(t, d, tt.step, tt.code, tt.fix...)
			if n := failedLogons(f.srv); n > tt.logons {
				t.Errorf("the server saw %d failed logons, want at most %d", n, tt.logons)
			}
			f.srv.AssertRequestCount(t, "CreateItem", 0)
		})
	}
}

// TestDiagnoseBasicOnlyOverHTTP: Negotiate automatically against a plain
// http:// server that offers only Basic. The auth-schemes step says why
// Basic cannot be used (scc refuses it over http://) and what to change,
// and nothing is sent that could count as a failed logon.
func TestDiagnoseBasicOnlyOverHTTP(t *testing.T) {
	srv := scctest.NewServer(t, scctest.WithAuth(scctest.AuthBasic))
	if err := srv.AddServiceAccount(diagLogon, diagPassword, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: diagAlice}); err != nil {
		t.Fatal(err)
	}
	cfg := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: diagLogon, Password: org.NewSecret(diagPassword),
		EWSURL: srv.EWSURL(), AuthMethod: org.AuthNegotiate, AllowInsecureHTTP: true}
	d := mustDiagnose(t, cfg, diagAlice, WithHTTPClient(srv.Client()))
	st := assertFailsAt(t, d, StepAuthSchemes, "", "https://", "-WindowsAuthentication $true")
	if !strings.Contains(st.Detail, "only Basic") || !strings.Contains(st.Detail, "http://") {
		t.Errorf("auth-schemes detail = %q, want it to say the server offers only Basic, refused over http://", st.Detail)
	}
	if n := failedLogons(srv); n != 0 {
		t.Errorf("the server saw %d failed logons, want 0", n)
	}
}

func TestDiagnoseWrongPasswordNeverLocksOut(t *testing.T) {
	// With a lockout threshold of 2, even two diagnoses in a row must not
	// lock the account: each costs one failed logon.
	f := newDiagFake(t, scctest.ImpersonateAll(), org.AuthNTLM, scctest.WithLockout(2))
	f.cfg.Password = org.NewSecret("Wrong-Password-1")
	d := f.diagnose(t, diagAlice)
	assertFailsAt(t, d, StepLogon, "")
	if n := f.srv.Stats().FailedLogons; n[diagLogon]+n[strings.ToLower(diagLogon)] > 1 || failedLogons(f.srv) != 1 {
		t.Errorf("FailedLogons = %v after one diagnosis, want exactly 1", n)
	}
	if f.srv.Locked(diagLogon) {
		t.Errorf("Locked(%s) = true after one diagnosis", diagLogon)
	}
}

func TestDiagnoseConfiguration(t *testing.T) {
	base := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: diagLogon,
		Password: org.NewSecret(diagPassword), EWSURL: "https://mail.contoso.test/EWS/Exchange.asmx", AuthMethod: org.AuthNTLM}
	appOnly := org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "contoso.onmicrosoft.com", ClientID: diagAppID,
		ClientSecret: org.NewSecret(diagSecret), EWSURL: "https://outlook.office365.com/EWS/Exchange.asmx"}
	noDNS := WithResolver(fakeResolver{})
	in2026 := withDiagnoseClock(func() time.Time { return time.Date(2026, time.November, 20, 12, 0, 0, 0, time.UTC) })
	in2027 := withDiagnoseClock(func() time.Time { return time.Date(2027, time.April, 2, 12, 0, 0, 0, time.UTC) })
	tests := []struct {
		name    string
		cfg     func(c org.EmailConfiguration) org.EmailConfiguration
		from    org.EmailConfiguration
		mailbox string
		opts    []Option
		step    StepName
		fix     []string
		warnFix []string // the configuration step's warning
	}{
		{name: "URL not shaped /EWS/Exchange.asmx", from: base,
			cfg: func(c org.EmailConfiguration) org.EmailConfiguration {
				c.EWSURL = "https://mail.contoso.test/owa/"
				return c
			},
			step: StepConfiguration, fix: []string{"https://mail.contoso.test/EWS/Exchange.asmx"}},
		{name: "password impersonation against Exchange Online", from: base,
			cfg: func(c org.EmailConfiguration) org.EmailConfiguration {
				c.EWSURL = "https://outlook.office365.com/EWS/Exchange.asmx"
				return c
			},
			step: StepConfiguration, fix: []string{"full_access_as_app", "app-only"}},
		{name: "invalid mailbox", from: base, mailbox: "not an address", step: StepConfiguration, fix: []string{"primary SMTP address"}},
		{name: "direct logon", from: base,
			cfg:  func(c org.EmailConfiguration) org.EmailConfiguration { c.AccessType = org.DirectLogon; return c },
			step: StepConfiguration, fix: []string{"Mailbox Access Type"}},
		{name: "Exchange Online app-only after October 2026: warning, then DNS", from: appOnly, opts: []Option{noDNS, in2026},
			step: StepDNS, fix: []string{"outlook.office365.com"},
			warnFix: []string{`Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs <the IDs already listed>,` + diagAppID, "1 April 2027", "Set-CASMailbox", "Microsoft Graph"}},
		{name: "Exchange Online after April 2027", from: appOnly, opts: []Option{noDNS, in2027},
			step: StepConfiguration, fix: []string{"Microsoft Graph"}},
		{name: "DNS failure", from: base, opts: []Option{noDNS},
			step: StepDNS, fix: []string{"mail.contoso.test", "Resolve-DnsName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.from
			if tt.cfg != nil {
				cfg = tt.cfg(cfg)
			}
			mbx := tt.mailbox
			if mbx == "" {
				mbx = diagAlice
			}
			d := mustDiagnose(t, cfg, mbx, tt.opts...)
			assertFailsAt(t, d, tt.step, "", tt.fix...)
			if tt.warnFix != nil {
				c, _ := d.Step(StepConfiguration)
				if c.Status != StepWarning {
					t.Fatalf("configuration = %s (%s), want warning", c.Status, c.Detail)
				}
				for _, w := range tt.warnFix {
					if !strings.Contains(c.Fix, w) {
						t.Errorf("configuration fix = %q, want it to contain %q", c.Fix, w)
					}
				}
			}
		})
	}
}

// fakeResolver resolves the names in its map and nothing else.
type fakeResolver map[string][]string

func (r fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestDiagnoseConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: diagLogon, Password: org.NewSecret(diagPassword),
		EWSURL: fmt.Sprintf("https://127.0.0.1:%d/EWS/Exchange.asmx", port), AuthMethod: org.AuthNTLM}
	d := mustDiagnose(t, cfg, diagAlice)
	st := assertFailsAt(t, d, StepTCP, "", fmt.Sprintf("-Port %d", port))
	if !strings.Contains(st.Detail, "refused") {
		t.Errorf("tcp detail = %q, want it to say the connection was refused", st.Detail)
	}
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue makes a server certificate for names valid from notBefore to
// notAfter.
func (ca *testCA) issue(t *testing.T, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// startTLS starts a TLS server with cert whose handler answers like IIS in
// front of EWS: 401 offering Negotiate and NTLM to everything.
func startTLS(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("WWW-Authenticate", "Negotiate")
		w.Header().Add("WWW-Authenticate", "NTLM")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).String()
}

func TestDiagnoseTLS(t *testing.T) {
	ca := newTestCA(t, "Contoso Test Root")
	other := newTestCA(t, "Somebody Else's Root")
	now := time.Now()
	good := []string{"mail.contoso.test"}
	tests := []struct {
		name     string
		cert     tls.Certificate
		trust    *x509.CertPool
		insecure bool
		status   StepStatus
		detail   []string
		fix      []string
	}{
		{name: "valid", cert: ca.issue(t, good, now.Add(-time.Hour), now.Add(365*24*time.Hour)), trust: ca.pool,
			status: StepPassed, detail: []string{"mail.contoso.test", `"Contoso Test Root"`}},
		{name: "expiring soon", cert: ca.issue(t, good, now.Add(-time.Hour), now.Add(10*24*time.Hour)), trust: ca.pool,
			status: StepWarning, detail: []string{"expires in"}, fix: []string{"Renew"}},
		{name: "expired", cert: ca.issue(t, good, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), trust: ca.pool,
			status: StepFailed, detail: []string{"expired on"}, fix: []string{"Enable-ExchangeCertificate"}},
		{name: "not yet valid", cert: ca.issue(t, good, now.Add(24*time.Hour), now.Add(48*time.Hour)), trust: ca.pool,
			status: StepFailed, detail: []string{"not valid before"}, fix: []string{"clock"}},
		{name: "wrong name", cert: ca.issue(t, []string{"other.contoso.test"}, now.Add(-time.Hour), now.Add(365*24*time.Hour)), trust: ca.pool,
			status: StepFailed, detail: []string{"does not name mail.contoso.test", "other.contoso.test"}, fix: []string{"subject alternative names"}},
		{name: "untrusted issuer", cert: ca.issue(t, good, now.Add(-time.Hour), now.Add(365*24*time.Hour)), trust: other.pool,
			status: StepFailed, detail: []string{"not trusted", "Contoso Test Root"}, fix: []string{"trusted CA"}},
		{name: "expired and untrusted, both named", cert: ca.issue(t, good, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), trust: other.pool,
			status: StepFailed, detail: []string{"expired on", "not trusted"}, fix: []string{"Enable-ExchangeCertificate", "trusted CA"}},
		{name: "expired with verification off", cert: ca.issue(t, good, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), trust: ca.pool, insecure: true,
			status: StepWarning, detail: []string{"verification is turned off", "expired on"}, fix: []string{"Enable-ExchangeCertificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startTLS(t, tt.cert)
			_, port, _ := net.SplitHostPort(addr)
			cfg := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: diagLogon, Password: org.NewSecret(diagPassword),
				EWSURL: "https://mail.contoso.test:" + port + "/EWS/Exchange.asmx", AuthMethod: org.AuthNTLM}
			opts := []Option{WithResolver(fakeResolver{"mail.contoso.test": {"127.0.0.1"}}), WithRootCAs(tt.trust)}
			if tt.insecure {
				opts = append(opts, WithInsecureSkipVerify())
			}
			d := mustDiagnose(t, cfg, diagAlice, opts...)
			st, _ := d.Step(StepTLS)
			if st.Status != tt.status {
				t.Fatalf("TLS step = %s (%s), want %s", st.Status, st.Detail, tt.status)
			}
			for _, w := range tt.detail {
				if !strings.Contains(st.Detail, w) {
					t.Errorf("TLS detail = %q, want it to contain %q", st.Detail, w)
				}
			}
			for _, w := range tt.fix {
				if !strings.Contains(st.Fix, w) {
					t.Errorf("TLS fix = %q, want it to contain %q", st.Fix, w)
				}
			}
			if tt.status == StepFailed {
				assertFailsAt(t, d, StepTLS, "")
				return
			}
			// The server behind the certificate is reached: it answers 401
			// like IIS, and rejects the NTLM logon.
			if e, _ := d.Step(StepEndpoint); e.Status != StepPassed {
				t.Errorf("endpoint step = %s (%s), want pass", e.Status, e.Detail)
			}
			assertFailsAt(t, d, StepLogon, "")
		})
	}
}

func TestDiagnoseNotEWS(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		detail  []string
	}{
		{name: "HTML page", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<html><head><title>Outlook</title></head><body>Sign in</body></html>")
		}, detail: []string{"not an EWS endpoint", "text/html"}},
		{name: "404", handler: http.NotFound, detail: []string{"not an EWS endpoint", "404"}},
		{name: "redirect", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://login.contoso.test/adfs/ls/", http.StatusFound)
		}, detail: []string{"not an EWS endpoint", "redirect to https://login.contoso.test/adfs/ls/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			cfg := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: diagLogon, Password: org.NewSecret(diagPassword),
				EWSURL: srv.URL + "/EWS/Exchange.asmx", AuthMethod: org.AuthNTLM, AllowInsecureHTTP: true}
			d := mustDiagnose(t, cfg, diagAlice)
			st := assertFailsAt(t, d, StepEndpoint, "", "Get-WebServicesVirtualDirectory", srv.URL+"/EWS/Exchange.asmx")
			for _, w := range tt.detail {
				if !strings.Contains(st.Detail, w) {
					t.Errorf("endpoint detail = %q, want it to contain %q", st.Detail, w)
				}
			}
			if tls, _ := d.Step(StepTLS); tls.Status != StepWarning || !strings.Contains(tls.Detail, "test servers only") {
				t.Errorf("TLS step for http:// = %s (%s), want a warning about test servers", tls.Status, tls.Detail)
			}
		})
	}
}

// TestDiagnoseExchangeOnlineBlocked runs app-only OAuth against a fake that
// answers as outlook.office365.com (through the resolver hook) with EWS
// switched off for the tenant, as from October 2026.
func TestDiagnoseExchangeOnlineBlocked(t *testing.T) {
	srv := scctest.NewTLSServer(t, scctest.WithVersion(scctest.ExchangeOnline))
	if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: diagAlice}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddToken(diagToken, scctest.Token{Kind: scctest.AppOnly, AppID: diagAppID}); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(srv.Listener().Addr().String())
	cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "contoso.onmicrosoft.com", ClientID: diagAppID,
		ClientSecret: org.NewSecret(diagSecret), EWSURL: "https://outlook.office365.com:" + port + "/EWS/Exchange.asmx"}
	opts := []Option{
		WithResolver(fakeResolver{"outlook.office365.com": {"127.0.0.1"}}),
		WithInsecureSkipVerify(), // the fake's certificate does not name outlook.office365.com
		WithBearerToken(func(context.Context) (string, error) { return diagToken, nil }),
		withDiagnoseClock(func() time.Time { return time.Date(2026, time.November, 20, 12, 0, 0, 0, time.UTC) }),
	}

	d := mustDiagnose(t, cfg, diagAlice, opts...)
	want := map[StepName]StepStatus{
		StepConfiguration: StepWarning, StepAutodiscover: StepSkipped, StepDNS: StepPassed, StepTCP: StepPassed, StepTLS: StepWarning,
		StepEndpoint: StepPassed, StepAuthSchemes: StepPassed, StepLogon: StepPassed, StepServerVersion: StepPassed,
		StepImpersonation: StepPassed, StepInbox: StepPassed, StepWriteTest: StepSkipped,
	}
	if diff := cmp.Diff(want, statuses(d)); diff != "" {
		t.Errorf("Diagnose statuses while EWS is allowed (-want +got):\n%s", diff)
	}
	if d.Product != "Exchange Online" || !d.ExchangeOnline || d.AuthMethod != "Bearer" {
		t.Errorf("Product, ExchangeOnline, AuthMethod = %q, %v, %q, want Exchange Online, true, Bearer", d.Product, d.ExchangeOnline, d.AuthMethod)
	}
	assertNoSecrets(t, d)

	srv.SetEWSEnabled(false)
	d = mustDiagnose(t, cfg, diagAlice, opts...)
	assertFailsAt(t, d, StepLogon, "",
		`Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs <the IDs already listed>,`+diagAppID, "Set-CASMailbox", "1 April 2027")
}

func TestDiagnoseCancelled(t *testing.T) {
	f := newDiagFake(t, scctest.ImpersonateAll(), org.AuthBasic)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := Diagnose(ctx, f.cfg, diagAlice, f.opts...)
	if err == nil || d == nil {
		t.Fatalf("Diagnose(cancelled) = %v, %v; want a diagnosis and an error", d, err)
	}
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "impersonation: diagnose: ") {
		t.Errorf("Diagnose(cancelled) error = %q, want it to start \"impersonation: diagnose: \" and match context.Canceled", err)
	}
	assertFailsAt(t, d, StepConfiguration, "", "again")

	// A cause given with the cancellation is kept next to context.Canceled.
	why := errors.New("admin closed the window")
	ctx, cancelCause := context.WithCancelCause(context.Background())
	cancelCause(why)
	_, err = Diagnose(ctx, f.cfg, diagAlice, f.opts...)
	if !errors.Is(err, why) || !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "impersonation: diagnose: ") {
		t.Errorf("Diagnose(cancelled with a cause) error = %q, want it to match the cause and context.Canceled", err)
	}
	if n := f.srv.Stats().Requests; n != 0 {
		t.Errorf("the server saw %d requests after cancellation, want 0", n)
	}
}

func TestDiagnoseOptions(t *testing.T) {
	cfg := org.EmailConfiguration{}
	for name, opt := range map[string]Option{
		"nil option":    nil,
		"nil resolver":  WithResolver(nil),
		"nil dialer":    WithDialer(nil),
		"nil client":    WithHTTPClient(nil),
		"nil pool":      WithRootCAs(nil),
		"nil ews opt":   WithEWSOptions(nil),
		"zero timeout":  WithStepTimeout(0),
		"negative time": WithStepTimeout(-time.Second),
	} {
		t.Run(name, func(t *testing.T) {
			d, err := Diagnose(context.Background(), cfg, diagAlice, opt)
			if err == nil || d != nil {
				t.Errorf("Diagnose(%s) = %v, %v; want nil and an error", name, d, err)
			}
		})
	}
}

func TestDiagnosisJSON(t *testing.T) {
	f := newDiagFake(t, scctest.ImpersonateScope(diagBob), org.AuthBasic)
	d := f.diagnose(t, diagAlice)
	var buf bytes.Buffer
	if err := d.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["verdict"] != "fail" || raw["failed_step"] != "impersonation" || raw["fix"] == "" || raw["access_type"] == nil {
		t.Errorf("JSON verdict, failed_step, fix, access_type = %v, %v, %v, %v", raw["verdict"], raw["failed_step"], raw["fix"], raw["access_type"])
	}
	var back Diagnosis
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	opt := cmp.Comparer(func(a, b time.Duration) bool { return (a - b).Abs() < time.Millisecond })
	if diff := cmp.Diff(d, &back, opt, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

func TestDiagnosisWriteText(t *testing.T) {
	d := &Diagnosis{
		Mailbox: diagAlice, Endpoint: "https://mail.contoso.test/EWS/Exchange.asmx", ServiceAccount: diagLogon,
		AuthMethod: "NTLM", Product: "Exchange 2019", ServerVersion: "15.2.1544.4 (V2017_07_11)",
		Steps: []Step{
			{Name: StepConfiguration, Status: StepPassed, Duration: time.Millisecond, Detail: "fine"},
			{Name: StepServerVersion, Status: StepWarning, Duration: 2 * time.Millisecond, Detail: "old", Fix: "Upgrade."},
			{Name: StepImpersonation, Status: StepFailed, Duration: 3 * time.Millisecond, Code: ews.ErrorImpersonateUserDenied,
				Detail: "denied", Fix: "Add the mailbox to the scope."},
			{Name: StepInbox, Status: StepSkipped, Detail: "not run: Impersonation failed"},
		},
	}
	var buf bytes.Buffer
	if err := d.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := `Service Account Access diagnosis for alice@contoso.example
  EWS URL          https://mail.contoso.test/EWS/Exchange.asmx
  Service account  CONTOSO\svc-diag (NTLM)
  Exchange         Exchange 2019, build 15.2.1544.4 (V2017_07_11)

  ✓  Configuration     1ms      fine
  !  Exchange version  2ms      old
                                Fix: Upgrade.
  ✗  Impersonation     3ms      ErrorImpersonateUserDenied: denied
                                Fix: Add the mailbox to the scope.
  -  Inbox readable             not run: Impersonation failed

Verdict: FAIL at "Impersonation".
What to do first: Add the mailbox to the scope.
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteText (-want +got):\n%s", diff)
	}
}

func TestDiagnoseHandshakeNeverAnswers(t *testing.T) {
	// A server that accepts TCP but never speaks TLS must fail the TLS
	// step at the step timeout instead of hanging.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	cfg := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: diagLogon, Password: org.NewSecret(diagPassword),
		EWSURL: "https://" + l.Addr().String() + "/EWS/Exchange.asmx", AuthMethod: org.AuthNTLM}
	d := mustDiagnose(t, cfg, diagAlice, WithStepTimeout(200*time.Millisecond))
	assertFailsAt(t, d, StepTLS, "", "in time")
}

// recordingDialer dials like net.Dialer and remembers the addresses.
type recordingDialer struct {
	mu    sync.Mutex
	addrs []string
}

func (r *recordingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	r.mu.Lock()
	r.addrs = append(r.addrs, addr)
	r.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func TestDiagnoseUsesResolverAndDialerForEveryRequest(t *testing.T) {
	srv := scctest.NewServer(t, scctest.WithAuth(scctest.AuthNTLM))
	if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: diagAlice}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddServiceAccount(diagLogon, diagPassword, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(srv.Listener().Addr().String())
	cfg := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: diagLogon, Password: org.NewSecret(diagPassword),
		EWSURL: "http://mail.contoso.test:" + port + "/EWS/Exchange.asmx", AuthMethod: org.AuthNTLM, AllowInsecureHTTP: true}
	dialer := &recordingDialer{}
	d := mustDiagnose(t, cfg, diagAlice, WithResolver(fakeResolver{"mail.contoso.test": {"127.0.0.1"}}), WithDialer(dialer))
	if s, ok := d.Failed(); ok {
		t.Fatalf("step %s failed: %s", s.Name, s.Detail)
	}
	if dns, _ := d.Step(StepDNS); !strings.Contains(dns.Detail, "127.0.0.1") {
		t.Errorf("DNS detail = %q, want the resolved address", dns.Detail)
	}
	dialer.mu.Lock()
	defer dialer.mu.Unlock()
	if len(dialer.addrs) < 2 {
		t.Fatalf("dialer saw %v; want the TCP step and the EWS requests", dialer.addrs)
	}
	for _, a := range dialer.addrs {
		if a != "127.0.0.1:"+port {
			t.Errorf("dialer saw %q, want 127.0.0.1:%s", a, port)
		}
	}
}

func TestDiagnoseRidesOutABackOff(t *testing.T) {
	f := newDiagFake(t, scctest.ImpersonateAll(), org.AuthBasic)
	f.srv.React("GetFolder", diagAlice, onceReactor(scctest.ServerBusy(20*time.Millisecond)))
	d := f.diagnose(t, diagAlice)
	if s, ok := d.Failed(); ok {
		t.Fatalf("step %s failed after one ErrorServerBusy: %s", s.Name, s.Detail)
	}
	f.srv.AssertFaultCount(t, ews.ErrorServerBusy, 1)
}

// onceReactor answers the first matching request with f.
func onceReactor(f scctest.Fault) scctest.Reactor {
	var once sync.Once
	return func(scctest.Call) scctest.Reaction {
		r := scctest.Reaction{}
		once.Do(func() { r.Fault = f })
		return r
	}
}

func TestExchangeRelease(t *testing.T) {
	tests := []struct {
		v           ews.ServerVersionInfo
		product     string
		unsupported bool
	}{
		{ews.ServerVersionInfo{MajorVersion: 15, MinorVersion: 2, MajorBuildNumber: 2562, MinorBuildNumber: 17}, "Exchange Server Subscription Edition", false},
		{ews.ServerVersionInfo{MajorVersion: 15, MinorVersion: 2, MajorBuildNumber: 1748, MinorBuildNumber: 10}, "Exchange 2019", true},
		{ews.ServerVersionInfo{MajorVersion: 15, MinorVersion: 1, MajorBuildNumber: 2507}, "Exchange 2016", true},
		{ews.ServerVersionInfo{MajorVersion: 15, MinorVersion: 0, MajorBuildNumber: 1497}, "Exchange 2013", true},
		{ews.ServerVersionInfo{MajorVersion: 14, MinorVersion: 3}, "Exchange 2010", true},
		{ews.ServerVersionInfo{MajorVersion: 15, MinorVersion: 20, MajorBuildNumber: 8769}, "Exchange Online", false},
	}
	for _, tt := range tests {
		product, note := exchangeRelease(tt.v)
		if product != tt.product || (note != "") != tt.unsupported {
			t.Errorf("exchangeRelease(%s) = %q, %q; want %q, out of support %v", tt.v, product, note, tt.product, tt.unsupported)
		}
	}
}

func TestDiagnoseTokenSourceFails(t *testing.T) {
	srv := scctest.NewTLSServer(t, scctest.WithVersion(scctest.ExchangeOnline))
	_, port, _ := net.SplitHostPort(srv.Listener().Addr().String())
	cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "contoso.onmicrosoft.com", ClientID: diagAppID,
		ClientSecret: org.NewSecret(diagSecret), EWSURL: "https://outlook.office365.com:" + port + "/EWS/Exchange.asmx"}
	d := mustDiagnose(t, cfg, diagAlice,
		WithResolver(fakeResolver{"outlook.office365.com": {"127.0.0.1"}}),
		WithInsecureSkipVerify(),
		WithBearerToken(func(context.Context) (string, error) {
			return "", fmt.Errorf("AADSTS7000215: Invalid client secret provided")
		}),
		withDiagnoseClock(func() time.Time { return time.Date(2026, time.November, 20, 12, 0, 0, 0, time.UTC) }))
	st := assertFailsAt(t, d, StepLogon, "", "client secret or certificate", "login.microsoftonline.com")
	if !strings.Contains(st.Detail, "AADSTS7000215") {
		t.Errorf("logon detail = %q, want the token source's error", st.Detail)
	}
	if n := srv.Stats().Requests; n != 1 {
		t.Errorf("the server saw %d requests, want only the unauthenticated probe", n)
	}
}

// TestDiagnoseAppOnlyFromConfiguration: the configuration alone is enough
// for app-only access: Diagnose gets its token from the (fake) Entra ID
// token endpoint with the configuration's client secret, resolving and
// trusting as its own steps do, and the fake Exchange accepts it.
func TestDiagnoseAppOnlyFromConfiguration(t *testing.T) {
	srv := scctest.NewTLSServer(t, scctest.WithVersion(scctest.ExchangeOnline))
	if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: diagAlice}); err != nil {
		t.Fatal(err)
	}
	entra := newEntraFake(t, diagSecret, nil)
	if err := srv.AddToken(entra.accessToken, scctest.Token{Kind: scctest.AppOnly, AppID: diagAppID}); err != nil {
		t.Fatal(err)
	}
	entra.clientID = diagAppID
	_, port, _ := net.SplitHostPort(srv.Listener().Addr().String())
	cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "contoso.onmicrosoft.com", ClientID: diagAppID,
		ClientSecret: org.NewSecret(diagSecret), EWSURL: "https://outlook.office365.com:" + port + "/EWS/Exchange.asmx"}
	pool := x509.NewCertPool()
	pool.AddCert(entra.srv.Certificate())
	d := mustDiagnose(t, cfg, diagAlice,
		WithResolver(fakeResolver{"outlook.office365.com": {"127.0.0.1"}}),
		WithRootCAs(pool), WithInsecureSkipVerify(), // the fake's certificate does not name outlook.office365.com
		WithAuthority(entra.srv.URL),
		withDiagnoseClock(func() time.Time { return time.Date(2026, time.November, 20, 12, 0, 0, 0, time.UTC) }))
	if st, ok := d.Step(StepImpersonation); !ok || st.Status != StepPassed {
		t.Errorf("impersonation step = %+v, want it passed with the token from the configuration", st)
	}
	if n := entra.requests.Load(); n != 1 {
		t.Errorf("the token endpoint saw %d requests, want 1", n)
	}
}

// TestDiagnoseLeavesNoGoroutines: when Diagnose returns, its connections
// (the TLS step's, and the keep-alive connections of its EWS clients) are
// closed and no goroutine of it is left.
func TestDiagnoseLeavesNoGoroutines(t *testing.T) {
	f := newDiagFake(t, scctest.ImpersonateAll(), org.AuthNTLM)
	before := runtime.NumGoroutine()
	d := f.diagnose(t, diagAlice, WithWriteTest())
	if !d.OK() {
		t.Fatalf("Diagnose() failed: %+v", d.Steps)
	}
	waitGoroutines(t, before)
}

// TestWithEWSOptionsServesCheckAndDiagnose: one WithEWSOptions value is
// both an Option and a Option, so a program that checks and
// diagnoses the same server configures its EWS client once.
func TestWithEWSOptionsServesCheckAndDiagnose(t *testing.T) {
	f := newDiagFake(t, scctest.ImpersonateAll(), org.AuthNTLM)
	client := WithHTTPClient(f.srv.Client())
	rep, err := CheckUsers(context.Background(), f.cfg, []org.User{{PrimarySMTP: diagAlice}}, client)
	if err != nil || !rep.OK() {
		t.Fatalf("CheckUsers(WithEWSOptions) = %v, %v; want every user ok", rep.Counts, err)
	}
	d := mustDiagnose(t, f.cfg, diagAlice, client, WithRootCAs(f.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs))
	if !d.OK() {
		t.Errorf("Diagnose(WithEWSOptions) failed: %+v", d.Steps)
	}
}
