package ews

import (
	"errors"
	"fmt"
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
	endpoint *url.URL
	cfg      *clientConfig
	http     *http.Client
	bound    []CallOption
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
}

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
	// wrap returns a RoundTripper that authenticates requests sent through
	// base and returns the server's final response: a 401 that survives the
	// handshake is returned as a response, and the SOAP layer turns it into
	// an *AuthError naming scheme() and the schemes the server offered.
	wrap(base http.RoundTripper) (http.RoundTripper, error)
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
	cfg := &clientConfig{}
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
	hc, err := cfg.buildHTTPClient()
	if err != nil {
		return nil, err
	}
	return &Client{endpoint: u, cfg: cfg, http: hc}, nil
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

// Endpoint returns the EWS URL the client posts to.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// WithHTTPClient makes the Client send through hc (for example the Client()
// of an httptest or scctest TLS server). The auth options wrap hc's
// Transport; hc itself is not modified.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *clientConfig) error {
		if hc == nil {
			return errors.New("ews: WithHTTPClient: client is nil")
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

// setAuth records the one auth method of a client.
func (c *clientConfig) setAuth(m authMethod) error {
	if c.auth != nil {
		return fmt.Errorf("ews: two auth options given (%s and %s); choose one", c.auth.scheme(), m.scheme())
	}
	c.auth = m
	return nil
}
