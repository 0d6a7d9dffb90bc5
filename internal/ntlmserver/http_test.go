package ntlmserver

import (
	"bufio"
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
	"testing"

	ntlmssp "github.com/Azure/go-ntlmssp"
)

// fakeIIS is an HTTP server that authenticates with a Server the way IIS
// does for /EWS and records what happened.
type fakeIIS struct {
	*httptest.Server
	ns *Server

	mu         sync.Mutex
	challenges int     // challenge legs answered
	logons     int     // successful AUTHENTICATE messages
	served     int     // requests served (200)
	failures   []error // Result.Err of Failed requests
	conns      int     // TCP connections accepted
}

// offer is the WWW-Authenticate list of the fake's 401s.
func newFakeIIS(t *testing.T, offer []string, start func(*httptest.Server)) *fakeIIS {
	t.Helper()
	f := &fakeIIS{ns: newTestServer(t, Config{}, map[string]string{
		"svc-sync":             "Pa55w0rd!",
		"svc-sync@contoso.com": "Pa55w0rd!",
	})}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := f.ns.Authenticate(w, r)
		f.mu.Lock()
		switch res.Status {
		case ChallengeSent:
			f.challenges++
		case Authenticated:
			if res.Scheme != "" {
				f.logons++
			}
			f.served++
		case Failed:
			f.failures = append(f.failures, res.Err)
		}
		f.mu.Unlock()
		switch res.Status {
		case ChallengeSent:
			return
		case Authenticated:
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s|%s", res.Identity, body)
		default:
			for _, o := range offer {
				w.Header().Add("WWW-Authenticate", o)
			}
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	f.Config.ConnContext = f.ns.ConnContext
	f.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
		}
	}
	if start == nil {
		f.Start()
	} else {
		start(f.Server)
	}
	t.Cleanup(f.Close)
	return f
}

func (f *fakeIIS) counts() (challenges, logons, served, conns int, failures []error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.challenges, f.logons, f.served, f.conns, append([]error(nil), f.failures...)
}

// post sends body with go-ntlmssp's Negotiator, credentials as Basic auth
// (its convention), and returns status and body.
func post(t *testing.T, hc *http.Client, url, logon, password, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(logon, password)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func ntlmClient() *http.Client {
	return &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: &http.Transport{MaxConnsPerHost: 1}}}
}

// TestGoNTLMSSP runs the real go-ntlmssp client against the server.
func TestGoNTLMSSP(t *testing.T) {
	tests := []struct {
		name         string
		offer        []string
		logon, pw    string
		wantStatus   int
		wantIdentity string
		wantErr      error
	}{
		{"DOMAIN\\user", []string{"Negotiate", "NTLM"}, `CONTOSO\svc-sync`, "Pa55w0rd!", 200, `CONTOSO\svc-sync`, nil},
		{"user@domain", []string{"Negotiate", "NTLM"}, "svc-sync@contoso.com", "Pa55w0rd!", 200, "svc-sync@contoso.com", nil},
		{"Negotiate only", []string{"Negotiate"}, `CONTOSO\svc-sync`, "Pa55w0rd!", 200, `CONTOSO\svc-sync`, nil},
		{"wrong password", []string{"Negotiate", "NTLM"}, `CONTOSO\svc-sync`, "pa55w0rd!", 401, "", ErrWrongPassword},
		{"wrong password UPN", []string{"NTLM"}, "svc-sync@contoso.com", "nope", 401, "", ErrWrongPassword},
		{"wrong user", []string{"Negotiate", "NTLM"}, `CONTOSO\someone`, "Pa55w0rd!", 401, "", ErrUnknownAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIIS(t, tt.offer, nil)
			status, body := post(t, ntlmClient(), f.URL, tt.logon, tt.pw, "<soap/>")
			if status != tt.wantStatus {
				t.Fatalf("POST as %s = %d %q, want %d", tt.logon, status, body, tt.wantStatus)
			}
			challenges, logons, _, _, failures := f.counts()
			if challenges != 1 {
				t.Errorf("challenges = %d, want 1", challenges)
			}
			if tt.wantErr == nil {
				if want := tt.wantIdentity + "|<soap/>"; body != want {
					t.Errorf("body = %q, want %q", body, want)
				}
				if logons != 1 || len(failures) != 0 {
					t.Errorf("logons, failures = %d, %v, want 1, none", logons, failures)
				}
				return
			}
			if len(failures) != 1 || !errors.Is(failures[0], tt.wantErr) {
				t.Fatalf("failures = %v, want one %v", failures, tt.wantErr)
			}
			var le *LogonError
			if !errors.As(failures[0], &le) {
				t.Fatalf("failure %T is not a *LogonError", failures[0])
			}
			if got := (Identity{User: le.User, Domain: le.Domain}).String(); got != tt.logon {
				t.Errorf("LogonError names %q, want %q", got, tt.logon)
			}
		})
	}
}

