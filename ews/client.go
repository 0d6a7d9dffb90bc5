package ews

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Client speaks Exchange Web Services to one endpoint with one set of
// credentials. It is safe for concurrent use by many goroutines: one Client
// serves thousands of impersonated mailboxes at once. A Client returned by
// [Client.With] shares the connection pool and configuration of its parent
// and only binds call options (such as the mailbox to impersonate).
type Client struct {
	endpoint    *url.URL
	endpointStr string
	cfg         *clientConfig
	http        *http.Client
	bound       []CallOption
}

// Option configures a Client in [NewClient]. An Option returns an error when
// its argument is not usable, and NewClient reports it.
type Option func(*clientConfig) error

// clientConfig is filled by Options and never written after NewClient
// returns.
type clientConfig struct {
	httpClient         *http.Client
	auth               authMethod
	allowInsecureHTTP  bool
	insecureSkipVerify bool

	version          ExchangeVersion
	timeZone         string
	maxResponseBytes int64
	retry            RetryPolicy
	retryHook        func(RetryEvent)
	logger           *slog.Logger
	trace            io.Writer
	middleware       []func(http.RoundTripper) http.RoundTripper
	userAgent        string
	// red redacts the client's secrets and credential patterns from
	// server text in errors and the trace.
	red *redactor
	// writesTraced is set when the base transport is net/http's, which
	// reports through httptrace whether a request was written; the send
	// layer then knows for sure whether a failed request may have reached
	// the server.
	writesTraced bool
}

// DefaultMaxResponseBytes is the response body limit of a Client without
// [WithMaxResponseBytes]: generous for any response of this package's
// operations, small enough that a broken server cannot exhaust memory.
const DefaultMaxResponseBytes = 32 << 20

// DefaultUserAgent is the User-Agent header of a Client without
// [WithUserAgent].
const DefaultUserAgent = "scc-ews/1 (+https://github.com/sccsync/scc)"

// authMethod is one way of authenticating to the server. It is an HTTP
// transport concern: the SOAP layer never sees credentials.
type authMethod interface {
	// scheme is the HTTP authentication scheme, for errors and logs:
	// "Basic", "NTLM" or "Bearer".
	scheme() string
	// secretInClear reports whether the method puts a reusable secret on
	// the wire (Basic, Bearer), which plain http:// would expose.
	secretInClear() bool
	// prepareTransport adjusts the client's own clone of the base
	// *http.Transport before any wrapping (NTLM forces HTTP/1.1 here). It is
	// not called when the caller's client has another RoundTripper type.
	prepareTransport(t *http.Transport) error
	// addSecrets registers the method's secrets with the client's redactor.
	addSecrets(r *redactor)
	// wrap returns a RoundTripper that authenticates requests sent through
	// the layers and returns the server's final response: a 401 that
	// survives the handshake is returned as a response, and the SOAP layer
	// turns it into an *AuthError naming scheme() and the schemes the server
	// offered. It fails when the method cannot work over the layers (NTLM
	// over a RoundTripper that hides its connections).
	wrap(l *connLayers) (http.RoundTripper, error)
}

// NewClient returns a Client for the EWS endpoint, usually
// https://<host>/EWS/Exchange.asmx. It checks the URL and every option, and
// refuses to send Basic credentials or bearer tokens over plain http://
// unless [WithInsecureHTTP] is given.
func NewClient(endpoint string, opts ...Option) (*Client, error) {
	u, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	cfg := &clientConfig{
		version:          DefaultServerVersion,
		maxResponseBytes: DefaultMaxResponseBytes,
		retry:            DefaultRetryPolicy(),
		userAgent:        DefaultUserAgent,
	}
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("ews: option %d is nil", i)
		}
		if err := opt(cfg); err != nil {
			return nil, err
		}
	}
	if u.Scheme == "http" && cfg.auth != nil && cfg.auth.secretInClear() && !cfg.allowInsecureHTTP {
		return nil, fmt.Errorf("ews: refusing to send %s credentials over plain http:// to %s; use https:// or, for a test server only, WithInsecureHTTP()", cfg.auth.scheme(), u.Host)
	}
	cfg.red = &redactor{}
	if cfg.auth != nil {
		cfg.auth.addSecrets(cfg.red)
	}
	hc, err := cfg.buildHTTPClient()
	if err != nil {
		return nil, err
	}
	return &Client{endpoint: u, endpointStr: u.String(), cfg: cfg, http: hc}, nil
}

