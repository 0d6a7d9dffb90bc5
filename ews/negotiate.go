package ews

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// WithNegotiatedAuth authenticates the service account with the scheme the
// server offers, for a configuration that does not say which: logon
// (DOMAIN\user or user@domain) and password are used with NTLM when the
// server offers NTLM or Negotiate, and with Basic when it offers Basic
// only and the endpoint is https://. Anything else keeps NTLM, which sends
// no credentials to a server that does not offer it, so the call ends in
// an [*AuthError] naming "NTLM" and the schemes offered.
//
// The server says what it offers in the 401 it answers to a request
// without credentials, which costs no failed logon: the first request goes
// out that way, and the choice holds for the life of the Client. Until the
// server has accepted the credentials once, requests go one at a time, and
// calls that wait while one fails with a 401 fail with the same 401
// without sending anything. If the server rejects the credentials before
// it ever accepted them, the Client sends them no more: every later call
// fails at once with the same [*AuthError] (build a new Client once the
// password is fixed). So concurrent first calls share one anonymous request
// and, with a wrong password, cost exactly one failed logon however many
// there are, rather than one each, which would lock the account out of
// Active Directory.
//
// Everything said for [WithNTLM] applies when NTLM is chosen (HTTP/1.1,
// one handshake per connection, an *http.Transport in [WithHTTPClient]).
// Basic is never chosen over plain http://, even with [WithInsecureHTTP].
func WithNegotiatedAuth(logon, password string) Option {
	return func(c *clientConfig) error {
		const option = "WithNegotiatedAuth"
		if err := checkNTLMLogon(option, logon); err != nil {
			return err
		}
		if strings.Contains(logon, ":") {
			return fmt.Errorf("ews: %s: logon %q contains ':', which Basic authentication cannot carry", option, logon)
		}
		if password == "" {
			return fmt.Errorf("ews: %s: password of %q is empty", option, logon)
		}
		pw := secret(password)
		return c.setAuth(&negotiatedAuth{
			ntlm:  &ntlmAuth{option: option, logon: logon, password: pw},
			basic: &basicAuth{username: logon, password: pw},
			state: &negotiation{},
		})
	}
}

// negotiatedAuth is the negotiated method: NTLM or Basic, chosen on the
// first answer of the server.
type negotiatedAuth struct {
	ntlm  *ntlmAuth
	basic *basicAuth
	state *negotiation
}

// negotiation is the choice, shared by the method and its transport.
type negotiation struct {
	mu     sync.Mutex
	chosen string // "", "NTLM" or "Basic"
}

func (n *negotiation) get() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.chosen
}

func (n *negotiation) set(scheme string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.chosen = scheme
}

// scheme is the chosen scheme, NTLM until the server has said.
func (a *negotiatedAuth) scheme() string {
	if a.state.get() == "Basic" {
		return "Basic"
	}
	return "NTLM"
}

// secretInClear is false: Basic is only chosen over https://.
func (*negotiatedAuth) secretInClear() bool { return false }

func (a *negotiatedAuth) prepareTransport(t *http.Transport) error { return a.ntlm.prepareTransport(t) }
func (a *negotiatedAuth) addSecrets(r *redactor)                   { a.ntlm.addSecrets(r) }
func (a *negotiatedAuth) String() string                           { return "negotiated auth for " + a.ntlm.logon }
func (a *negotiatedAuth) GoString() string                         { return a.String() }

func (a *negotiatedAuth) wrap(l *connLayers) (http.RoundTripper, error) {
	if l.transport == nil {
		return nil, errOpaqueTransport(a.ntlm.option, l.opaque)
	}
	nt, err := newNTLMTransport(a.ntlm, l.transport, l.wrap)
	if err != nil {
		return nil, err
	}
	base, err := l.roundTripper()
	if err != nil {
		return nil, err
	}
	return &negotiatingTransport{auth: a, ntlm: nt, basic: basicTransport{base: base, auth: a.basic}}, nil
}

