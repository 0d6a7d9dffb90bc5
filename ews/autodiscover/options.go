package autodiscover

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
)

// credKind is the one authentication scheme a Client uses.
type credKind int

const (
	credNone credKind = iota
	credBasic
	credNTLM
	credBearer
)

func (k credKind) String() string {
	switch k {
	case credBasic:
		return "Basic"
	case credNTLM:
		return "NTLM"
	case credBearer:
		return "Bearer"
	}
	return "none"
}

// Credentials are how a Client authenticates to SOAP and POX Autodiscover.
// Build them with [Basic], [NTLM] or [Bearer]; the zero value sends no
// credentials (Autodiscover v2 JSON needs none). A Client uses exactly one
// scheme and never switches: NTLM or Bearer credentials are never sent as
// Basic, whatever a server asks for. Credentials print without their secret.
type Credentials struct {
	kind   credKind
	user   string
	secret func() string // a closure, which fmt never prints
	token  func(ctx context.Context) (string, error)
}

// Basic returns credentials for HTTP Basic authentication. They are sent
// only over https, only to allowed hosts, and never to a host that has
// offered NTLM, Negotiate or Bearer (no downgrade).
func Basic(username, password string) Credentials {
	return Credentials{kind: credBasic, user: username, secret: func() string { return password }}
}

// NTLM returns credentials for NTLM (NTLMv2, through
// github.com/Azure/go-ntlmssp). logon is DOMAIN\user or user@domain.
func NTLM(logon, password string) Credentials {
	return Credentials{kind: credNTLM, user: logon, secret: func() string { return password }}
}

// Bearer returns credentials that send an OAuth access token from token.
// Tokens go only to hosts listed with [WithAllowedHosts] (a token has one
// audience, such as outlook.office365.com).
func Bearer(token func(ctx context.Context) (string, error)) Credentials {
	return Credentials{kind: credBearer, token: token}
}

// Scheme returns "Basic", "NTLM", "Bearer" or "none".
func (c Credentials) Scheme() string { return c.kind.String() }

// String describes the credentials without their secret.
func (c Credentials) String() string {
	if c.user != "" {
		return c.kind.String() + " credentials for " + c.user
	}
	return c.kind.String() + " credentials"
}

// GoString is String, so that %#v hides the secret too.
func (c Credentials) GoString() string { return c.String() }