func parseEndpoint(endpoint string) (*url.URL, error) {
	if strings.TrimSpace(endpoint) == "" {
		return nil, errors.New("ews: endpoint URL is empty; want https://<host>/EWS/Exchange.asmx")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("ews: endpoint URL %q does not parse: %w", endpoint, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("ews: endpoint URL %q has scheme %q; want https://<host>/EWS/Exchange.asmx", endpoint, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("ews: endpoint URL %q has no host", endpoint)
	}
	if u.User != nil {
		return nil, fmt.Errorf("ews: endpoint URL for host %s must not carry credentials; use an auth option", u.Host)
	}
	return u, nil
}

// CloseIdleConnections closes the keep-alive connections that no call is
// using, through every layer of the client's transport (auth, trace). A
// Client, and every view returned by [Client.With], shares one pool; call
// this when a batch of work is done and the client will sit unused, or
// before dropping a client that was built for one run.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Endpoint returns the EWS URL the client posts to.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// WithHTTPClient makes the Client send through hc (for example the Client()
// of an httptest or scctest TLS server): its Timeout, Jar and Transport are
// used, hc itself is not modified, and its CheckRedirect is replaced (EWS
// redirects are reported, not followed). It composes with every auth option
// and with [WithWireTrace] and [WithTransportMiddleware], which all wrap
// hc's Transport.
//
// hc's Transport may be:
//   - nil or an *http.Transport (any settings: proxy, dialer, TLS roots,
//     limits): the Client works on its own clone, so that [WithNTLM] can
//     force HTTP/1.1 and keep each handshake on one connection, and
//     [WithInsecureSkipVerify] can turn verification off;
//   - any other http.RoundTripper, with [WithBasicAuth], [WithTokenSource],
//     [WithBearerToken] or no auth option. [NewClient] refuses it with
//     [WithNTLM] and [WithNegotiatedAuth], because such a RoundTripper
//     hides which connection carries a request, and an NTLM handshake
//     whose legs take two connections is a failed logon even with the right
//     password. For logging, tracing or metrics, pass the *http.Transport
//     here and the wrapping RoundTripper with [WithTransportMiddleware].
//
// Giving WithHTTPClient twice is an error rather than "the last one wins",
// so that a client passed through another library's options is never
// silently replaced.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *clientConfig) error {
		if hc == nil {
			return errors.New("ews: WithHTTPClient: client is nil")
		}
		if c.httpClient != nil {
			// Two clients would leave one silently unused: the transport,
			// proxy and TLS settings a caller chose must not be ignored.
			return errors.New("ews: WithHTTPClient given twice; pass one http.Client (a library that builds the ews client, such as impersonation, passes the one given to its own WithHTTPClient)")
		}
		c.httpClient = hc
		return nil
	}
}

// WithInsecureHTTP allows Basic credentials and bearer tokens over plain
// http://. Use it only against a local test server.
func WithInsecureHTTP() Option {
	return func(c *clientConfig) error { c.allowInsecureHTTP = true; return nil }
}

// WithInsecureSkipVerify turns off TLS certificate verification. Use it only
// for a diagnosis against a server whose certificate you have checked
// otherwise.
func WithInsecureSkipVerify() Option {
	return func(c *clientConfig) error { c.insecureSkipVerify = true; return nil }
}

// WithServerVersion sets the t:RequestServerVersion every request carries
// (default [Exchange2013_SP1]). v must be a value of ExchangeVersionType.
func WithServerVersion(v ExchangeVersion) Option {
	return func(c *clientConfig) error {
		if !v.Known() {
			return fmt.Errorf("ews: WithServerVersion(%q): not a version of the EWS schema; use a constant such as ews.Exchange2013_SP1", string(v))
		}
		c.version = v
		return nil
	}
}

