package scctest

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// EWSPath is the path of the EWS endpoint on the fake server, as on Exchange.
const EWSPath = "/EWS/Exchange.asmx"

// AuthScheme is an HTTP authentication scheme the fake server offers.
type AuthScheme string

// The schemes the fake server can offer. NTLM also answers the Negotiate
// scheme word when it carries a raw NTLMSSP token, as IIS does.
const (
	AuthBasic  AuthScheme = "Basic"
	AuthNTLM   AuthScheme = "NTLM"
	AuthBearer AuthScheme = "Bearer"
)

// config is what options set.
type config struct {
	version      ServerVersion
	schemes      []AuthScheme
	lockout      int
	seed         uint64
	now          func() time.Time
	logger       *slog.Logger
	netbios      string
	dnsDomain    string
	maxReqSize   int64
	timeouts     Timeouts
	logBytes     int64 // request log bounds, see WithRequestLog
	logValue     int
	schema       map[string][]byte // served schema files by lower-cased path, see WithSchemaDir
	maxAttach    int               // WithMaxAttachmentSize; 0 = the model's default
	maxSubs      int               // subscriptions per mailbox, see WithSubscriptionLimit
	strictStream bool              // see WithSchemaStrictStreaming
	backends     []string          // backend server names, see WithBackends (affinity.go)
	push         pushConfig        // push notification options, see push.go
	// notification limits (limits.go); zero means the default
	hangingLimit   int
	streamLifetime time.Duration
}

// Option configures a Server. Options validate their arguments; a bad one
// makes [New] return an error (and [NewServer] fail the test).
type Option func(*config) error

// WithVersion sets the Exchange release the server pretends to be (default
// [Exchange2019]).
func WithVersion(v ServerVersion) Option {
	return func(c *config) error {
		if _, ok := v.info(); !ok {
			return fmt.Errorf("scctest: unknown ServerVersion %d; use one of the constants such as scctest.Exchange2019", int(v))
		}
		c.version = v
		return nil
	}
}

// WithAuth sets the authentication schemes the server offers, in the order
// of its WWW-Authenticate headers (default: NTLM, Basic and Bearer).
func WithAuth(schemes ...AuthScheme) Option {
	return func(c *config) error {
		if len(schemes) == 0 {
			return errors.New("scctest: WithAuth needs at least one scheme")
		}
		for _, s := range schemes {
			switch s {
			case AuthBasic, AuthNTLM, AuthBearer:
			default:
				return fmt.Errorf("scctest: unknown auth scheme %q; use AuthBasic, AuthNTLM or AuthBearer", s)
			}
		}
		c.schemes = append([]AuthScheme(nil), schemes...)
		return nil
	}
}

// WithLockout locks an account out after n consecutive failed logons (Basic
// or NTLM). A locked account gets 401 even with the right password, until
// [Server.Unlock]. Zero (the default) never locks.
func WithLockout(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("scctest: WithLockout(%d): threshold must be >= 0", n)
		}
		c.lockout = n
		return nil
	}
}

// WithSeed seeds the server's random choices (generated SIDs, fractional
// fault injection, latency jitter), so a test run is reproducible. The
// default seed is 1.
func WithSeed(seed uint64) Option {
	return func(c *config) error { c.seed = seed; return nil }
}

// WithClock sets the clock used for item dates and the request log.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("scctest: WithClock(nil)")
		}
		c.now = now
		return nil
	}
}

// WithLogger makes the server log each request at debug level (operation,
// principal, status; never credentials). The default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithDomain sets the Windows domain the server belongs to: the NetBIOS name
// that NTLM reports and that DOMAIN\user logons use (default "CONTOSO"), and
// its DNS name (default "contoso.example").
func WithDomain(netbios, dns string) Option {
	return func(c *config) error {
		if netbios == "" || len(netbios) > 15 || strings.ContainsAny(netbios, `\/:*?"<>| .`) {
			return fmt.Errorf("scctest: WithDomain: %q is not a NetBIOS domain name (1-15 characters, no dots)", netbios)
		}
		if dns == "" || !strings.Contains(dns, ".") {
			return fmt.Errorf("scctest: WithDomain: %q is not a DNS domain name", dns)
		}
		c.netbios, c.dnsDomain = strings.ToUpper(netbios), strings.ToLower(dns)
		return nil
	}
}

// Timeouts bound how long one connection may hold the server up. A zero
// field keeps its default.
type Timeouts struct {
	// Header bounds reading a request's headers (default 10s).
	Header time.Duration
	// Body bounds reading a request's body, counted from when the server
	// starts reading it (default 30s). A client slower than that has its
	// connection closed without an answer.
	Body time.Duration
	// Idle bounds how long a kept-alive connection may wait for its next
	// request (default 120s, IIS's connection timeout).
	Idle time.Duration
}

// Default timeouts, see [Timeouts].
const (
	DefaultHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout   = 30 * time.Second
	DefaultIdleTimeout   = 120 * time.Second
)

