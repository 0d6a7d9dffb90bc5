package ews

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/internal/ntlmserver"
)

// authGetFolderResponse is what the test server answers to any
// authenticated request.
const authGetFolderResponse = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="2" MajorBuildNumber="1544" MinorBuildNumber="4" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header>
  <s:Body>
    <m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
      <m:ResponseMessages>
        <m:GetFolderResponseMessage ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>
          <m:Folders><t:Folder><t:FolderId Id="AAMkInbox" ChangeKey="AQAAAA=="/><t:DisplayName>Inbox</t:DisplayName></t:Folder></m:Folders>
        </m:GetFolderResponseMessage>
      </m:ResponseMessages>
    </m:GetFolderResponse>
  </s:Body>
</s:Envelope>`

const (
	testPassword = "Corr3ct-Horse!"
	testToken    = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.app-only-token"
)

// authServer is an EWS endpoint that authenticates like IIS: Basic, NTLM
// (verified by internal/ntlmserver, per connection) and Bearer, each when
// enabled, offering the enabled schemes in its 401s.
type authServer struct {
	*httptest.Server
	ntlm   *ntlmserver.Server
	basic  bool
	bearer func(token string) bool // nil: Bearer off
	// closeChallenges is how many NTLM challenges go out with
	// "Connection: close", so that the handshake's AUTHENTICATE leg finds
	// its connection gone.
	closeChallenges int
	// closeServed is how many answers to authenticated requests go out
	// with "Connection: close", ending the authenticated connection.
	closeServed int

	mu         sync.Mutex
	challenges int   // NTLM challenge legs
	logons     int   // NTLM logons (AUTHENTICATE accepted)
	served     int   // requests answered 200
	conns      int   // TCP connections
	closed     int   // TCP connections closed
	protos     []int // ProtoMajor of every request
	authz      []string
	failures   []error
}

type serverOpt func(*authServer)

func withNTLMServer(t *testing.T) serverOpt { return withNTLMServerTB(t) }

func withNTLMServerTB(t testing.TB) serverOpt {
	return func(s *authServer) {
		ns, err := ntlmserver.New(ntlmserver.Config{NetBIOSDomain: "CONTOSO", DNSDomain: "contoso.com",
			Password: func(user, domain string) (string, bool) {
				// DOMAIN\user arrives as ("svc-sync", "CONTOSO"),
				// user@domain as ("svc-sync@contoso.com", "").
				switch {
				case strings.EqualFold(user, "svc-sync") && (domain == "" || strings.EqualFold(domain, "CONTOSO")),
					strings.EqualFold(user, "svc-sync@contoso.com") && domain == "":
					return testPassword, true
				}
				return "", false
			}})
		if err != nil {
			t.Fatal(err)
		}
		s.ntlm = ns
	}
}

// withClosingChallenges makes the server close the connection after each of
// its first n NTLM challenges, as a server or a proxy between the legs of a
// handshake may.
func withClosingChallenges(n int) serverOpt {
	return func(s *authServer) { s.closeChallenges = n }
}

// withClosingServed makes the server close the connection after each of its
// first n answers to authenticated requests.
func withClosingServed(n int) serverOpt {
	return func(s *authServer) { s.closeServed = n }
}

// isNTLMNegotiate reports whether an Authorization value carries an NTLM
// NEGOTIATE message (the first leg of a handshake).
func isNTLMNegotiate(authz string) bool {
	_, tok, _ := strings.Cut(authz, " ")
	msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok))
	return err == nil && len(msg) >= 12 && string(msg[:8]) == "NTLMSSP\x00" && msg[8] == 1
}

func withBasicServer() serverOpt { return func(s *authServer) { s.basic = true } }

func withBearerServer(valid func(string) bool) serverOpt {
	return func(s *authServer) { s.bearer = valid }
}

func (s *authServer) offer(w http.ResponseWriter) {
	if s.ntlm != nil {
		w.Header().Add("WWW-Authenticate", "Negotiate")
		w.Header().Add("WWW-Authenticate", "NTLM")
	}
	if s.basic {
		w.Header().Add("WWW-Authenticate", `Basic realm="mail.contoso.com"`)
	}
	if s.bearer != nil {
		w.Header().Add("WWW-Authenticate", `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", error="invalid_token"`)
	}
}

