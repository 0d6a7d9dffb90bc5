package ews

import (
	"crypto/tls"
	"net/http"
	"sync"
	"time"
)

// buildHTTPClient assembles the HTTP stack: the caller's client or a default
// one, TLS settings, the wire trace, then the auth method's RoundTripper on
// top. The trace sits below auth so that it records every handshake leg with
// its (redacted) Authorization header.
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
		rt = t
		// net/http's own transport reports through httptrace whether a
		// request's headers reached the wire; a custom RoundTripper may not.
		c.writesTraced = true
	}
	if c.trace != nil {
		max := c.maxResponseBytes
		if max <= 0 || max > 1<<20 {
			max = 1 << 20
		}
		rt = &traceTransport{base: rt, mu: &sync.Mutex{}, w: c.trace, maxBytes: max}
	}
	if c.auth != nil {
		wrapped, err := c.auth.wrap(rt)
		if err != nil {
			return nil, err
		}
		rt = wrapped
	}
	base.Transport = rt
	// EWS never redirects a SOAP POST to somewhere useful; a 302 is an
	// outage page. Surface it instead of following it.
	base.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return base, nil
}
