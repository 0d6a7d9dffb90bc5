package ews

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// connLayers is the HTTP stack below the auth method: the transport that
// owns the connections and the RoundTrippers that wrap it (the caller's
// [WithTransportMiddleware], then the wire trace, closest to the wire).
//
// An auth method that authenticates connections (NTLM) must control which
// connection carries each request, which only an *http.Transport allows:
// it builds transports of its own from transport and puts wrap around each
// of them, so every layer sees every handshake leg and none of them can
// move a leg to another connection.
type connLayers struct {
	// transport is the client's own clone of the caller's *http.Transport
	// (or of http.DefaultTransport); nil when the caller's client has a
	// RoundTripper of another type, which is then in opaque.
	transport *http.Transport
	opaque    http.RoundTripper
	// wrap puts the middleware and the trace around a connection-level
	// RoundTripper.
	wrap func(http.RoundTripper) (http.RoundTripper, error)
}

// roundTripper returns the whole stack over the shared transport, for auth
// methods that do not care which connection carries a request.
func (l *connLayers) roundTripper() (http.RoundTripper, error) {
	base := l.opaque
	if l.transport != nil {
		base = l.transport
	}
	rt, err := l.wrap(base)
	if err != nil {
		return nil, err
	}
	return idleCloser{RoundTripper: rt, conns: base}, nil
}

// idleCloser closes the idle connections of the transport under the layers,
// which a middleware may not forward.
type idleCloser struct {
	http.RoundTripper
	conns http.RoundTripper
}

func (c idleCloser) CloseIdleConnections() { closeIdle(c.conns) }

// errNoMiddlewareResult is returned when a middleware returns nil.
var errNoMiddlewareResult = errors.New("ews: WithTransportMiddleware: the middleware returned a nil RoundTripper")

// buildHTTPClient assembles the HTTP stack: the caller's client or a default
// one, TLS settings, the layers (middleware, wire trace), then the auth
// method's RoundTripper on top. The layers sit below auth so that they see
// every handshake leg with its Authorization header (redacted in the trace).
func (c *clientConfig) buildHTTPClient() (*http.Client, error) {
	var base *http.Client
	if c.httpClient != nil {
		cp := *c.httpClient
		base = &cp
	} else {
		base = &http.Client{Timeout: 2 * time.Minute}
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	layers := &connLayers{}
	if t, ok := rt.(*http.Transport); ok {
		t = t.Clone()
		if c.insecureSkipVerify {
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{}
			}
			t.TLSClientConfig.InsecureSkipVerify = true
		}
		if c.httpClient == nil {
			// One service account talks to one endpoint from many
			// goroutines: keep enough idle connections for that.
			t.MaxIdleConnsPerHost = 64
		}
		if c.auth != nil {
			if err := c.auth.prepareTransport(t); err != nil {
				return nil, err
			}
		}
		layers.transport = t
		// net/http's own transport reports through httptrace whether a
		// request's headers reached the wire; a custom RoundTripper may not.
		c.writesTraced = true
	} else {
		if c.insecureSkipVerify {
			return nil, fmt.Errorf("ews: WithInsecureSkipVerify needs the http.Client of WithHTTPClient to have an *http.Transport (or none), not a %T; turn verification off in that RoundTripper instead", rt)
		}
		layers.opaque = rt
	}
	var trace func(http.RoundTripper) http.RoundTripper
	if c.trace != nil {
		max := c.maxResponseBytes
		if max <= 0 || max > 1<<20 {
			max = 1 << 20
		}
		mu := &sync.Mutex{}
		trace = func(next http.RoundTripper) http.RoundTripper {
			return &traceTransport{base: next, mu: mu, w: c.trace, maxBytes: max, redact: c.red}
		}
	}
	middleware := c.middleware
	layers.wrap = func(next http.RoundTripper) (http.RoundTripper, error) {
		if trace != nil {
			next = trace(next)
		}
		for i := len(middleware) - 1; i >= 0; i-- {
			next = middleware[i](next)
			if next == nil {
				return nil, errNoMiddlewareResult
			}
		}
		return next, nil
	}
	if c.auth != nil {
		wrapped, err := c.auth.wrap(layers)
		if err != nil {
			return nil, err
		}
		rt = wrapped
	} else {
		var err error
		if rt, err = layers.roundTripper(); err != nil {
			return nil, err
		}
	}
	base.Transport = rt
	// EWS never redirects a SOAP POST to somewhere useful; a 302 is an
	// outage page. Surface it instead of following it.
	base.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return base, nil
}
