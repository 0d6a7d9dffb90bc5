package scctest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hosts routes DNS host names to fake servers on loopback, for tests that
// run Autodiscover across several hosts (contoso.example,
// autodiscover.contoso.example, a foreign one) over real sockets without
// DNS. It is a certificate authority too: TLS servers it starts present a
// certificate for their names, signed by a CA that [Hosts.RootCAs] trusts.
// Give a client [Hosts.DialContext] as its dialer, [Hosts.LookupSRV] as its
// SRV lookup and [Hosts.TLSConfig] as its TLS configuration. A Hosts is safe
// for concurrent use; each is independent of every other.
type Hosts struct {
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
	pool   *x509.CertPool

	mu     sync.Mutex
	routes map[string]string // "name:port" -> "127.0.0.1:port"
	srv    map[string][]*net.SRV
	dialed []string
}

// NewHosts returns an empty routing table with a fresh CA.
func NewHosts() (*Hosts, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("scctest: NewHosts: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "scctest Hosts CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("scctest: NewHosts: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("scctest: NewHosts: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &Hosts{
		caCert: ca, caKey: key, pool: pool,
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		routes: map[string]string{}, srv: map[string][]*net.SRV{},
	}, nil
}

// NewTestHosts is NewHosts for a test: it fails t on error.
func NewTestHosts(t testing.TB) *Hosts {
	t.Helper()
	h, err := NewHosts()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// RootCAs returns a pool that trusts the Hosts' CA.
func (h *Hosts) RootCAs() *x509.CertPool { return h.pool.Clone() }

// CAPEM returns the CA certificate in PEM, for clients in other languages.
func (h *Hosts) CAPEM() []byte { return append([]byte(nil), h.caPEM...) }

// TLSConfig returns a client TLS configuration that trusts the CA.
func (h *Hosts) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: h.RootCAs(), MinVersion: tls.VersionTLS12}
}

// Certificate issues a server certificate for names (and 127.0.0.1, ::1).
func (h *Hosts) Certificate(names ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: firstOr(names, "localhost")},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, h.caCert, &key.PublicKey, h.caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, h.caCert.Raw}, PrivateKey: key}, nil
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// StartTLS starts s over HTTPS with a certificate for names and routes
// name:443 of each name to it. s must be unstarted (see [New] and
// [NewUnstartedServer]).
func (h *Hosts) StartTLS(s *Server, names ...string) error {
	cert, err := h.Certificate(names...)
	if err != nil {
		return fmt.Errorf("scctest: Hosts.StartTLS: %w", err)
	}
	s.hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	addr := s.hs.Listener.Addr().String()
	for _, n := range names {
		h.Route(n+":443", addr)
	}
	return nil
}

// Start starts s over plain HTTP and routes name:80 of each name to it.
func (h *Hosts) Start(s *Server, names ...string) {
	s.Start()
	addr := s.hs.Listener.Addr().String()
	for _, n := range names {
		h.Route(n+":80", addr)
	}
}

// NewTLSServer starts a fake server over HTTPS for names (see StartTLS)
// and registers its Close as a cleanup of t.
func (h *Hosts) NewTLSServer(t testing.TB, names []string, opts ...Option) *Server {
	t.Helper()
	s := NewUnstartedServer(t, opts...)
	if err := h.StartTLS(s, names...); err != nil {
		t.Fatal(err)
	}
	return s
}

// NewServer starts a fake server over plain HTTP for names (see Start) and
// registers its Close as a cleanup of t.
func (h *Hosts) NewServer(t testing.TB, names []string, opts ...Option) *Server {
	t.Helper()
	s := NewUnstartedServer(t, opts...)
	h.Start(s, names...)
	return s
}

// Route sends connections for hostport ("name:port") to addr.
func (h *Hosts) Route(hostport, addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.routes[strings.ToLower(hostport)] = addr
}

// SetSRV sets the SRV records of _autodiscover._tcp.<domain> (the records of
// any service: the name is _service._proto.domain).
func (h *Hosts) SetSRV(name string, records ...*net.SRV) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.srv[strings.ToLower(strings.TrimSuffix(name, "."))] = records
}

// DialContext connects to the loopback address routed for addr; an unknown
// name fails like a name DNS does not know, so nothing leaves the machine.
func (h *Hosts) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	h.mu.Lock()
	to, ok := h.routes[strings.ToLower(addr)]
	h.dialed = append(h.dialed, strings.ToLower(addr))
	h.mu.Unlock()
	if !ok {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, to)
}

// Dialed returns every "name:port" DialContext was asked for, in order.
func (h *Hosts) Dialed() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.dialed...)
}

// LookupSRV answers from SetSRV, with net.Resolver.LookupSRV's signature.
func (h *Hosts) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	cname := "_" + service + "._" + proto + "." + strings.ToLower(strings.TrimSuffix(name, "."))
	h.mu.Lock()
	recs, ok := h.srv[cname]
	h.mu.Unlock()
	if !ok {
		return "", nil, &net.DNSError{Err: "no such host", Name: cname, IsNotFound: true}
	}
	out := make([]*net.SRV, len(recs))
	for i, r := range recs {
		c := *r
		out[i] = &c
	}
	return cname, out, nil
}
