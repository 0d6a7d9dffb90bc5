package ews

import (
	"crypto/tls"
	"net/http"
	"time"
)

// buildHTTPClient assembles the HTTP stack: the caller's client or a default
// one, TLS settings, then the auth method's RoundTripper on top.
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
		if c.auth != nil {
			if err := c.auth.prepareTransport(t); err != nil {
				return nil, err
			}
		}
		rt = t
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