// TestKeepAliveOneHandshake: the connection stays authenticated, so N
// sequential requests over one connection cost one handshake.
func TestKeepAliveOneHandshake(t *testing.T) {
	f := newFakeIIS(t, []string{"Negotiate", "NTLM"}, nil)
	hc := ntlmClient()
	const n = 10
	for i := range n {
		status, body := post(t, hc, f.URL, `CONTOSO\svc-sync`, "Pa55w0rd!", fmt.Sprintf("req %d", i))
		if want := fmt.Sprintf(`CONTOSO\svc-sync|req %d`, i); status != 200 || body != want {
			t.Fatalf("request %d = %d %q, want 200 %q", i, status, body, want)
		}
	}
	challenges, logons, served, conns, _ := f.counts()
	if challenges != 1 || logons != 1 || served != n || conns != 1 {
		t.Errorf("challenges, logons, served, connections = %d, %d, %d, %d, want 1, 1, %d, 1", challenges, logons, served, conns, n)
	}
}

// rawConn speaks HTTP/1.1 over one TCP connection, so a test controls
// exactly which requests share it.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	url  string
}

func dialRaw(t *testing.T, url string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, conn: c, br: bufio.NewReader(c), url: url}
}

func (c *rawConn) do(authorization, body string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.url+"/EWS/Exchange.asmx", strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if err := req.Write(c.conn); err != nil {
		c.t.Fatalf("writing request: %v", err)
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp, string(b)
}

// handshake runs legs 1 and 2 on c; body1 is sent with the NEGOTIATE
// message. It returns the CHALLENGE.
func (c *rawConn) negotiate(scheme, body1 string) []byte {
	c.t.Helper()
	neg, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		c.t.Fatal(err)
	}
	resp, _ := c.do(scheme+" "+base64.StdEncoding.EncodeToString(neg), body1)
	if resp.StatusCode != 401 {
		c.t.Fatalf("NEGOTIATE leg = %d, want 401", resp.StatusCode)
	}
	word, tok, _ := strings.Cut(resp.Header.Get("WWW-Authenticate"), " ")
	if word != scheme {
		c.t.Errorf("challenge scheme = %q, want %q (echo of the client's)", word, scheme)
	}
	chal, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		c.t.Fatalf("challenge token: %v", err)
	}
	return chal
}