// negotiatingTransport chooses the scheme on the first answer and lets one
// request at a time through until the server has accepted the credentials
// once (see WithNegotiatedAuth).
type negotiatingTransport struct {
	auth  *negotiatedAuth
	ntlm  *ntlmTransport
	basic basicTransport

	mu       sync.Mutex
	accepted bool          // the server answered a request with something else than 401
	leader   *leadingRound // the request in flight while not accepted
	rejected http.Header   // the 401 to credentials never accepted, for good
}

// leadingRound is one request sent while the credentials are unproven;
// requests that wait for it share its 401.
type leadingRound struct {
	done     chan struct{}
	rejected http.Header // the 401's headers, nil if it was not a 401
}

func (t *negotiatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := replayable(req); err != nil {
		return nil, err
	}
	for {
		t.mu.Lock()
		if t.accepted {
			t.mu.Unlock()
			return t.send(req)
		}
		if t.rejected != nil {
			h := t.rejected
			t.mu.Unlock()
			return unauthorized(req, h), nil
		}
		if r := t.leader; r != nil {
			t.mu.Unlock()
			select {
			case <-r.done:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
			if r.rejected != nil {
				return unauthorized(req, r.rejected), nil
			}
			continue
		}
		r := &leadingRound{done: make(chan struct{})}
		t.leader = r
		t.mu.Unlock()
		return t.lead(req, r)
	}
}

// unauthorized is the 401 shared with req, which was not sent.
func unauthorized(req *http.Request, h http.Header) *http.Response {
	return &http.Response{Status: "401 Unauthorized", StatusCode: http.StatusUnauthorized,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h.Clone(),
		Body: http.NoBody, ContentLength: 0, Request: req}
}

// credentialsSent reports whether the chosen scheme sends credentials to
// this server (NTLM sends none to a server that does not offer it).
func (t *negotiatingTransport) credentialsSent() bool {
	switch t.auth.state.get() {
	case "Basic":
		return true
	case "NTLM":
		return t.ntlm.knownScheme() != ""
	}
	return false
}

// lead sends req while the others wait, and records the outcome for them.
func (t *negotiatingTransport) lead(req *http.Request, r *leadingRound) (resp *http.Response, err error) {
	defer func() {
		t.mu.Lock()
		switch {
		case err != nil || resp == nil:
		case resp.StatusCode == http.StatusUnauthorized:
			r.rejected = resp.Header.Clone()
			if t.credentialsSent() {
				t.rejected = r.rejected
			}
		default:
			t.accepted = true
		}
		t.leader = nil
		t.mu.Unlock()
		close(r.done)
	}()
	if t.auth.state.get() != "" {
		return t.send(req)
	}
	// Nothing chosen yet: the NTLM transport sends req without
	// credentials and starts a handshake only if the server offers NTLM
	// or Negotiate.
	resp, err = t.ntlm.RoundTrip(req)
	if err != nil {
		return nil, err // nothing learnt; the next request asks again
	}
	if t.ntlm.knownScheme() != "" || resp.StatusCode != http.StatusUnauthorized {
		t.auth.state.set("NTLM")
		return resp, nil
	}
	offered := offeredSchemes(resp.Header.Values("WWW-Authenticate"))
	if !containsFold(offered, "Basic") || !strings.EqualFold(req.URL.Scheme, "https") {
		// Nothing usable: keep NTLM, which sends no credentials to this
		// server, and let the caller see the 401 and its offers.
		t.auth.state.set("NTLM")
		return resp, nil
	}
	t.auth.state.set("Basic")
	r2, err := cloneWithBody(req)
	if err != nil {
		return resp, nil
	}
	drain(resp)
	return t.basic.RoundTrip(r2)
}

func (t *negotiatingTransport) send(req *http.Request) (*http.Response, error) {
	if t.auth.state.get() == "Basic" {
		r, err := cloneWithBody(req)
		if err != nil {
			return nil, err
		}
		return t.basic.RoundTrip(r)
	}
	return t.ntlm.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of both schemes.
func (t *negotiatingTransport) CloseIdleConnections() {
	t.ntlm.CloseIdleConnections()
	t.basic.CloseIdleConnections()
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