func (s *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.protos = append(s.protos, r.ProtoMajor)
	s.authz = append(s.authz, r.Header.Get("Authorization"))
	s.mu.Unlock()
	ok := false
	authz := r.Header.Get("Authorization")
	switch {
	case s.basic && strings.HasPrefix(authz, "Basic "):
		u, p, _ := r.BasicAuth()
		ok = (u == `CONTOSO\svc-sync` || u == "svc-sync@contoso.com") && subtle.ConstantTimeCompare([]byte(p), []byte(testPassword)) == 1
	case s.bearer != nil && strings.HasPrefix(authz, "Bearer "):
		ok = s.bearer(strings.TrimPrefix(authz, "Bearer "))
		if !ok {
			w.Header().Set("X-Ms-Diagnostics", `2000008;reason="The token has expired.";error_category="invalid_token"`)
		}
	case s.ntlm != nil:
		s.mu.Lock()
		if s.closeChallenges > 0 && isNTLMNegotiate(authz) {
			s.closeChallenges--
			w.Header().Set("Connection", "close")
		}
		s.mu.Unlock()
		res := s.ntlm.Authenticate(w, r)
		s.mu.Lock()
		switch res.Status {
		case ntlmserver.ChallengeSent:
			s.challenges++
		case ntlmserver.Authenticated:
			if res.Scheme != "" {
				s.logons++
			}
		case ntlmserver.Failed:
			s.failures = append(s.failures, res.Err)
		}
		s.mu.Unlock()
		if res.Status == ntlmserver.ChallengeSent {
			return
		}
		ok = res.Status == ntlmserver.Authenticated
	}
	if !ok {
		s.offer(w)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	if s.closeServed > 0 {
		s.closeServed--
		w.Header().Set("Connection", "close")
	}
	s.served++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(w, authGetFolderResponse)
}

type authStats struct {
	Challenges, Logons, Served, Conns int
}

func (s *authServer) stats() authStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return authStats{s.challenges, s.logons, s.served, s.conns}
}

// newAuthServer starts an authServer over plain HTTP, or over TLS with
// HTTP/2 offered when tlsH2 is set.
func newAuthServer(t testing.TB, tlsH2 bool, opts ...serverOpt) *authServer {
	t.Helper()
	s := &authServer{}
	for _, o := range opts {
		o(s)
	}
	s.Server = httptest.NewUnstartedServer(s)
	if s.ntlm != nil {
		s.Config.ConnContext = s.ntlm.ConnContext
	}
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		case http.StateClosed, http.StateHijacked:
			s.mu.Lock()
			s.closed++
			s.mu.Unlock()
		}
	}
	if tlsH2 {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *authServer) client(t testing.TB, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithRetryPolicy(NoRetries())}, opts...)
	if strings.HasPrefix(s.URL, "https://") {
		opts = append(opts, WithHTTPClient(s.Client()))
	}
	c, err := NewClient(s.URL+"/EWS/Exchange.asmx", opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

var inbox = DistinguishedFolder(FolderInbox)

func getInbox(ctx context.Context, c *Client) error {
	_, err := c.GetFolder(ctx, &GetFolderRequest{FolderIDs: []FolderID{inbox}})
	return err
}

// wantAuthError checks that err is an *AuthError with the given scheme and
// offered schemes, and that it does not leak secrets.
func wantAuthError(t *testing.T, err error, scheme string, offered []string) {
	t.Helper()
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("GetFolder error = %v (%T), want *AuthError", err, err)
	}
	if ae.Scheme != scheme || ae.StatusCode != 401 {
		t.Errorf("AuthError scheme, status = %q, %d, want %q, 401", ae.Scheme, ae.StatusCode, scheme)
	}
	if diff := cmp.Diff(offered, ae.Offered); diff != "" {
		t.Errorf("AuthError.Offered (-want +got):\n%s", diff)
	}
	for _, secret := range []string{testPassword, testToken, "wrong-password"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains a secret", err)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	tests := []struct {
		name, user, password string
		wantOK               bool
	}{
		{"right password", `CONTOSO\svc-sync`, testPassword, true},
		{"UPN", "svc-sync@contoso.com", testPassword, true},
		{"wrong password", `CONTOSO\svc-sync`, "wrong-password", false},
		{"wrong user", `CONTOSO\someone`, testPassword, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthServer(t, false, withBasicServer())
			c := s.client(t, WithBasicAuth(tt.user, tt.password), WithInsecureHTTP())
			err := getInbox(context.Background(), c)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("GetFolder as %s = %v, want success", tt.user, err)
				}
				return
			}
			wantAuthError(t, err, "Basic", []string{"Basic"})
		})
	}
}

