package ews

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
)

// WithNTLM authenticates with NTLM (NTLMv2), as on-premises Exchange offers
// for /EWS through Integrated Windows Authentication. logon is the service
// account as DOMAIN\user (e.g. CONTOSO\svc-sync) or user@domain (the UPN,
// e.g. svc-sync@contoso.com); the messages are built by
// github.com/Azure/go-ntlmssp.
//
// NTLM authenticates a TCP connection, not a request, so the client:
//   - uses HTTP/1.1 only (NTLM fails over HTTP/2, where requests share a
//     connection);
//   - runs each handshake on one connection that no other request can use
//     meanwhile, even under heavy concurrency;
//   - handshakes once per kept-alive connection: later requests on an
//     authenticated connection go out without Authorization and are
//     accepted as they are, and only a 401 starts a new handshake (or the
//     connection being gone, which starts one on a new connection at once);
//   - never sends the AUTHENTICATE message over a connection other than
//     the one that carried the challenge (the server would refuse it, and
//     a domain controller may count it towards a lockout): when that
//     connection is closed between the legs, the handshake starts over on
//     a new one, up to 3 times;
//   - keeps up to 100 idle connections (or the http.Transport's
//     MaxIdleConnsPerHost, when set) so that bursts do not pay for new
//     handshakes, and honours MaxConnsPerHost.
//
// The password never crosses the wire, so NTLM is allowed over plain
// http://; prefer https:// anyway, as the SOAP bodies are not protected.
// A request whose handshake fails ends in an [*AuthError] naming "NTLM".
//
// The handshake runs below [WithWireTrace] and [WithTransportMiddleware]:
// both see every leg, and neither can move a leg to another connection.
// The http.Client given to [WithHTTPClient] must have an *http.Transport
// (or none): a RoundTripper of another type hides its connections, so
// [NewClient] refuses it with NTLM (wrap it with WithTransportMiddleware
// instead).
func WithNTLM(logon, password string) Option {
	return func(c *clientConfig) error {
		if err := checkNTLMLogon("WithNTLM", logon); err != nil {
			return err
		}
		if password == "" {
			return fmt.Errorf("ews: WithNTLM: password of %q is empty", logon)
		}
		return c.setAuth(&ntlmAuth{option: "WithNTLM", logon: logon, password: secret(password)})
	}
}