func (c Credentials) validate() error {
	switch c.kind {
	case credNone:
		return nil
	case credBasic, credNTLM:
		if strings.TrimSpace(c.user) == "" || strings.ContainsAny(c.user, "\r\n\x00") {
			return fmt.Errorf("autodiscover: %s credentials: the user name is empty or contains control characters", c.kind)
		}
		if c.kind == credBasic && strings.Contains(c.user, ":") {
			return fmt.Errorf("autodiscover: Basic credentials: the user name %q contains a colon", c.user)
		}
		if c.kind == credNTLM && !strings.Contains(c.user, `\`) && !strings.Contains(c.user, "@") {
			return fmt.Errorf(`autodiscover: NTLM credentials: logon %q has no domain; want DOMAIN\user or user@domain`, c.user)
		}
		if c.secret == nil || c.secret() == "" {
			return fmt.Errorf("autodiscover: %s credentials for %s: the password is empty", c.kind, c.user)
		}
	case credBearer:
		if c.token == nil {
			return errors.New("autodiscover: Bearer credentials: the token function is nil")
		}
	}
	return nil
}

// Protocol is a flavour of Autodiscover.
type Protocol string

// The protocols a Client speaks.
const (
	// SOAP is SOAP Autodiscover (autodiscover.svc, Exchange 2010 and later):
	// GetUserSettings, the only one that returns GroupingInformation for
	// many users at once.
	SOAP Protocol = "SOAP"
	// POX is plain-old-XML Autodiscover (autodiscover.xml, Exchange 2007
	// and later).
	POX Protocol = "POX"
	// JSON is Autodiscover v2 (autodiscover.json, Exchange Online and
	// Exchange 2019): an anonymous GET that returns only the EWS URL.
	JSON Protocol = "JSON"
)

// path returns the endpoint path of p on an Autodiscover host.
func (p Protocol) path() string {
	switch p {
	case SOAP:
		return "/autodiscover/autodiscover.svc"
	case POX:
		return "/autodiscover/autodiscover.xml"
	}
	return "/autodiscover/autodiscover.json"
}

// Defaults of a Client.
const (
	// DefaultMaxHops bounds redirects (RedirectAddress, RedirectUrl, HTTP
	// redirects) in one discovery, as the EWS Managed API does.
	DefaultMaxHops = 10
	// DefaultMaxResponseBytes bounds one Autodiscover response body.
	DefaultMaxResponseBytes = 4 << 20
	// DefaultRequestTimeout bounds one HTTP exchange (all legs of a
	// handshake), so that a candidate that never answers does not stall the
	// chain.
	DefaultRequestTimeout = 30 * time.Second
	// MaxUsersPerRequest is how many users one GetUserSettings request
	// carries. Microsoft documents no limit; the EWS Managed API and
	// exchangelib send at most 100, and so do we.
	MaxUsersPerRequest = 100
)

// config is what Options set.
type config struct {
	cred        Credentials
	allowed     []string
	protocols   []Protocol
	maxHops     int
	maxBytes    int64
	timeout     time.Duration
	tls         *tls.Config
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	lookupSRV   func(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	logger      *slog.Logger
	userAgent   string
	concurrency int
}

// Option configures a [Client]. Options validate their arguments; [New]
// reports the first bad one.
type Option func(*config) error

// WithCredentials sets how the Client authenticates (default: none).
func WithCredentials(c Credentials) Option {
	return func(cfg *config) error {
		if err := c.validate(); err != nil {
			return err
		}
		cfg.cred = c
		return nil
	}
}

// WithAllowedHosts lists hosts, beyond the email address's registered
// domain and its subdomains, that may receive credentials and whose EWS URLs
// are accepted, e.g. "outlook.office365.com". Names match exactly (no
// wildcards); a public suffix is refused.
func WithAllowedHosts(hosts ...string) Option {
	return func(cfg *config) error {
		for _, h := range hosts {
			h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
			if h == "" || strings.ContainsAny(h, "/:@*? \t") {
				return fmt.Errorf("autodiscover: WithAllowedHosts: %q is not a host name (no scheme, port, path or wildcard)", h)
			}
			if _, err := registeredDomain(h); err != nil {
				return fmt.Errorf("autodiscover: WithAllowedHosts: %q is a public suffix or not a DNS name", h)
			}
			cfg.allowed = append(cfg.allowed, h)
		}
		return nil
	}
}

// WithProtocols sets which protocols a discovery tries at each candidate,
// in order (default SOAP, then POX, then JSON, as Microsoft recommends SOAP
// and POX only where SOAP is missing).
func WithProtocols(ps ...Protocol) Option {
	return func(cfg *config) error {
		if len(ps) == 0 {
			return errors.New("autodiscover: WithProtocols needs at least one protocol")
		}
		seen := map[Protocol]bool{}
		for _, p := range ps {
			switch p {
			case SOAP, POX, JSON:
			default:
				return fmt.Errorf("autodiscover: WithProtocols: unknown protocol %q; use SOAP, POX or JSON", p)
			}
			if seen[p] {
				return fmt.Errorf("autodiscover: WithProtocols: %s given twice", p)
			}
			seen[p] = true
		}
		cfg.protocols = append([]Protocol(nil), ps...)
		return nil
	}
}

// WithMaxHops bounds the redirects of one discovery (default
// [DefaultMaxHops]).
func WithMaxHops(n int) Option {
	return func(cfg *config) error {
		if n < 0 || n > 100 {
			return fmt.Errorf("autodiscover: WithMaxHops(%d): want 0..100", n)
		}
		cfg.maxHops = n
		return nil
	}
}

// WithMaxResponseBytes bounds one response body (default
// [DefaultMaxResponseBytes]); a larger answer fails its attempt.
func WithMaxResponseBytes(n int64) Option {
	return func(cfg *config) error {
		if n < 1024 {
			return fmt.Errorf("autodiscover: WithMaxResponseBytes(%d): want at least 1024", n)
		}
		cfg.maxBytes = n
		return nil
	}
}

// WithRequestTimeout bounds one HTTP exchange with a candidate (default
// [DefaultRequestTimeout]).
func WithRequestTimeout(d time.Duration) Option {
	return func(cfg *config) error {
		if d <= 0 {
			return fmt.Errorf("autodiscover: WithRequestTimeout(%v): want > 0", d)
		}
		cfg.timeout = d
		return nil
	}
}

// WithTLSConfig sets the TLS configuration (e.g. RootCAs that trust a test
// server). Certificates are always verified: a config with
// InsecureSkipVerify is refused.
func WithTLSConfig(c *tls.Config) Option {
	return func(cfg *config) error {
		if c == nil {
			return errors.New("autodiscover: WithTLSConfig(nil)")
		}
		if c.InsecureSkipVerify {
			return errors.New("autodiscover: WithTLSConfig: InsecureSkipVerify is refused; Autodiscover credentials go only to hosts whose certificate verifies")
		}
		cfg.tls = c.Clone()
		return nil
	}
}

// WithDialer replaces how connections are made (default a net.Dialer). A
// test routes host names to local servers with it, e.g.
// scctest.Hosts.DialContext.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(cfg *config) error {
		if dial == nil {
			return errors.New("autodiscover: WithDialer(nil)")
		}
		cfg.dial = dial
		return nil
	}
}

// WithSRVLookup replaces the DNS SRV lookup (default
// net.DefaultResolver.LookupSRV); it has LookupSRV's signature.
func WithSRVLookup(lookup func(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)) Option {
	return func(cfg *config) error {
		if lookup == nil {
			return errors.New("autodiscover: WithSRVLookup(nil)")
		}
		cfg.lookupSRV = lookup
		return nil
	}
}

// WithLogger logs every host contacted and every refusal (Debug and Warn),
// never a secret. The default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error {
		if l == nil {
			return errors.New("autodiscover: WithLogger(nil)")
		}
		cfg.logger = l
		return nil
	}
}

// WithConcurrency sets how many GetUserSettings requests
// [Client.GetUserSettings] keeps in flight (default 4).
func WithConcurrency(n int) Option {
	return func(cfg *config) error {
		if n < 1 || n > 64 {
			return fmt.Errorf("autodiscover: WithConcurrency(%d): want 1..64", n)
		}
		cfg.concurrency = n
		return nil
	}
}
