package ews

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// redactedHeaders are written as "<scheme> [redacted]" or "[redacted]".
var redactedHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
}

// traceTransport writes each exchange to w. It sits below the auth
// RoundTripper, so it sees (and redacts) the real Authorization headers of
// every handshake leg.
type traceTransport struct {
	base     http.RoundTripper
	mu       *sync.Mutex
	w        io.Writer
	maxBytes int64
	redact   *redactor
}

// CloseIdleConnections forwards to the transport below.
func (t *traceTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody != nil {
			if rc, err := req.GetBody(); err == nil {
				reqBody, _ = io.ReadAll(io.LimitReader(rc, t.maxBytes))
				rc.Close()
			}
		} else {
			b, err := io.ReadAll(req.Body)
			req.Body.Close()
			if err != nil {
				return nil, err
			}
			reqBody = b
			req = req.Clone(req.Context())
			req.Body = io.NopCloser(bytes.NewReader(b))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		}
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)

	var b strings.Builder
	fmt.Fprintf(&b, "--> %s %s\n", req.Method, req.URL.Redacted())
	if req.Host != "" {
		fmt.Fprintf(&b, "Host: %s\n", req.Host)
	}
	writeHeaders(&b, req.Header, t.redact)
	if len(reqBody) > 0 {
		b.WriteString("\n")
		b.WriteString(t.redact.redact(string(reqBody)))
		b.WriteString("\n")
	}
	if err != nil {
		fmt.Fprintf(&b, "<-- error after %s: %s\n\n", time.Since(start).Round(time.Microsecond), t.redact.redact(err.Error()))
		t.write(b.String())
		return nil, err
	}
	// Read the response body (bounded) and hand the caller an equivalent
	// one; anything past the bound is passed through unread.
	var respBody []byte
	// A GetStreamingEvents body lasts for minutes: trace its headers only.
	if resp.Body != nil && !isStreaming(req.Context()) {
		respBody, _ = io.ReadAll(io.LimitReader(resp.Body, t.maxBytes))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(respBody), resp.Body), resp.Body}
	}
	fmt.Fprintf(&b, "<-- %s %s (%s)\n", resp.Proto, resp.Status, time.Since(start).Round(time.Microsecond))
	writeHeaders(&b, resp.Header, t.redact)
	if len(respBody) > 0 {
		b.WriteString("\n")
		b.WriteString(t.redact.redact(string(respBody)))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	t.write(b.String())
	return resp, nil
}

func (t *traceTransport) write(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.w, s)
}

func writeHeaders(b *strings.Builder, h http.Header, red *redactor) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			if redactedHeaders[http.CanonicalHeaderKey(k)] {
				v = redactHeaderValue(k, v)
			} else {
				v = red.redact(v)
			}
			fmt.Fprintf(b, "%s: %s\n", k, v)
		}
	}
}

// redactHeaderValue keeps the auth scheme word and drops the credential.
func redactHeaderValue(key, v string) string {
	switch http.CanonicalHeaderKey(key) {
	case "Authorization", "Proxy-Authorization":
		if scheme, _, ok := strings.Cut(strings.TrimSpace(v), " "); ok && isToken(scheme) {
			return scheme + " [redacted]"
		}
	case "Cookie", "Set-Cookie":
		var names []string
		for _, part := range strings.Split(v, ";") {
			name, _, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && isToken(name) && len(names) < 8 {
				names = append(names, name+"=[redacted]")
			}
			if http.CanonicalHeaderKey(key) == "Set-Cookie" {
				break
			}
		}
		if len(names) > 0 {
			return strings.Join(names, "; ")
		}
	}
	return "[redacted]"
}