// checkNTLMLogon accepts DOMAIN\user and user@domain.
func checkNTLMLogon(option, logon string) error {
	bad := func(why string) error {
		return fmt.Errorf(`ews: %s: logon %q %s; want DOMAIN\user (e.g. CONTOSO\svc-sync) or user@domain (e.g. svc-sync@contoso.com)`, option, logon, why)
	}
	if strings.TrimSpace(logon) != logon || logon == "" {
		return bad("is empty or has surrounding spaces")
	}
	if strings.ContainsAny(logon, "\x00\r\n\t") {
		return bad("contains control characters")
	}
	if dom, user, ok := strings.Cut(logon, `\`); ok {
		if dom == "" || user == "" || strings.Contains(user, `\`) {
			return bad(`is not of the form DOMAIN\user`)
		}
		return nil
	}
	if user, dom, ok := strings.Cut(logon, "@"); ok {
		if user == "" || dom == "" || strings.Contains(dom, "@") {
			return bad("is not of the form user@domain")
		}
		return nil
	}
	return bad("has no domain")
}

// ntlmAuth is the NTLM method. The password sits in a closure, which fmt
// never prints.
type ntlmAuth struct {
	option   string // the Option that configured it, for errors
	logon    string
	password func() string
}

func (*ntlmAuth) scheme() string      { return "NTLM" }
func (*ntlmAuth) secretInClear() bool { return false }
func (a *ntlmAuth) String() string    { return "NTLM auth for " + a.logon }
func (a *ntlmAuth) GoString() string  { return a.String() }

// prepareTransport forces HTTP/1.1: NTLM authenticates the connection, and
// HTTP/2 multiplexes requests of any credentials over one connection.
func (*ntlmAuth) prepareTransport(t *http.Transport) error {
	t.ForceAttemptHTTP2 = false
	t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	var p http.Protocols
	p.SetHTTP1(true)
	t.Protocols = &p
	if t.TLSClientConfig != nil {
		t.TLSClientConfig.NextProtos = slices.DeleteFunc(slices.Clone(t.TLSClientConfig.NextProtos), func(s string) bool { return s == "h2" })
	} else {
		t.TLSClientConfig = &tls.Config{}
	}
	if t.TLSClientConfig.ClientSessionCache == nil {
		// Each connection pays a handshake; let TLS resume at least.
		t.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return nil
}

func (a *ntlmAuth) addSecrets(r *redactor) { r.addPassword(a.logon, a.password) }

func (a *ntlmAuth) wrap(l *connLayers) (http.RoundTripper, error) {
	if l.transport == nil {
		return nil, errOpaqueTransport(a.option, l.opaque)
	}
	return newNTLMTransport(a, l.transport, l.wrap)
}

// errOpaqueTransport explains why NTLM cannot run over rt.
func errOpaqueTransport(option string, rt http.RoundTripper) error {
	return fmt.Errorf("ews: %s: the http.Client of WithHTTPClient has a Transport of type %T, which hides its connections; "+
		"NTLM authenticates a connection, and a handshake whose legs take two connections is a failed logon even with the right password; "+
		"give WithHTTPClient a client whose Transport is an *http.Transport (or nil) and pass the wrapping RoundTripper with WithTransportMiddleware", option, rt)
}

func newNTLMTransport(a *ntlmAuth, t *http.Transport, wrap func(http.RoundTripper) (http.RoundTripper, error)) (*ntlmTransport, error) {
	if wrap == nil {
		wrap = func(rt http.RoundTripper) (http.RoundTripper, error) { return rt, nil }
	}
	// Build the layers once now, so that a middleware that fails does so
	// in NewClient rather than on the first call.
	if _, err := wrap(t.Clone()); err != nil {
		return nil, err
	}
	nt := &ntlmTransport{auth: a, template: t, wrap: wrap, maxIdle: defaultNTLMIdle}
	if t.MaxIdleConnsPerHost > 0 {
		nt.maxIdle = t.MaxIdleConnsPerHost
	}
	if t.MaxConnsPerHost > 0 {
		nt.sem = make(chan struct{}, t.MaxConnsPerHost)
	}
	return nt, nil
}

// defaultNTLMIdle is how many idle authenticated connections a client keeps
// when its transport does not say.
const defaultNTLMIdle = 100

// ntlmTransport pins each NTLM handshake to one connection. It owns a pool
// of "slots": an *http.Transport that holds at most one connection, used by
// one request at a time (checked out until the response body is closed),
// with the client's layers (middleware, wire trace) around it. Because a
// slot has a single connection, all legs of a handshake go over it, whatever
// the layers do; because it is exclusive, no other request interleaves; and
// because each slot remembers which connection it authenticated (seen
// through httptrace), a request on that connection goes out without a
// handshake.
type ntlmTransport struct {
	auth     *ntlmAuth
	template *http.Transport
	wrap     func(http.RoundTripper) (http.RoundTripper, error)
	maxIdle  int
	sem      chan struct{} // MaxConnsPerHost, nil when unlimited

	mu     sync.Mutex
	idle   []*ntlmSlot
	scheme string // "NTLM" or "Negotiate", once the server has said
}

type ntlmSlot struct {
	conns  *http.Transport   // holds the slot's one connection
	rt     http.RoundTripper // conns with the layers around it
	authed net.Conn          // connection the last handshake authenticated

	// pinned makes the slot's dialer refuse new connections while a
	// request must go over the slot's current one (the AUTHENTICATE leg,
	// or a request on an authenticated connection); refused records that
	// it did. The dialer runs on net/http's goroutines, hence atomics.
	pinned  atomic.Bool
	refused atomic.Bool
}

// errNTLMConnGone is what a pinned slot's dialer returns: the connection the
// request had to go over is gone, and a new one would not be authenticated
// (or challenged). Callers see it only wrapped.
var errNTLMConnGone = errors.New("no new connection for a leg that must go over the challenged one")

// dialer wraps the transport's dial function so that a pinned slot refuses
// to open a connection.
func (s *ntlmSlot) dialer(next func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if s.pinned.Load() {
			s.refused.Store(true)
			return nil, errNTLMConnGone
		}
		return next(ctx, network, addr)
	}
}

func (t *ntlmTransport) getSlot(ctx context.Context) (*ntlmSlot, error) {
	if t.sem != nil {
		select {
		case t.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	t.mu.Lock()
	if n := len(t.idle); n > 0 {
		s := t.idle[n-1]
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		return s, nil
	}
	t.mu.Unlock()
	s := &ntlmSlot{conns: t.template.Clone()}
	s.conns.MaxConnsPerHost = 1
	s.conns.MaxIdleConnsPerHost = 1
	// Every connection of the slot is opened through its dialer, which
	// a pinned slot refuses: plain connections, TLS ones (net/http runs
	// TLS over DialContext unless DialTLSContext is set) and those
	// through a proxy.
	dial := s.conns.DialContext
	if d := s.conns.Dial; dial == nil && d != nil { //nolint:staticcheck // honour the deprecated field a caller set
		dial = func(_ context.Context, network, addr string) (net.Conn, error) { return d(network, addr) }
	}
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	s.conns.DialContext = s.dialer(dial)
	dialTLS := s.conns.DialTLSContext
	if d := s.conns.DialTLS; dialTLS == nil && d != nil { //nolint:staticcheck // honour the deprecated field a caller set
		dialTLS = func(_ context.Context, network, addr string) (net.Conn, error) { return d(network, addr) }
	}
	if dialTLS != nil {
		s.conns.DialTLSContext = s.dialer(dialTLS)
	}
	rt, err := t.wrap(s.conns)
	if err != nil {
		if t.sem != nil {
			<-t.sem
		}
		return nil, err
	}
	s.rt = rt
	return s, nil
}

func (t *ntlmTransport) putSlot(s *ntlmSlot) {
	t.mu.Lock()
	keep := len(t.idle) < t.maxIdle
	if keep {
		t.idle = append(t.idle, s)
	}
	t.mu.Unlock()
	if !keep {
		s.conns.CloseIdleConnections()
	}
	if t.sem != nil {
		<-t.sem
	}
}

// knownScheme returns "NTLM" or "Negotiate" once the server has offered
// one, or "".
func (t *ntlmTransport) knownScheme() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.scheme
}

// CloseIdleConnections closes the connections of idle slots.
func (t *ntlmTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := slices.Clone(t.idle)
	t.mu.Unlock()
	for _, s := range idle {
		s.conns.CloseIdleConnections()
	}
}

func (t *ntlmTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := replayable(req); err != nil {
		return nil, err
	}
	s, err := t.getSlot(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := t.roundTrip(s, req)
	if err != nil {
		t.putSlot(s)
		return nil, err
	}
	resp.Body = &slotBody{ReadCloser: resp.Body, release: func() { t.putSlot(s) }}
	return resp, nil
}

// replayable makes sure req's body can be sent once per handshake leg: it
// reads a body without GetBody into memory, and closes the original body,
// as a RoundTripper must.
func replayable(req *http.Request) error {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		closeBody(req)
		return nil
	}
	data, err := io.ReadAll(req.Body)
	closeBody(req)
	if err != nil {
		return fmt.Errorf("ews: reading the request body: %w", err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return nil
}

// ntlmHandshakes bounds the handshakes one request runs when the server
// keeps closing the connection between a handshake's legs.
const ntlmHandshakes = 3

func (t *ntlmTransport) roundTrip(s *ntlmSlot, req *http.Request) (*http.Response, error) {
	scheme := t.knownScheme()
	if s.authed != nil || scheme == "" {
		// The slot's connection was authenticated (or we do not know
		// the server's schemes yet): send as is. On an authenticated
		// slot the request must go over that connection: if it is
		// gone, a new one needs a handshake, so go straight to it
		// rather than collect a 401 first.
		resp, _, err := s.send(req, "", s.authed != nil)
		switch {
		case err != nil && s.refused.Load():
			s.authed = nil // nothing was sent: handshake below
		case err != nil || resp.StatusCode != http.StatusUnauthorized:
			return resp, err
		default:
			s.authed = nil
			sch := ntlmSchemeOffered(resp.Header.Values("WWW-Authenticate"))
			if sch == "" {
				return resp, nil // no NTLM offered: the caller sees the 401
			}
			drain(resp)
			scheme = sch
			t.mu.Lock()
			t.scheme = sch
			t.mu.Unlock()
		}
	}
	for n := 1; ; n++ {
		resp, err := t.handshake(s, req, scheme)
		if err == nil || !s.refused.Load() {
			return resp, err
		}
		// The connection that carried the challenge was gone before
		// the AUTHENTICATE message went out, which did not go out:
		// start over on a new connection.
		if n == ntlmHandshakes {
			return nil, fmt.Errorf("ews: NTLM: the server closed the connection between the challenge and the AUTHENTICATE message, %d times in a row; "+
				"NTLM needs both on one kept-alive connection: check that no proxy or load balancer in front of Exchange closes connections: %w", n, err)
		}
	}
}

// handshake runs the NEGOTIATE and AUTHENTICATE legs over the slot's
// connection. When the connection is gone before the AUTHENTICATE leg, it
// returns an error and sets s.refused, having sent nothing more.
func (t *ntlmTransport) handshake(s *ntlmSlot, req *http.Request, scheme string) (*http.Response, error) {
	// Leg 1: NEGOTIATE. The body goes with every leg, so a server that
	// accepts a leg early has the whole request.
	neg, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		return nil, fmt.Errorf("ews: NTLM: building the NEGOTIATE message: %w", err)
	}
	resp, conn1, err := s.send(req, scheme+" "+base64.StdEncoding.EncodeToString(neg), false)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	challenge, ok := ntlmChallenge(resp.Header.Values("WWW-Authenticate"), scheme)
	if !ok {
		return resp, nil // refused without a challenge
	}
	drain(resp)

	// Leg 2: AUTHENTICATE, on the connection that carried the challenge
	// and no other: on a new connection the server has no handshake to
	// finish, refuses the message, and may count a failed logon. The slot
	// is pinned so that net/http cannot open one; if the connection is
	// gone (the server closed it, or net/http would not reuse it, as it
	// does when its writer reports late under load), send fails unsent.
	auth, err := ntlmssp.NewAuthenticateMessage(challenge, t.auth.logon, t.auth.password(), nil)
	if err != nil {
		return nil, fmt.Errorf("ews: NTLM: answering the server's challenge: %w", err)
	}
	resp, conn2, err := s.send(req, scheme+" "+base64.StdEncoding.EncodeToString(auth), true)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusUnauthorized && conn2 != nil && conn2 == conn1 {
		s.authed = conn2
	}
	return resp, nil
}

// send sends a copy of req with a fresh body and the given Authorization
// (none when empty) through the slot, and reports the connection used.
// With pin, the request may only go over the slot's current connection;
// when that is gone, send fails and sets s.refused.
func (s *ntlmSlot) send(req *http.Request, authorization string, pin bool) (*http.Response, net.Conn, error) {
	var conn net.Conn
	ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { conn = i.Conn },
	})
	r := req.Clone(ctx)
	r.Body = nil
	if req.GetBody != nil {
		b, err := req.GetBody()
		if err != nil {
			return nil, nil, fmt.Errorf("ews: replaying the request body: %w", err)
		}
		r.Body = b
	}
	if authorization == "" {
		r.Header.Del("Authorization")
	} else {
		r.Header.Set("Authorization", authorization)
	}
	s.refused.Store(false)
	s.pinned.Store(pin)
	resp, err := s.rt.RoundTrip(r)
	s.pinned.Store(false)
	return resp, conn, err
}

// slotBody returns the slot to the pool when the response body is closed,
// which is when its connection is free for another request.
type slotBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// ntlmSchemeOffered returns "NTLM" or "Negotiate" if the WWW-Authenticate
// values offer it (NTLM preferred: Negotiate may mean Kerberos to the
// server, though raw NTLMSSP works under both), or "".
func ntlmSchemeOffered(values []string) string {
	found := ""
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			word, _, _ := strings.Cut(strings.TrimSpace(part), " ")
			switch {
			case strings.EqualFold(word, "NTLM"):
				return "NTLM"
			case strings.EqualFold(word, "Negotiate"):
				found = "Negotiate"
			}
		}
	}
	return found
}

// ntlmChallenge returns the decoded CHALLENGE token sent under scheme.
func ntlmChallenge(values []string, scheme string) ([]byte, bool) {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			word, tok, _ := strings.Cut(strings.TrimSpace(part), " ")
			tok = strings.TrimSpace(tok)
			if !strings.EqualFold(word, scheme) || tok == "" {
				continue
			}
			b, err := base64.StdEncoding.DecodeString(tok)
			if err != nil || len(b) == 0 {
				return nil, false
			}
			return b, true
		}
	}
	return nil, false
}