// WithTimeZoneContext makes requests carry t:TimeZoneContext with the given
// Windows time zone id (e.g. "W. Europe Standard Time"), so the server
// returns times in that zone. Only operations whose WSDL input allows the
// header get it (GetFolder, FindFolder, FindItem, GetItem, CreateItem).
func WithTimeZoneContext(id string) Option {
	return func(c *clientConfig) error {
		if strings.TrimSpace(id) == "" {
			return errors.New(`ews: WithTimeZoneContext: time zone id is empty; want a Windows time zone id such as "W. Europe Standard Time"`)
		}
		if err := checkText("WithTimeZoneContext", "time zone id", id); err != nil {
			return err
		}
		c.timeZone = id
		return nil
	}
}

// WithMaxResponseBytes limits the size of a response body (default
// [DefaultMaxResponseBytes]). A larger response fails the call with an
// *HTTPError wrapping [ErrResponseTooLarge]. Reading a body costs about its
// size in memory (up to twice while a body without Content-Length is
// joined), and a body over the limit about the limit.
func WithMaxResponseBytes(n int64) Option {
	return func(c *clientConfig) error {
		if n < 1024 {
			return fmt.Errorf("ews: WithMaxResponseBytes(%d): want at least 1024", n)
		}
		c.maxResponseBytes = n
		return nil
	}
}

// WithRetryPolicy replaces [DefaultRetryPolicy]. Use [NoRetries] to see every
// throttling error at once.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *clientConfig) error {
		if err := p.validate(); err != nil {
			return err
		}
		c.retry = p
		return nil
	}
}

// WithRetryHook calls hook before each retry, after the client decided to
// wait and try again. hook runs on the calling goroutine and must be quick
// and safe for concurrent use.
func WithRetryHook(hook func(RetryEvent)) Option {
	return func(c *clientConfig) error {
		if hook == nil {
			return errors.New("ews: WithRetryHook: hook is nil")
		}
		c.retryHook = hook
		return nil
	}
}

// WithLogger logs each request (Debug: operation, status, duration,
// impersonated mailbox) and each retry (Warn). Without it the Client is
// silent. Credentials never appear in log records.
func WithLogger(l *slog.Logger) Option {
	return func(c *clientConfig) error {
		if l == nil {
			return errors.New("ews: WithLogger: logger is nil")
		}
		c.logger = l
		return nil
	}
}

// WithWireTrace writes every HTTP exchange (request and response headers and
// bodies, including each leg of an NTLM handshake) to w, for diagnosis.
// Authorization, Proxy-Authorization and cookie headers are redacted, and so
// are the content of password- and token-like XML elements and any
// credential a server echoes back (see [Redact]). The trace sits below the
// auth option and never changes what is sent: with NTLM it wraps each
// handshake's own connection. Writes are serialised; w need not be safe for
// concurrent use.
func WithWireTrace(w io.Writer) Option {
	return func(c *clientConfig) error {
		if w == nil {
			return errors.New("ews: WithWireTrace: writer is nil")
		}
		c.trace = w
		return nil
	}
}

// WithTransportMiddleware wraps the connection-level RoundTripper of the
// Client with mw, for logging, tracing or metrics: mw(next) returns a
// RoundTripper that does its work and calls next.RoundTrip with the request
// (keeping its context, and without sending it elsewhere). It sits below
// the auth option, so it sees every request as it goes to the wire,
// including each leg of an NTLM handshake with its Authorization header,
// and above the wire trace. With NTLM, each handshake runs on a connection
// of its own and mw is called once for each of those connections (mw must
// be safe to call concurrently); otherwise it is called once. Given more
// than once, the first middleware is the outermost.
func WithTransportMiddleware(mw func(next http.RoundTripper) http.RoundTripper) Option {
	return func(c *clientConfig) error {
		if mw == nil {
			return errors.New("ews: WithTransportMiddleware: middleware is nil")
		}
		c.middleware = append(c.middleware, mw)
		return nil
	}
}

// WithUserAgent sets the User-Agent header (default [DefaultUserAgent]).
func WithUserAgent(ua string) Option {
	return func(c *clientConfig) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
			return errors.New("ews: WithUserAgent: user agent is empty or contains a line break")
		}
		c.userAgent = ua
		return nil
	}
}

// setAuth records the one auth method of a client.
func (c *clientConfig) setAuth(m authMethod) error {
	if c.auth != nil {
		return fmt.Errorf("ews: two auth options given (%s and %s); choose one", c.auth.scheme(), m.scheme())
	}
	c.auth = m
	return nil
}