// WithTimeouts sets the connection timeouts (see [Timeouts]); negative
// durations are refused.
func WithTimeouts(t Timeouts) Option {
	return func(c *config) error {
		if t.Header < 0 || t.Body < 0 || t.Idle < 0 {
			return fmt.Errorf("scctest: WithTimeouts(%+v): timeouts must not be negative", t)
		}
		if t.Header > 0 {
			c.timeouts.Header = t.Header
		}
		if t.Body > 0 {
			c.timeouts.Body = t.Body
		}
		if t.Idle > 0 {
			c.timeouts.Idle = t.Idle
		}
		return nil
	}
}

// Server is a fake Exchange server speaking EWS over HTTP. Create it with
// [NewServer], [NewTLSServer], [NewUnstartedServer] or [New]. All its state
// is its own: servers in parallel tests never interfere. Its methods are
// safe for concurrent use, also while it serves requests.
type Server struct {
	cfg  config
	tb   testing.TB // the test a NewServer(t) server reports panics to; nil for New
	vi   versionInfo
	hs   *httptest.Server
	auth *authenticator

	cmu    sync.Mutex   // guards client
	client *http.Client // built on start from hs.Client(), see Client

	mu        sync.RWMutex // guards the directory and mailbox contents
	dir       directory
	store     *mbx.Store // the mailbox model: folders, items, change log
	msgIDs    atomic.Uint64
	domainSID [3]uint32
	// syncKey signs the sync states this server issues (ops_sync.go): random
	// per server, so a state of another server is refused.
	syncKey [32]byte
	subs    subscriptions // notification subscriptions
	aff     affinityState // mailboxes placed on backends, see affinity.go
	push    pushRunner    // push notification delivery (push.go)

	fmu    sync.Mutex // guards fault injection state
	faults faultState

	lmu   sync.Mutex // guards the request log and counters
	log   requestLog
	stats Stats

	connMu      sync.Mutex // guards conns and connsClosed
	conns       map[net.Conn]http.ConnState
	connsClosed bool // Close has cut the reads of active connections

	// opHook, when set (by tests of this package), runs under the server
	// lock before every operation.
	opHook func(op string)

	ad autodiscoverState // Autodiscover answers and misbehaviour, see autodiscover.go
}

// New returns an unstarted server, for programs that are not tests (the
// standalone fake uses it). Call [Server.Start] or [Server.StartTLS], and
// [Server.Close] when done.
func New(opts ...Option) (*Server, error) {
	cfg := config{
		version:    Exchange2019,
		schemes:    []AuthScheme{AuthNTLM, AuthBasic, AuthBearer},
		seed:       1,
		now:        time.Now,
		netbios:    "CONTOSO",
		dnsDomain:  "contoso.example",
		maxReqSize: 32 << 20,
		timeouts:   Timeouts{Header: DefaultHeaderTimeout, Body: DefaultBodyTimeout, Idle: DefaultIdleTimeout},
		logBytes:   DefaultLogBytes,
		logValue:   DefaultLogValueBytes,
		maxSubs:    DefaultSubscriptionLimit,
		backends:   defaultBackends(),
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	vi, _ := cfg.version.info()
	s := &Server{cfg: cfg, vi: vi}
	s.dir.init()
	store, err := mbx.NewStore(cfg.storeOptions())
	if err != nil {
		return nil, fmt.Errorf("scctest: %w", err)
	}
	s.store = store
	_, _ = crand.Read(s.syncKey[:]) // crypto/rand.Read never fails (Go 1.24+)
	h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("scctest-domain-sid"), cfg.seed))
	for i := range s.domainSID {
		s.domainSID[i] = binary.BigEndian.Uint32(h[4*i:]) % 4000000000
	}
	s.dir.sidPrefix = fmt.Sprintf("S-1-5-21-%d-%d-%d-", s.domainSID[0], s.domainSID[1], s.domainSID[2])
	s.faults.rng = rand.New(rand.NewPCG(cfg.seed, 0x5cc7e57))
	s.faults.inflight = map[string]int{}
	s.faults.closing = make(chan struct{})
	s.stats = newStats()
	auth, err := newAuthenticator(s)
	if err != nil {
		return nil, err
	}
	s.auth = auth
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.hs.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return s.auth.connContext(withConn(ctx, c), c)
	}
	s.conns = map[net.Conn]http.ConnState{}
	s.hs.Config.ConnState = s.connState
	s.hs.Config.ReadHeaderTimeout = cfg.timeouts.Header
	s.hs.Config.IdleTimeout = cfg.timeouts.Idle
	// net/http reports TLS handshakes cut short by Close and clients that
	// hang up through its ErrorLog, which defaults to stderr; keep them with
	// the rest of the server's logging (silent unless WithLogger).
	s.hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cfg.logger != nil {
		s.hs.Config.ErrorLog = slog.NewLogLogger(cfg.logger.Handler(), slog.LevelDebug)
	}
	return s, nil
}

