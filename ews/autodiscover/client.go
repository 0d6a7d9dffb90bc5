package autodiscover

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
	"net/url"
	"strings"
	"sync"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
)

// Client runs Autodiscover. It is safe for concurrent use. Build it with
// [New]; the zero value is not usable.
type Client struct {
	cfg  config
	base *http.Transport

	mu      sync.Mutex
	offered map[string]map[string]bool // host -> auth schemes it ever offered (lower case)
	tokens  []string                   // the last bearer tokens sent, to scrub from server text
}

// DefaultUserAgent is the User-Agent of every request.
const DefaultUserAgent = "scc-autodiscover/1 (+https://github.com/sccsync/scc)"

// New returns a Client configured by opts.
func New(opts ...Option) (*Client, error) {
	cfg := config{
		protocols:   []Protocol{SOAP, POX, JSON},
		maxHops:     DefaultMaxHops,
		maxBytes:    DefaultMaxResponseBytes,
		timeout:     DefaultRequestTimeout,
		userAgent:   DefaultUserAgent,
		concurrency: 4,
	}
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("autodiscover: option %d is nil", i)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.lookupSRV == nil {
		cfg.lookupSRV = net.DefaultResolver.LookupSRV
	}
	dial := cfg.dial
	if dial == nil {
		d := &net.Dialer{Timeout: 10 * time.Second}
		dial = d.DialContext
	}
	t := &http.Transport{
		DialContext:           dial,
		TLSClientConfig:       cfg.tls,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.timeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       30 * time.Second,
		// HTTP/1.1 only: NTLM authenticates a connection.
		ForceAttemptHTTP2: false,
		TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	return &Client{cfg: cfg, base: t, offered: map[string]map[string]bool{}}, nil
}

// CloseIdleConnections closes kept-alive connections.
func (c *Client) CloseIdleConnections() { c.base.CloseIdleConnections() }

// reply is one HTTP answer, read in full (bounded).
type reply struct {
	status   int
	header   http.Header
	body     []byte
	authSent string // scheme of the Authorization of the final leg, "" if none
	offers   []string
}

// errTooLarge marks a response body over the limit.
var errTooLarge = errors.New("response body exceeds the size limit")

// refusal is a decision of ours not to send credentials (or not to send at
// all); it is never the server's fault.
type refusal struct{ why string }

func (r *refusal) Error() string { return r.why }

// send sends one request. With auth it authenticates with the Client's
// credentials, where the policy allows and without downgrade; every
// Authorization header is set by authorize, which checks the policy again.
func (c *Client) send(ctx context.Context, pol *policy, method string, u *url.URL, contentType string, body []byte, auth bool) (*reply, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
	defer cancel()
	cred := c.cfg.cred
	if !auth || cred.kind == credNone {
		return c.leg(ctx, c.base, pol, method, u, contentType, body, "")
	}
	if err := pol.credentialsAllowed(u, cred); err != nil {
		return nil, &refusal{why: "no credentials sent: " + err.Error()}
	}
	host := strings.ToLower(u.Hostname())
	switch cred.kind {
	case credNTLM:
		return c.sendNTLM(ctx, pol, method, u, contentType, body)
	case credBasic, credBearer:
		scheme := cred.kind.String()
		if !c.known(host, strings.ToLower(scheme)) {
			r, err := c.leg(ctx, c.base, pol, method, u, contentType, body, "")
			if err != nil || r.status != http.StatusUnauthorized {
				return r, err
			}
			c.remember(host, r.offers)
			if err := c.schemeAcceptable(host, cred.kind, r.offers); err != nil {
				return nil, err
			}
		} else if err := c.schemeAcceptable(host, cred.kind, nil); err != nil {
			return nil, err
		}
		var value string
		if cred.kind == credBasic {
			value = "Basic " + base64.StdEncoding.EncodeToString([]byte(cred.user+":"+cred.secret()))
		} else {
			tok, err := cred.token(ctx)
			if err != nil {
				return nil, fmt.Errorf("getting an access token: %w", err)
			}
			if tok == "" || strings.ContainsAny(tok, "\r\n") {
				return nil, errors.New("the token source returned an empty or malformed token")
			}
			c.noteToken(tok)
			value = "Bearer " + tok
		}
		r, err := c.leg(ctx, c.base, pol, method, u, contentType, body, value)
		if err == nil && r.status == http.StatusUnauthorized {
			c.remember(host, r.offers)
		}
		return r, err
	}
	return nil, fmt.Errorf("unknown credentials kind %d", cred.kind)
}

// noteToken remembers a token sent, so that scrub can remove it from what
// a server says.
func (c *Client) noteToken(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.tokens {
		if t == tok {
			return
		}
	}
	c.tokens = append(c.tokens, tok)
	if len(c.tokens) > 8 {
		c.tokens = c.tokens[1:]
	}
}

// scrub removes every secret of the Client (password, the Basic header
// value, tokens sent) from s, which may hold what a hostile server echoed.
func (c *Client) scrub(s string) string {
	cred := c.cfg.cred
	var secrets []string
	if cred.secret != nil {
		if p := cred.secret(); len(p) >= 1 {
			secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(cred.user+":"+p)), p)
		}
	}
	c.mu.Lock()
	secrets = append(secrets, c.tokens...)
	c.mu.Unlock()
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// schemeAcceptable refuses a scheme the server did not offer, and Basic to a
// host that has offered anything stronger (now or before): the "switcheroo"
// downgrade.
func (c *Client) schemeAcceptable(host string, kind credKind, offers []string) error {
	c.mu.Lock()
	ever := c.offered[host]
	c.mu.Unlock()
	has := func(s string) bool {
		for _, o := range offers {
			if o == s {
				return true
			}
		}
		return ever[s]
	}
	switch kind {
	case credBasic:
		if has("ntlm") || has("negotiate") || has("bearer") {
			return &refusal{why: fmt.Sprintf("no credentials sent: %s offered NTLM, Negotiate or Bearer, so Basic would be a downgrade", host)}
		}
		if !has("basic") {
			return &refusal{why: fmt.Sprintf("no credentials sent: %s does not offer Basic (offers: %s)", host, offerList(offers))}
		}
	case credBearer:
		if !has("bearer") {
			return &refusal{why: fmt.Sprintf("no credentials sent: %s does not offer Bearer (offers: %s); a token is never sent as anything else", host, offerList(offers))}
		}
	}
	return nil
}

