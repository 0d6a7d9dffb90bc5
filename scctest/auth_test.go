package scctest

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"

	ntlmssp "github.com/Azure/go-ntlmssp"

	"github.com/sccsync/scc/ews"
)

// ntlmClient is go-ntlmssp's negotiator over a keep-alive transport: it
// resends the body on every leg.
func ntlmClient() *http.Client {
	return &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: &http.Transport{}}}
}

func TestNTLMNegotiator(t *testing.T) {
	s := newTestServer(t, WithAuth(AuthNTLM))
	tests := []struct {
		name, user, pass string
		wantStatus       int
	}{
		{"DOMAIN user", testSvc, testPassword, 200},
		{"lowercase domain", `contoso\SVC-SYNC`, testPassword, 200},
		{"DNS domain", `contoso.example\svc-sync`, testPassword, 200},
		{"owner UPN", "alice@ad.contoso.example", "alice-pw", 200},
		{"wrong password", testSvc, "wrong", 401},
		{"unknown user", `CONTOSO\nobody`, "x", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := envelope(version("Exchange2013_SP1")+imp(alice), getInbox)
			if strings.Contains(tt.user, "alice") {
				body = envelope(version("Exchange2013_SP1"), getInbox)
			}
			r := do(t, s, ntlmClient(), req{user: tt.user, pass: tt.pass, body: body})
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d\n%s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantStatus == 200 && (len(r.codes) != 1 || r.codes[0] != ews.NoError) {
				t.Errorf("codes = %v, want [NoError]", r.codes)
			}
		})
	}
	if got := s.Stats().FailedLogons[strings.ToLower(testSvc)]; got != 1 {
		t.Errorf("FailedLogons[%s] = %d, want 1", testSvc, got)
	}
	var ntlmOK int
	for _, r := range s.Requests() {
		if r.AuthScheme == AuthNTLM && r.StatusCode == 200 {
			ntlmOK++
		}
	}
	if ntlmOK != 4 {
		t.Errorf("NTLM-authenticated 200 answers = %d, want 4", ntlmOK)
	}
}

// rawLeg sends one request on client c and returns the response.
func rawLeg(t *testing.T, c *http.Client, url, authz, body string, closeConn bool, reused *atomic.Int32) *http.Response {
	t.Helper()
	hr, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if authz != "" {
		hr.Header.Set("Authorization", authz)
	}
	hr.Close = closeConn
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if i.Reused {
			reused.Add(1)
		}
	}}
	hr = hr.WithContext(httptrace.WithClientTrace(context.Background(), trace))
	res, err := c.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestNTLMBodylessFirstLegs drives the handshake by hand the way WinHTTP
// and some SOAP stacks do: empty POSTs for NEGOTIATE, the body only with
// AUTHENTICATE; with both scheme words; then the connection stays
// authenticated for later requests without Authorization, until the client
// closes it.
func TestNTLMBodylessFirstLegs(t *testing.T) {
	for _, word := range []string{"NTLM", "Negotiate"} {
		t.Run(word, func(t *testing.T) {
			s := newTestServer(t, WithAuth(AuthNTLM, AuthBasic))
			c := &http.Client{Transport: &http.Transport{}}
			var reused atomic.Int32
			neg, err := ntlmssp.NewNegotiateMessage("CONTOSO", "")
			if err != nil {
				t.Fatal(err)
			}
			res := rawLeg(t, c, s.EWSURL(), word+" "+base64.StdEncoding.EncodeToString(neg), "", false, &reused)
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 401 {
				t.Fatalf("NEGOTIATE leg status = %d, want 401", res.StatusCode)
			}
			ch := res.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, word+" ") {
				t.Fatalf("challenge header = %q, want the %s scheme word echoed", ch, word)
			}
			chal, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(ch, word+" "))
			if err != nil {
				t.Fatal(err)
			}
			auth, err := ntlmssp.ProcessChallenge(chal, "svc-sync", testPassword, true)
			if err != nil {
				t.Fatal(err)
			}
			body := envelope(version("Exchange2013_SP1")+imp(alice), getInbox)
			res = rawLeg(t, c, s.EWSURL(), word+" "+base64.StdEncoding.EncodeToString(auth), body, false, &reused)
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("AUTHENTICATE leg status = %d, want 200\n%s", res.StatusCode, b)
			}
			// Same connection, no Authorization: still authenticated; the
			// client asks to close it afterwards.
			res = rawLeg(t, c, s.EWSURL(), "", body, true, &reused)
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("follow-up on the authenticated connection: status = %d, want 200", res.StatusCode)
			}
			if got := reused.Load(); got != 2 {
				t.Errorf("reused connections = %d, want 2 (all legs on one keep-alive connection)", got)
			}
			// A new connection is anonymous again.
			res = rawLeg(t, c, s.EWSURL(), "", body, false, &reused)
			res.Body.Close()
			if res.StatusCode != 401 {
				t.Errorf("request on a new connection: status = %d, want 401", res.StatusCode)
			}
		})
	}
}