func (c *rawConn) authenticate(scheme string, challenge []byte, logon, password, body string) (*http.Response, string) {
	c.t.Helper()
	auth, err := ntlmssp.NewAuthenticateMessage(challenge, logon, password, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(scheme+" "+base64.StdEncoding.EncodeToString(auth), body)
}

// TestBodylessFirstLeg: a client that negotiates with an empty POST and
// sends the body only with the AUTHENTICATE message, then reuses the
// connection without Authorization.
func TestBodylessFirstLeg(t *testing.T) {
	for _, scheme := range []string{"NTLM", "Negotiate"} {
		t.Run(scheme, func(t *testing.T) {
			f := newFakeIIS(t, []string{"Negotiate", "NTLM"}, nil)
			c := dialRaw(t, f.URL)
			chal := c.negotiate(scheme, "")
			resp, body := c.authenticate(scheme, chal, `CONTOSO\svc-sync`, "Pa55w0rd!", "<GetFolder/>")
			if resp.StatusCode != 200 || body != `CONTOSO\svc-sync|<GetFolder/>` {
				t.Fatalf("AUTHENTICATE leg = %d %q, want 200 with the body", resp.StatusCode, body)
			}
			resp, body = c.do("", "<FindItem/>")
			if resp.StatusCode != 200 || body != `CONTOSO\svc-sync|<FindItem/>` {
				t.Fatalf("next request on the connection = %d %q, want 200 without a handshake", resp.StatusCode, body)
			}
			// Another connection is not authenticated.
			resp, _ = dialRaw(t, f.URL).do("", "<FindItem/>")
			if resp.StatusCode != 401 {
				t.Errorf("request on a fresh connection = %d, want 401", resp.StatusCode)
			}
		})
	}
}

// TestLargeBodyOnChallengeLeg: the challenge leg reads the whole body so
// the connection survives for the AUTHENTICATE leg even past net/http's
// own 256 KiB discard limit.
func TestLargeBodyOnChallengeLeg(t *testing.T) {
	f := newFakeIIS(t, []string{"NTLM"}, nil)
	c := dialRaw(t, f.URL)
	big := strings.Repeat("x", 1<<20)
	chal := c.negotiate("NTLM", big)
	resp, body := c.authenticate("NTLM", chal, `CONTOSO\svc-sync`, "Pa55w0rd!", "ok")
	if resp.StatusCode != 200 || body != `CONTOSO\svc-sync|ok` {
		t.Fatalf("AUTHENTICATE after a 1 MiB challenge leg = %d %q, want 200", resp.StatusCode, body)
	}
}

func TestRefusedTokens(t *testing.T) {
	f := newFakeIIS(t, []string{"Negotiate", "NTLM"}, nil)
	chal := func(c *rawConn) []byte { return c.negotiate("NTLM", "") }
	tests := []struct {
		name    string
		steps   func(c *rawConn) (*http.Response, string)
		wantErr error
	}{
		{"SPNEGO token", func(c *rawConn) (*http.Response, string) {
			return c.do("Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnagMDAuBgkqhkiC9xIBAgIG", "")
		}, ErrUnsupportedToken},
		{"not base64", func(c *rawConn) (*http.Response, string) { return c.do("NTLM !!!", "") }, ErrMalformedMessage},
		{"empty token", func(c *rawConn) (*http.Response, string) { return c.do("NTLM", "") }, ErrMalformedMessage},
		{"not NTLMSSP", func(c *rawConn) (*http.Response, string) {
			return c.do("NTLM "+base64.StdEncoding.EncodeToString([]byte("hello world, no ntlm")), "")
		}, ErrMalformedMessage},
		{"AUTHENTICATE without challenge", func(c *rawConn) (*http.Response, string) {
			other := dialRaw(c.t, c.url)
			return c.authenticate("NTLM", chal(other), `CONTOSO\svc-sync`, "Pa55w0rd!", "")
		}, ErrOutOfSequence},
		{"AUTHENTICATE twice", func(c *rawConn) (*http.Response, string) {
			ch := chal(c)
			auth, err := ntlmssp.NewAuthenticateMessage(ch, `CONTOSO\svc-sync`, "Pa55w0rd!", nil)
			if err != nil {
				c.t.Fatal(err)
			}
			tok := "NTLM " + base64.StdEncoding.EncodeToString(auth)
			if resp, _ := c.do(tok, ""); resp.StatusCode != 200 {
				c.t.Fatalf("first AUTHENTICATE = %d, want 200", resp.StatusCode)
			}
			return c.do(tok, "")
		}, ErrOutOfSequence},
		{"CHALLENGE from client", func(c *rawConn) (*http.Response, string) {
			return c.do("NTLM "+base64.StdEncoding.EncodeToString(chal(dialRaw(c.t, c.url))), "")
		}, ErrMalformedMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, _, before := f.counts()
			resp, _ := tt.steps(dialRaw(t, f.URL))
			if resp.StatusCode != 401 {
				t.Fatalf("status = %d, want 401", resp.StatusCode)
			}
			if got := resp.Header.Values("WWW-Authenticate"); strings.Join(got, ",") != "Negotiate,NTLM" {
				t.Errorf("WWW-Authenticate = %q, want the caller's list", got)
			}
			_, _, _, _, after := f.counts()
			if len(after) != len(before)+1 || !errors.Is(after[len(after)-1], tt.wantErr) {
				t.Errorf("failures = %v, want one more %v", after[len(before):], tt.wantErr)
			}
		})
	}
}