func offerList(offers []string) string {
	if len(offers) == 0 {
		return "none"
	}
	return strings.Join(offers, ", ")
}

// known reports whether host has offered scheme before.
func (c *Client) known(host, scheme string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offered[host][scheme]
}

// remember records the schemes host offered; offers only ever accumulate,
// so a host that once offered NTLM never gets Basic from this Client.
func (c *Client) remember(host string, offers []string) {
	if len(offers) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.offered[host]
	if m == nil {
		m = map[string]bool{}
		c.offered[host] = m
	}
	for _, o := range offers {
		m[o] = true
	}
}

// parseOffers returns the lower-case scheme names of WWW-Authenticate values.
func parseOffers(values []string) []string {
	var out []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, " ")
			if name == "" || strings.Contains(name, "=") {
				continue // an auth-param of the previous challenge
			}
			n := strings.ToLower(name)
			dup := false
			for _, o := range out {
				dup = dup || o == n
			}
			if !dup {
				out = append(out, n)
			}
		}
	}
	return out
}

// sendNTLM runs an NTLM handshake on a connection of its own: a transport
// that holds exactly one connection, so that all legs share it, and that
// nothing else uses.
func (c *Client) sendNTLM(ctx context.Context, pol *policy, method string, u *url.URL, contentType string, body []byte) (*reply, error) {
	host := strings.ToLower(u.Hostname())
	t := c.base.Clone()
	t.MaxConnsPerHost = 1
	t.MaxIdleConnsPerHost = 1
	defer t.CloseIdleConnections()
	r, err := c.leg(ctx, t, pol, method, u, contentType, body, "")
	if err != nil || r.status != http.StatusUnauthorized {
		return r, err
	}
	c.remember(host, r.offers)
	scheme := ""
	for _, o := range r.offers {
		if o == "ntlm" && scheme == "" {
			scheme = "NTLM"
		}
		if o == "negotiate" && scheme == "" {
			scheme = "Negotiate"
		}
	}
	if scheme == "" {
		return nil, &refusal{why: fmt.Sprintf("no credentials sent: %s does not offer NTLM or Negotiate (offers: %s); NTLM credentials are never sent as Basic", host, offerList(r.offers))}
	}
	neg, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		return nil, fmt.Errorf("building the NTLM NEGOTIATE message: %w", err)
	}
	r, err = c.leg(ctx, t, pol, method, u, contentType, body, scheme+" "+base64.StdEncoding.EncodeToString(neg))
	if err != nil || r.status != http.StatusUnauthorized {
		return r, err
	}
	var challenge []byte
	for _, v := range r.header.Values("WWW-Authenticate") {
		name, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
		if ok && strings.EqualFold(name, scheme) {
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok)); err == nil && len(b) > 0 {
				challenge = b
			}
		}
	}
	if challenge == nil {
		return r, nil // refused without a challenge: the caller sees the 401
	}
	msg, err := ntlmssp.NewAuthenticateMessage(challenge, c.cfg.cred.user, c.cfg.cred.secret(), nil)
	if err != nil {
		return nil, fmt.Errorf("answering the NTLM challenge of %s: %w", host, err)
	}
	return c.leg(ctx, t, pol, method, u, contentType, body, scheme+" "+base64.StdEncoding.EncodeToString(msg))
}