// NewUnstartedServer returns a server that is not started yet, so that a
// test can change its Listener or TLS configuration first; call
// [Server.Start] or [Server.StartTLS]. It fails the test on a bad option and
// registers Close as a cleanup of t.
func NewUnstartedServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("scctest.NewUnstartedServer: %v", err)
		return nil
	}
	s.tb = t
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a fake Exchange server on a loopback port over plain
// HTTP and registers its Close as a cleanup of t.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewUnstartedServer(t, opts...)
	s.Start()
	return s
}

// NewTLSServer starts a fake Exchange server over HTTPS with a self-signed
// certificate for 127.0.0.1 and example.com; [Server.Client] trusts it.
func NewTLSServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewUnstartedServer(t, opts...)
	s.StartTLS()
	return s
}

// Start starts serving plain HTTP.
func (s *Server) Start() {
	s.hs.Start()
	s.buildClient()
}

// StartTLS starts serving HTTPS (HTTP/1.1 only, as NTLM needs).
func (s *Server) StartTLS() {
	s.hs.StartTLS()
	s.buildClient()
}

// clientIdleConns is how many idle keep-alive connections Client keeps to
// the server: enough for a bulk check at Exchange's default EWSMaxConcurrency
// (27) and then some, where net/http's default of 2 would make most
// concurrent requests pay a new TCP (and TLS) handshake.
const clientIdleConns = 64

// buildClient derives the client that Client returns from httptest's, which
// trusts the server's certificate.
func (s *Server) buildClient() {
	base := s.hs.Client()
	c := *base
	if t, ok := base.Transport.(*http.Transport); ok {
		t = t.Clone()
		t.MaxIdleConns = 2 * clientIdleConns
		t.MaxIdleConnsPerHost = clientIdleConns
		c.Transport = t
	}
	s.cmu.Lock()
	s.client = &c
	s.cmu.Unlock()
}

// Listener returns the server's listener. Before Start it may be replaced
// through [Server.SetListener].
func (s *Server) Listener() net.Listener { return s.hs.Listener }

// SetListener replaces the listener of an unstarted server, e.g. to serve
// on a chosen address. The server closes it on Close.
func (s *Server) SetListener(l net.Listener) {
	if s.hs.Listener != nil {
		_ = s.hs.Listener.Close()
	}
	s.hs.Listener = l
}

// Close shuts the server down and returns promptly: it closes the
// listener and idle connections, cuts the reads of connections still
// sending a request (a client that sent its headers and half a body does
// not hold Close up; it gets no answer), and waits for the requests whose
// bodies have arrived to finish, as [httptest.Server.Close] does; injected
// latency ends early. It is safe to call more than once.
func (s *Server) Close() {
	s.fmu.Lock()
	if !s.faults.closed {
		s.faults.closed = true
		close(s.faults.closing)
	}
	s.fmu.Unlock()
	s.stopPush()
	s.cutReads()
	s.hs.Close()
	s.cmu.Lock()
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	s.cmu.Unlock()
}

// pastDeadline is a read deadline that has passed: reads fail at once.
var pastDeadline = time.Unix(1, 0)

// connState tracks connections for Close (net/http calls it; httptest
// chains its own tracking in front).
func (s *Server) connState(c net.Conn, st http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	switch st {
	case http.StateHijacked, http.StateClosed:
		delete(s.conns, c)
		return
	}
	s.conns[c] = st
	if st == http.StateActive && s.connsClosed {
		_ = c.SetReadDeadline(pastDeadline)
	}
}

// cutReads makes every read of an active connection fail from now on, so
// that handlers waiting for a body return.
func (s *Server) cutReads() {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	s.connsClosed = true
	for c, st := range s.conns {
		if st == http.StateActive {
			_ = c.SetReadDeadline(pastDeadline)
		}
	}
}

// setReadDeadline sets the read deadline of a request's connection, unless
// Close has cut its reads.
func (s *Server) setReadDeadline(w http.ResponseWriter, d time.Time) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.connsClosed {
		d = pastDeadline
	}
	_ = http.NewResponseController(w).SetReadDeadline(d)
}

// URL returns the base URL of the server, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.hs.URL }

// EWSURL returns the EWS endpoint, URL() + "/EWS/Exchange.asmx".
func (s *Server) EWSURL() string { return s.hs.URL + EWSPath }

// Client returns an HTTP client configured for the server: for a TLS server
// it trusts the server's certificate. Its transport keeps connections alive
// (NTLM authenticates connections), up to 64 idle ones so that concurrent
// callers reuse them, and speaks HTTP/1.1. It is nil before the server is
// started.
func (s *Server) Client() *http.Client {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.client
}

// Version returns the Exchange release the server pretends to be.
func (s *Server) Version() ServerVersion { return s.cfg.version }

func (s *Server) now() time.Time { return s.cfg.now() }