func TestSecretsRefusedOverPlainHTTP(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
	}{
		{"Basic", WithBasicAuth("svc-sync@contoso.com", testPassword)},
		{"TokenSource", WithTokenSource[*oauthToken](&rotatingSource{})},
		{"BearerToken", WithBearerToken(func(context.Context) (string, error) { return testToken, nil })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient("http://exchange.contoso.com/EWS/Exchange.asmx", tt.opt)
			if err == nil || !strings.Contains(err.Error(), "WithInsecureHTTP") {
				t.Errorf("NewClient(http://, %s) = %v, want a refusal naming WithInsecureHTTP", tt.name, err)
			}
			if _, err := NewClient("http://exchange.contoso.com/EWS/Exchange.asmx", tt.opt, WithInsecureHTTP()); err != nil {
				t.Errorf("NewClient(http://, %s, WithInsecureHTTP()) = %v, want success", tt.name, err)
			}
		})
	}
	if _, err := NewClient("http://exchange.contoso.com/EWS/Exchange.asmx", WithNTLM(`CONTOSO\svc-sync`, testPassword)); err != nil {
		t.Errorf("NewClient(http://, WithNTLM) = %v, want success: NTLM sends no reusable secret", err)
	}
}

func TestAuthOptionValidation(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		wantErr string
	}{
		{"Basic empty user", []Option{WithBasicAuth(" ", "pw")}, "username is empty"},
		{"Basic colon", []Option{WithBasicAuth("a:b", "pw")}, "':'"},
		{"Basic empty password", []Option{WithBasicAuth("svc", "")}, "password"},
		{"NTLM no domain", []Option{WithNTLM("svc-sync", "pw")}, "logon"},
		{"NTLM empty domain", []Option{WithNTLM(`\svc-sync`, "pw")}, "logon"},
		{"NTLM empty user", []Option{WithNTLM(`CONTOSO\`, "pw")}, "logon"},
		{"NTLM two backslashes", []Option{WithNTLM(`A\B\c`, "pw")}, "logon"},
		{"NTLM empty UPN domain", []Option{WithNTLM("svc@", "pw")}, "logon"},
		{"NTLM two at signs", []Option{WithNTLM("a@b@c", "pw")}, "logon"},
		{"NTLM spaces", []Option{WithNTLM(` CONTOSO\svc`, "pw")}, "logon"},
		{"NTLM empty password", []Option{WithNTLM(`CONTOSO\svc`, "")}, "password"},
		{"nil token source", []Option{WithTokenSource[*oauthToken](nil)}, "nil"},
		{"nil token func", []Option{WithBearerToken(nil)}, "nil"},
		{"two methods", []Option{WithNTLM(`CONTOSO\svc`, "pw"), WithBasicAuth("svc", "pw")}, "two auth options"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient("https://exchange.contoso.com/EWS/Exchange.asmx", tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "ews: ") {
				t.Errorf("NewClient(%s) = %v, want an ews error containing %q", tt.name, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "pw\"") {
				t.Errorf("error %q quotes the password", err)
			}
		})
	}
}

func TestNTLM(t *testing.T) {
	tests := []struct {
		name, logon, password string
		wantOK                bool
		wantFailure           error
	}{
		{`DOMAIN\user`, `CONTOSO\svc-sync`, testPassword, true, nil},
		{"user@domain", "svc-sync@contoso.com", testPassword, true, nil},
		{"wrong password", `CONTOSO\svc-sync`, "wrong-password", false, ntlmserver.ErrWrongPassword},
		{"wrong password UPN", "svc-sync@contoso.com", "wrong-password", false, ntlmserver.ErrWrongPassword},
		{"wrong user", `CONTOSO\someone`, testPassword, false, ntlmserver.ErrUnknownAccount},
		{"wrong domain", `FABRIKAM\svc-sync`, testPassword, false, ntlmserver.ErrUnknownAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthServer(t, false, withNTLMServer(t))
			c := s.client(t, WithNTLM(tt.logon, tt.password))
			err := getInbox(context.Background(), c)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("GetFolder as %s = %v, want success", tt.logon, err)
				}
				if got := s.stats(); got.Logons != 1 || got.Served != 1 {
					t.Errorf("server stats = %+v, want one logon, one request served", got)
				}
				return
			}
			wantAuthError(t, err, "NTLM", []string{"Negotiate", "NTLM"})
			s.mu.Lock()
			failures := s.failures
			s.mu.Unlock()
			if len(failures) != 1 || !errors.Is(failures[0], tt.wantFailure) {
				t.Errorf("server failures = %v, want one %v", failures, tt.wantFailure)
			}
		})
	}
}

// TestNTLMOneHandshakePerConnection measures handshakes for N sequential
// requests: one connection, one handshake, N requests served, and every
// request after the first goes out without Authorization.
func TestNTLMOneHandshakePerConnection(t *testing.T) {
	for _, tlsH2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tlsH2), func(t *testing.T) {
			s := newAuthServer(t, tlsH2, withNTLMServer(t))
			c := s.client(t, WithNTLM(`CONTOSO\svc-sync`, testPassword))
			const n = 25
			for i := range n {
				if err := getInbox(context.Background(), c); err != nil {
					t.Fatalf("GetFolder #%d = %v", i, err)
				}
			}
			want := authStats{Challenges: 1, Logons: 1, Served: n, Conns: 1}
			if diff := cmp.Diff(want, s.stats()); diff != "" {
				t.Errorf("server stats for %d requests (-want +got):\n%s", n, diff)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			// anonymous probe, NEGOTIATE, AUTHENTICATE, then n-1 bare requests
			if got := len(s.authz); got != n+2 {
				t.Errorf("server saw %d HTTP requests for %d calls, want %d", got, n, n+2)
			}
			for i, a := range s.authz[3:] {
				if a != "" {
					t.Errorf("request %d after the handshake carried Authorization %.12q..., want none", i+2, a)
				}
			}
			for _, p := range s.protos {
				if p != 1 {
					t.Fatalf("server saw HTTP/%d, want HTTP/1.1 only", p)
				}
			}
		})
	}
}

// TestNTLMConcurrent: many goroutines share one client; every handshake
// stays on its connection (no failures), and each connection handshakes
// once.
func TestNTLMConcurrent(t *testing.T) {
	s := newAuthServer(t, false, withNTLMServer(t))
	c := s.client(t, WithNTLM(`CONTOSO\svc-sync`, testPassword))
	const workers, each = 8, 15
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := getInbox(context.Background(), c); err != nil {
					failed.Add(1)
					t.Errorf("GetFolder = %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := s.stats()
	s.mu.Lock()
	failures := s.failures
	s.mu.Unlock()
	if failed.Load() != 0 || len(failures) != 0 {
		t.Fatalf("%d calls failed; server refused %v", failed.Load(), failures)
	}
	// One handshake per connection, always. The number of connections is
	// at most one per worker on an idle machine; under load net/http may
	// drop a connection whose write it has not seen finish within 50 ms of
	// the response (maxWriteWaitBeforeConnReuse) and the slot then dials a
	// new one with a full handshake, so allow a few more, far fewer than a
	// handshake per request would need.
	if st.Served != workers*each || st.Logons != st.Conns || st.Challenges != st.Conns || st.Conns > 2*workers {
		t.Errorf("server stats = %+v, want %d served and exactly one handshake per connection (at most %d connections)", st, workers*each, 2*workers)
	}
}

// TestNTLMForcesHTTP11: against a TLS server that offers h2 (which the
// test's own client uses with Basic), NTLM goes over HTTP/1.1.
func TestNTLMForcesHTTP11(t *testing.T) {
	s := newAuthServer(t, true, withNTLMServer(t), withBasicServer())
	basic := s.client(t, WithBasicAuth(`CONTOSO\svc-sync`, testPassword))
	if err := getInbox(context.Background(), basic); err != nil {
		t.Fatalf("GetFolder with Basic = %v", err)
	}
	s.mu.Lock()
	if len(s.protos) != 1 || s.protos[0] != 2 {
		t.Fatalf("Basic client used HTTP/%v, want HTTP/2: the server must offer h2 for this test to mean anything", s.protos)
	}
	s.protos = nil
	s.mu.Unlock()

	ntlm := s.client(t, WithNTLM(`CONTOSO\svc-sync`, testPassword))
	if err := getInbox(context.Background(), ntlm); err != nil {
		t.Fatalf("GetFolder with NTLM = %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.protos {
		if p != 1 {
			t.Errorf("NTLM client used HTTP/%d, want 1", p)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// oauthToken mirrors the method set of golang.org/x/oauth2.Token that
// matters here.
type oauthToken struct {
	AccessToken string
	TokenType   string
}

func (t *oauthToken) SetAuthHeader(r *http.Request) {
	typ := t.TokenType
	if typ == "" {
		typ = "Bearer"
	}
	r.Header.Set("Authorization", typ+" "+t.AccessToken)
}

// oauthTokenSource mirrors golang.org/x/oauth2.TokenSource: a named
// interface whose Token returns a pointer to a concrete token type.
type oauthTokenSource interface {
	Token() (*oauthToken, error)
}

// rotatingSource returns tokens[i] on its i-th call (the last one
// repeatedly).
type rotatingSource struct {
	mu     sync.Mutex
	tokens []string
	calls  int
	err    error
}

func (s *rotatingSource) Token() (*oauthToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		s.calls++
		return nil, s.err
	}
	tok := s.tokens[min(s.calls, len(s.tokens)-1)]
	s.calls++
	return &oauthToken{AccessToken: tok, TokenType: "Bearer"}, nil
}

func TestBearer(t *testing.T) {
	valid := func(tok string) bool { return tok == testToken }
	tests := []struct {
		name       string
		tokens     []string
		wantOK     bool
		wantSent   []string // Authorization headers the server saw
		wantCalled int      // Token calls
	}{
		{"valid", []string{testToken}, true, []string{"Bearer " + testToken}, 1},
		{"expired then refreshed", []string{"expired", testToken}, true, []string{"Bearer expired", "Bearer " + testToken}, 2},
		{"expired and not refreshed", []string{"expired"}, false, []string{"Bearer expired"}, 2},
		{"refreshed to another bad token", []string{"expired", "revoked"}, false, []string{"Bearer expired", "Bearer revoked"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthServer(t, true, withBearerServer(valid))
			var src oauthTokenSource = &rotatingSource{tokens: tt.tokens}
			// T is inferred from a value of a named interface type shaped
			// like oauth2.TokenSource.
			c := s.client(t, WithTokenSource(src))
			err := getInbox(context.Background(), c)
			s.mu.Lock()
			sent := s.authz
			s.mu.Unlock()
			if diff := cmp.Diff(tt.wantSent, sent); diff != "" {
				t.Errorf("Authorization headers (-want +got):\n%s", diff)
			}
			if got := src.(*rotatingSource).calls; got != tt.wantCalled {
				t.Errorf("Token() called %d times, want %d", got, tt.wantCalled)
			}
			if tt.wantOK {
				if err != nil {
					t.Fatalf("GetFolder = %v, want success", err)
				}
				return
			}
			wantAuthError(t, err, "Bearer", []string{"Bearer"})
			var ae *AuthError
			if errors.As(err, &ae) && !strings.Contains(ae.Diagnostics, "The token has expired") {
				t.Errorf("AuthError.Diagnostics = %q, want the server's x-ms-diagnostics", ae.Diagnostics)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	s := newAuthServer(t, true, withBearerServer(func(tok string) bool { return tok == testToken }))
	type ctxKey struct{}
	var gotCtx atomic.Bool
	c := s.client(t, WithBearerToken(func(ctx context.Context) (string, error) {
		gotCtx.Store(ctx.Value(ctxKey{}) == "call")
		return testToken, nil
	}))
	if err := getInbox(context.WithValue(context.Background(), ctxKey{}, "call"), c); err != nil {
		t.Fatalf("GetFolder = %v", err)
	}
	if !gotCtx.Load() {
		t.Errorf("token function did not get the call's context")
	}

	t.Run("source error", func(t *testing.T) {
		boom := errors.New("AADSTS7000215: Invalid client secret provided")
		src := &rotatingSource{err: boom}
		c := s.client(t, WithTokenSource[*oauthToken](src))
		err := getInbox(context.Background(), c)
		var te *TokenError
		if !errors.As(err, &te) || !errors.Is(err, boom) {
			t.Fatalf("GetFolder with a failing token source = %v, want a *TokenError wrapping the source's error", err)
		}
		if st := s.stats(); st.Served != 1 {
			t.Errorf("server served %d, want no request sent without a token", st.Served-1)
		}
		var tr *TransportError
		if !errors.As(err, &tr) || tr.MaybeSent {
			t.Errorf("GetFolder with a failing token source = %#v, want a *TransportError with MaybeSent false: nothing was sent", err)
		}
		if IsTransient(err) {
			t.Errorf("IsTransient(%v) = true, want false: a failing token source is not retried", err)
		}
		src.mu.Lock()
		calls := src.calls
		src.mu.Unlock()
		if calls != 1 {
			t.Errorf("token source called %d times, want 1 (no retry against the identity provider)", calls)
		}
	})
	t.Run("empty token", func(t *testing.T) {
		c := s.client(t, WithBearerToken(func(context.Context) (string, error) { return " ", nil }))
		var te *TokenError
		if err := getInbox(context.Background(), c); !errors.As(err, &te) {
			t.Fatalf("GetFolder with an empty token = %v, want *TokenError", err)
		}
	})
	t.Run("typed nil token", func(t *testing.T) {
		c := s.client(t, WithTokenSource[*oauthToken](nilSource{}))
		var te *TokenError
		if err := getInbox(context.Background(), c); !errors.As(err, &te) {
			t.Fatalf("GetFolder with a nil *Token = %v, want *TokenError", err)
		}
	})
}

type nilSource struct{}

func (nilSource) Token() (*oauthToken, error) { return nil, nil }

// TestNoSecretsInValues: neither the Client nor the auth methods print
// their secrets with any verb.
func TestNoSecretsInValues(t *testing.T) {
	for _, opt := range []Option{
		WithBasicAuth(`CONTOSO\svc-sync`, testPassword),
		WithNTLM(`CONTOSO\svc-sync`, testPassword),
		WithTokenSource[*oauthToken](&rotatingSource{tokens: []string{testToken}}),
	} {
		c, err := NewClient("https://exchange.contoso.com/EWS/Exchange.asmx", opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []any{c, *c, c.cfg, *c.cfg, c.cfg.auth, c.http, c.http.Transport} {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				if s := fmt.Sprintf(verb, v); strings.Contains(s, testPassword) || strings.Contains(s, testToken) {
					t.Errorf("fmt.Sprintf(%q, %T) reveals a secret: %s", verb, v, s)
				}
			}
		}
	}
}

// TestNTLMReauthAfterConnectionLoss: when the server drops an authenticated
// connection, the next request handshakes again on the new one. (The
// transport never replays a request whose connection died after it was
// written; the Client's retry policy decides, and GetFolder is safe to
// repeat.)
func TestNTLMReauthAfterConnectionLoss(t *testing.T) {
	s := newAuthServer(t, false, withNTLMServer(t))
	c := s.client(t, WithNTLM(`CONTOSO\svc-sync`, testPassword),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 2, MaxWait: time.Second, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	if err := getInbox(context.Background(), c); err != nil {
		t.Fatalf("first GetFolder = %v", err)
	}
	s.CloseClientConnections()
	if err := getInbox(context.Background(), c); err != nil {
		t.Fatalf("GetFolder after the server closed the connection = %v", err)
	}
	if got, want := s.stats(), (authStats{Challenges: 2, Logons: 2, Served: 2, Conns: 2}); got != want {
		t.Errorf("server stats = %+v, want %+v", got, want)
	}
}

// TestNTLMConnectionClosedBetweenLegs: when the connection that carried the
// challenge is gone before the AUTHENTICATE message goes out (the server or
// a proxy closed it, or net/http would not reuse it), the client runs a new
// handshake on a new connection. The AUTHENTICATE message never goes over a
// connection that was not challenged: the server would refuse it, and a
// domain controller may count it against the account's lockout threshold.
func TestNTLMConnectionClosedBetweenLegs(t *testing.T) {
	// dialTLS makes the client's transport open TLS connections itself
	// (DialTLSContext), which net/http then uses instead of DialContext.
	dialTLS := func(s *authServer) Option {
		roots := s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
		return WithHTTPClient(&http.Client{Transport: &http.Transport{
			DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				d := &tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}}
				return d.DialContext(ctx, network, addr)
			},
		}})
	}
	tests := []struct {
		name   string
		tls    bool
		client func(*authServer) Option // nil: the default client
		closes int                      // challenges the server closes the connection after
		wantOK bool
	}{
		{"once", false, nil, 1, true},
		{"twice", false, nil, 2, true},
		{"always", false, nil, 1000, false},
		{"TLS, once", true, nil, 1, true},
		{"TLS, always", true, nil, 1000, false},
		{"caller's DialTLSContext, once", true, dialTLS, 1, true},
		{"caller's DialTLSContext, always", true, dialTLS, 1000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthServer(t, tt.tls, withNTLMServer(t), withClosingChallenges(tt.closes))
			ntlm := WithNTLM(`CONTOSO\svc-sync`, testPassword)
			c := s.client(t, ntlm)
			if tt.client != nil {
				var err error
				if c, err = NewClient(s.URL+"/EWS/Exchange.asmx", WithRetryPolicy(NoRetries()), ntlm, tt.client(s)); err != nil {
					t.Fatalf("NewClient = %v", err)
				}
			}
			err := getInbox(context.Background(), c)
			st := s.stats()
			s.mu.Lock()
			failures := s.failures
			s.mu.Unlock()
			if len(failures) != 0 {
				t.Errorf("server refused NTLM messages %v, want none (no AUTHENTICATE on an unchallenged connection)", failures)
			}
			if tt.wantOK {
				if err != nil {
					t.Fatalf("GetFolder with %d connections closed after the challenge = %v, want success", tt.closes, err)
				}
				if want := (authStats{Challenges: tt.closes + 1, Logons: 1, Served: 1, Conns: tt.closes + 1}); st != want {
					t.Errorf("server stats = %+v, want %+v", st, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "closed the connection") {
				t.Fatalf("GetFolder with every connection closed after the challenge = %v, want an error saying the server closed the connection", err)
			}
			if want := (authStats{Challenges: ntlmHandshakes, Conns: ntlmHandshakes}); st != want {
				t.Errorf("server stats = %+v, want %+v (%d handshakes, then give up)", st, want, ntlmHandshakes)
			}
		})
	}
}

// TestNTLMAuthenticatedConnectionClosed: when the server has closed the
// authenticated connection, the next request handshakes on a new connection
// at once, without first collecting a 401 there.
func TestNTLMAuthenticatedConnectionClosed(t *testing.T) {
	s := newAuthServer(t, false, withNTLMServer(t), withClosingServed(1))
	c := s.client(t, WithNTLM(`CONTOSO\svc-sync`, testPassword))
	for i := range 3 {
		if err := getInbox(context.Background(), c); err != nil {
			t.Fatalf("GetFolder #%d = %v", i+1, err)
		}
	}
	s.mu.Lock()
	var legs []string
	for _, a := range s.authz {
		switch {
		case a == "":
			legs = append(legs, "none")
		case isNTLMNegotiate(a):
			legs = append(legs, "NEGOTIATE")
		default:
			legs = append(legs, "AUTHENTICATE")
		}
	}
	s.mu.Unlock()
	// The first request learns the schemes; the second finds its
	// connection closed and handshakes; the third reuses that connection.
	want := []string{"none", "NEGOTIATE", "AUTHENTICATE", "NEGOTIATE", "AUTHENTICATE", "none"}
	if diff := cmp.Diff(want, legs); diff != "" {
		t.Errorf("Authorization of each request (-want +got):\n%s", diff)
	}
	if got, want := s.stats(), (authStats{Challenges: 2, Logons: 2, Served: 3, Conns: 2}); got != want {
		t.Errorf("server stats = %+v, want %+v", got, want)
	}
}

// TestNTLMMaxConnsPerHost: the caller's transport limit bounds the
// connections (and so the handshakes) of a busy client.
func TestNTLMMaxConnsPerHost(t *testing.T) {
	s := newAuthServer(t, false, withNTLMServer(t))
	c := s.client(t, WithNTLM(`CONTOSO\svc-sync`, testPassword),
		WithHTTPClient(&http.Client{Transport: &http.Transport{MaxConnsPerHost: 2}}))
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if err := getInbox(context.Background(), c); err != nil {
					t.Errorf("GetFolder = %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if st := s.stats(); st.Served != 30 || st.Conns > 2 || st.Logons != st.Conns {
		t.Errorf("server stats = %+v, want 30 served over at most 2 connections, one logon each", st)
	}
}

// TestNTLMContextCancelledWaitingForConnection: a call waiting for a
// connection slot gives up with its context.
func TestNTLMContextCancelledWaitingForConnection(t *testing.T) {
	block, arrived := make(chan struct{}), make(chan struct{})
	s := newAuthServer(t, false, withNTLMServer(t))
	inner := s.Config.Handler
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Block") != "" {
			close(arrived)
			<-block
		}
		inner.ServeHTTP(w, r)
	})
	t.Cleanup(func() { close(block) })
	nt, err := newNTLMTransport(&ntlmAuth{logon: `CONTOSO\svc-sync`, password: secret(testPassword)}, &http.Transport{MaxConnsPerHost: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	blocked, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader("x"))
	blocked.Header.Set("X-Block", "1")
	go func() {
		if resp, err := nt.RoundTrip(blocked); err == nil {
			resp.Body.Close()
		}
	}()
	<-arrived // the blocked request holds the only connection
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader("y"))
	if _, err := nt.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Errorf("RoundTrip with a cancelled context while the only connection is busy = %v, want context.Canceled", err)
	}
}

// BenchmarkNTLMGetFolder measures impersonated GetFolder calls through an
// NTLM client against a server that verifies NTLMv2: the handshake is paid
// once per connection, so its cost amortises to nothing per call.
func BenchmarkNTLMGetFolder(b *testing.B) {
	for _, bc := range []struct {
		name string
		opt  func(b *testing.B) (serverOpt, Option)
	}{
		{"NTLM", func(b *testing.B) (serverOpt, Option) {
			return withNTLMServerTB(b), WithNTLM(`CONTOSO\svc-sync`, testPassword)
		}},
		{"Basic", func(*testing.B) (serverOpt, Option) {
			return withBasicServer(), WithBasicAuth(`CONTOSO\svc-sync`, testPassword)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			so, co := bc.opt(b)
			s := newAuthServer(b, false, so)
			c := s.client(b, co, WithInsecureHTTP())
			alice := c.With(Impersonate(PrimarySmtpAddress("alice@contoso.com")))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := getInbox(ctx, alice); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			st := s.stats()
			b.ReportMetric(float64(st.Challenges)/float64(b.N), "handshakes/op")
		})
	}
	// For comparison: a new connection, hence a handshake, for every call.
	b.Run("NTLM-new-connection-per-call", func(b *testing.B) {
		s := newAuthServer(b, false, withNTLMServerTB(b))
		c := s.client(b, WithNTLM(`CONTOSO\svc-sync`, testPassword))
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := getInbox(ctx, c); err != nil {
				b.Fatal(err)
			}
			c.http.CloseIdleConnections()
		}
		b.StopTimer()
		b.ReportMetric(float64(s.stats().Challenges)/float64(b.N), "handshakes/op")
	})
	b.Run("NTLM-parallel", func(b *testing.B) {
		s := newAuthServer(b, false, withNTLMServerTB(b))
		c := s.client(b, WithNTLM(`CONTOSO\svc-sync`, testPassword))
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := getInbox(context.Background(), c); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		st := s.stats()
		b.ReportMetric(float64(st.Challenges)/float64(b.N), "handshakes/op")
		b.ReportMetric(float64(st.Conns), "conns")
	})
}

// TestNTLMBodyWithoutGetBody: a request body that cannot be re-read is
// buffered so that every handshake leg carries it.
func TestNTLMBodyWithoutGetBody(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	s := newAuthServer(t, false, withNTLMServer(t))
	inner := s.Config.Handler
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		inner.ServeHTTP(w, r)
	})
	nt, err := newNTLMTransport(&ntlmAuth{logon: `CONTOSO\svc-sync`, password: secret(testPassword)}, &http.Transport{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL, io.NopCloser(strings.NewReader("<soap/>")))
	req.GetBody = nil
	resp, err := nt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("RoundTrip = %d, want 200", resp.StatusCode)
	}
	if diff := cmp.Diff([]string{"<soap/>", "<soap/>", "<soap/>"}, bodies); diff != "" {
		t.Errorf("bodies of the probe, NEGOTIATE and AUTHENTICATE legs (-want +got):\n%s", diff)
	}
}

// TestCloseIdleConnections: the client's idle keep-alive connection is
// closed through every transport layer (auth wrapper, wire trace).
func TestCloseIdleConnections(t *testing.T) {
	tests := []struct {
		name   string
		server func(t *testing.T) serverOpt
		auth   Option
	}{
		{"Basic", func(*testing.T) serverOpt { return withBasicServer() }, WithBasicAuth("svc-sync@contoso.com", testPassword)},
		{"NTLM", withNTLMServer, WithNTLM(`CONTOSO\svc-sync`, testPassword)},
	}
	for _, tt := range tests {
		for _, traced := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/trace=%v", tt.name, traced), func(t *testing.T) {
				s := newAuthServer(t, false, tt.server(t))
				opts := []Option{tt.auth, WithInsecureHTTP()}
				if traced {
					opts = append(opts, WithWireTrace(io.Discard))
				}
				c := s.client(t, opts...)
				if err := getInbox(context.Background(), c); err != nil {
					t.Fatalf("GetFolder: %v", err)
				}
				c.CloseIdleConnections()
				deadline := time.Now().Add(5 * time.Second)
				for {
					s.mu.Lock()
					conns, closed := s.conns, s.closed
					s.mu.Unlock()
					if conns > 0 && closed == conns {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("after CloseIdleConnections the server saw %d of %d connections closed, want all", closed, conns)
					}
					time.Sleep(10 * time.Millisecond)
				}
			})
		}
	}
}