func TestNTLMRejectsKerberos(t *testing.T) {
	s := newTestServer(t, WithAuth(AuthNTLM))
	r := do(t, s, nil, req{headers: map[string]string{"Authorization": "Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag"}, body: envelope("", getInbox)})
	if r.status != 401 {
		t.Errorf("SPNEGO token: status = %d, want 401", r.status)
	}
}

func TestLockout(t *testing.T) {
	s := newTestServer(t, WithLockout(2))
	body := envelope(version("Exchange2013_SP1")+imp(alice), getInbox)
	for i := range 2 {
		if r := do(t, s, nil, req{user: testSvc, pass: "wrong", body: body}); r.status != 401 {
			t.Fatalf("wrong password #%d: status = %d, want 401", i+1, r.status)
		}
	}
	if !s.Locked(testSvc) {
		t.Fatalf("Locked(%s) = false after 2 failures, want true", testSvc)
	}
	if r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: body}); r.status != 401 {
		t.Errorf("right password on a locked account (Basic): status = %d, want 401", r.status)
	}
	if r := do(t, s, ntlmClient(), req{user: testSvc, pass: testPassword, body: body}); r.status != 401 {
		t.Errorf("right password on a locked account (NTLM): status = %d, want 401", r.status)
	}
	if err := s.Unlock(testSvc); err != nil {
		t.Fatal(err)
	}
	if r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: body}); r.status != 200 {
		t.Errorf("after Unlock: status = %d, want 200", r.status)
	}
	if got := s.Stats().FailedLogons[strings.ToLower(testSvc)]; got != 4 {
		t.Errorf("FailedLogons = %d, want 4 (2 wrong + 2 while locked)", got)
	}
}

func TestRevokeToken(t *testing.T) {
	s := newTestServer(t)
	if err := s.AddToken("tok", Token{Kind: Delegated, User: bob}); err != nil {
		t.Fatal(err)
	}
	r := req{bearer: "tok", body: envelope(version("Exchange2013_SP1"), getInbox)}
	if got := do(t, s, nil, r); got.status != 200 {
		t.Fatalf("status = %d, want 200", got.status)
	}
	s.RevokeToken("tok")
	if got := do(t, s, nil, r); got.status != 401 {
		t.Errorf("after RevokeToken: status = %d, want 401", got.status)
	}
}

func TestAuthOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
	}{
		{"no schemes", WithAuth()},
		{"unknown scheme", WithAuth("Digest")},
		{"negative lockout", WithLockout(-1)},
		{"bad version", WithVersion(ServerVersion(99))},
		{"bad netbios", WithDomain("CON.TOSO", "contoso.example")},
		{"bad dns", WithDomain("CONTOSO", "contoso")},
		{"nil clock", WithClock(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opt); err == nil || !strings.HasPrefix(err.Error(), "scctest: ") {
				t.Errorf("New(%s) error = %v, want an scctest error", tt.name, err)
			}
		})
	}
}

func ntlmsspNegotiator(rt http.RoundTripper) http.RoundTripper {
	return ntlmssp.Negotiator{RoundTripper: rt}
}