// TestNewNegotiateResetsConnection: a NEGOTIATE on an authenticated
// connection starts over, and a failed logon leaves it unauthenticated.
func TestNewNegotiateResetsConnection(t *testing.T) {
	f := newFakeIIS(t, []string{"NTLM"}, nil)
	c := dialRaw(t, f.URL)
	if resp, _ := c.authenticate("NTLM", c.negotiate("NTLM", ""), `CONTOSO\svc-sync`, "Pa55w0rd!", ""); resp.StatusCode != 200 {
		t.Fatalf("logon = %d, want 200", resp.StatusCode)
	}
	if resp, _ := c.authenticate("NTLM", c.negotiate("NTLM", ""), `CONTOSO\svc-sync`, "wrong", ""); resp.StatusCode != 401 {
		t.Fatalf("second logon with a wrong password = %d, want 401", resp.StatusCode)
	}
	if resp, _ := c.do("", ""); resp.StatusCode != 401 {
		t.Errorf("request after the failed logon = %d, want 401 (connection no longer authenticated)", resp.StatusCode)
	}
}

func TestNoConnContext(t *testing.T) {
	ns := newTestServer(t, Config{}, nil)
	var got Result
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = ns.Authenticate(w, r)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer ts.Close()
	c := dialRaw(t, ts.URL)
	neg, _ := ntlmssp.NewNegotiateMessage("", "")
	c.do("NTLM "+base64.StdEncoding.EncodeToString(neg), "")
	if got.Status != Failed || !errors.Is(got.Err, ErrNoConnState) {
		t.Errorf("Authenticate without ConnContext = %v %v, want Failed ErrNoConnState", got.Status, got.Err)
	}
}

// TestHTTP2Refused: NTLM must not run over HTTP/2, where one connection
// carries many requests.
func TestHTTP2Refused(t *testing.T) {
	f := newFakeIIS(t, []string{"NTLM"}, func(s *httptest.Server) {
		s.EnableHTTP2 = true
		s.StartTLS()
	})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}, ForceAttemptHTTP2: true}
	hc := &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: tr}}
	// No body at all: over HTTP/2 go-ntlmssp rewinds a request body while
	// the transport's stream writer may still be reading it (a data race in
	// the client library, not in the server under test).
	req, err := http.NewRequest(http.MethodPost, f.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(`CONTOSO\svc-sync`, "Pa55w0rd!")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", f.URL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("NTLM over HTTP/2 = %d, want 401", resp.StatusCode)
	}
	if resp.ProtoMajor != 2 {
		t.Fatalf("response protocol = %s, want HTTP/2", resp.Proto)
	}
	_, _, _, _, failures := f.counts()
	if len(failures) == 0 || !errors.Is(failures[0], ErrHTTP2) {
		t.Errorf("failures = %v, want ErrHTTP2", failures)
	}
}

func TestAnonymous(t *testing.T) {
	f := newFakeIIS(t, []string{"Negotiate", "NTLM"}, nil)
	resp, err := http.Post(f.URL, "text/xml", strings.NewReader("<x/>"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("anonymous POST = %d, want 401", resp.StatusCode)
	}
	if got := resp.Header.Values("WWW-Authenticate"); strings.Join(got, ",") != "Negotiate,NTLM" {
		t.Errorf("WWW-Authenticate = %q, want [Negotiate NTLM]", got)
	}
}