// leg sends one HTTP request through rt and reads the answer in full.
func (c *Client) leg(ctx context.Context, rt http.RoundTripper, pol *policy, method string, u *url.URL, contentType string, body []byte, authorization string) (*reply, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.cfg.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method == http.MethodPost && strings.HasSuffix(strings.ToLower(u.Path), ".svc") {
		req.Header.Set("SOAPAction", `"`+soapActionGetUserSettings+`"`)
	}
	if err := authorize(req, pol, c.cfg.cred, authorization); err != nil {
		return nil, err
	}
	c.logDebug("autodiscover request", "method", method, "url", u.Redacted(), "auth", schemeOf(authorization))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the response of %s: %w", u.Host, err)
	}
	if int64(len(b)) > c.cfg.maxBytes {
		return nil, fmt.Errorf("%w (%d bytes)", errTooLarge, c.cfg.maxBytes)
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: b, authSent: schemeOf(authorization), offers: parseOffers(resp.Header.Values("WWW-Authenticate"))}, nil
}

// authorize is the only place that sets an Authorization header. It checks
// the policy against the request's own URL once more, so that no path
// through this package can put a credential on a request to a disallowed
// host or over http.
func authorize(req *http.Request, pol *policy, cred Credentials, value string) error {
	if value == "" {
		req.Header.Del("Authorization")
		return nil
	}
	if err := pol.credentialsAllowed(req.URL, cred); err != nil {
		return &refusal{why: "no credentials sent: " + err.Error()}
	}
	req.Header.Set("Authorization", value)
	return nil
}

func schemeOf(authorization string) string {
	s, _, _ := strings.Cut(authorization, " ")
	return s
}

func (c *Client) logDebug(msg string, args ...any) {
	if c.cfg.logger != nil {
		c.cfg.logger.Debug(msg, args...)
	}
}

func (c *Client) logWarn(msg string, args ...any) {
	if c.cfg.logger != nil {
		c.cfg.logger.Warn(msg, args...)
	}
}
