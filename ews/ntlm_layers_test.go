package ews_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// These tests pin down that an NTLM handshake stays on one connection
// whatever sits between the client and the wire: the wire trace, or a
// caller's logging or metrics RoundTripper. A handshake whose legs go over
// two connections is a failed logon for the domain controller, with the
// right password.

// countingMiddleware is a typical logging or metrics RoundTripper: it
// counts and passes every request on.
type countingMiddleware struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (m countingMiddleware) RoundTrip(r *http.Request) (*http.Response, error) {
	m.n.Add(1)
	return m.next.RoundTrip(r)
}

// countingWriter is an io.Writer that only counts bytes.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n.Add(int64(len(p))); return len(p), nil }

// runConcurrentCheck impersonates users mailboxes, concurrency at a time,
// and returns the number of calls that failed.
func runConcurrentCheck(t *testing.T, c *ews.Client, users []string, concurrency int) int {
	t.Helper()
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, concurrency)
	for _, u := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox),
				ews.Impersonate(ews.PrimarySmtpAddress(u)), ews.UseRetryPolicy(ews.NoRetries()))
			if err != nil {
				failed.Add(1)
				t.Logf("Folder as %s = %v", u, err)
			}
		}()
	}
	wg.Wait()
	return int(failed.Load())
}

func TestNTLMConcurrentThroughLayers(t *testing.T) {
	const users, concurrency = 50, 27
	var mw atomic.Int64
	trace := &countingWriter{}
	tests := []struct {
		name string
		opts []ews.Option
		// seen reports whether the layer saw the traffic.
		seen func() bool
	}{
		{"wire trace", []ews.Option{ews.WithWireTrace(trace)}, func() bool { return trace.n.Load() > 0 }},
		{"middleware", []ews.Option{ews.WithTransportMiddleware(func(next http.RoundTripper) http.RoundTripper {
			return countingMiddleware{next: next, n: &mw}
		})}, func() bool { return mw.Load() > 0 }},
		{"middleware and trace", []ews.Option{ews.WithWireTrace(io.Discard), ews.WithTransportMiddleware(func(next http.RoundTripper) http.RoundTripper {
			return countingMiddleware{next: next, n: &mw}
		})}, func() bool { return mw.Load() > 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scctest.NewServer(t)
			var addrs []string
			for i := range users {
				addr := fmt.Sprintf("user%02d@contoso.example", i)
				if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: addr}); err != nil {
					t.Fatal(err)
				}
				addrs = append(addrs, addr)
			}
			if err := s.AddServiceAccount(svcLogon, svcPassword, scctest.ImpersonateAll()); err != nil {
				t.Fatal(err)
			}
			opts := append([]ews.Option{ews.WithHTTPClient(s.Client()), ews.WithNTLM(svcLogon, svcPassword)}, tt.opts...)
			c, err := ews.NewClient(s.EWSURL(), opts...)
			if err != nil {
				t.Fatalf("NewClient = %v", err)
			}
			defer c.CloseIdleConnections()
			if n := runConcurrentCheck(t, c, addrs, concurrency); n != 0 {
				t.Errorf("%d of %d impersonated calls failed, want 0", n, users)
			}
			if got := s.Stats().FailedLogons; len(got) != 0 {
				t.Errorf("server counted failed logons %v with the right password, want none", got)
			}
			if !tt.seen() {
				t.Errorf("the %s saw no request", tt.name)
			}
		})
	}
}

// TestNTLMRefusesOpaqueTransport: a caller's http.Client whose Transport is
// not an *http.Transport hides its connections, so no handshake could be
// kept on one of them; NewClient refuses it with NTLM and says what to do.
func TestNTLMRefusesOpaqueTransport(t *testing.T) {
	hc := &http.Client{Transport: countingMiddleware{next: http.DefaultTransport, n: new(atomic.Int64)}}
	_, err := ews.NewClient("https://mail.contoso.example/EWS/Exchange.asmx", ews.WithHTTPClient(hc), ews.WithNTLM(svcLogon, svcPassword))
	if err == nil || !strings.Contains(err.Error(), "WithTransportMiddleware") || !strings.Contains(err.Error(), "ews_test.countingMiddleware") {
		t.Fatalf("NewClient(NTLM over a wrapping RoundTripper) = %v, want an error naming the RoundTripper type and WithTransportMiddleware", err)
	}
	// Basic and bearer tokens do not care which connection carries them.
	if _, err := ews.NewClient("https://mail.contoso.example/EWS/Exchange.asmx", ews.WithHTTPClient(hc), ews.WithBasicAuth(svcLogon, svcPassword)); err != nil {
		t.Errorf("NewClient(Basic over a wrapping RoundTripper) = %v, want nil", err)
	}
}

// TestTransportOptionsValidate: options about the HTTP stack refuse what
// they cannot honour, in NewClient.
func TestTransportOptionsValidate(t *testing.T) {
	const url = "https://mail.contoso.example/EWS/Exchange.asmx"
	opaque := &http.Client{Transport: countingMiddleware{next: http.DefaultTransport, n: new(atomic.Int64)}}
	nilMiddleware := ews.WithTransportMiddleware(func(http.RoundTripper) http.RoundTripper { return nil })
	tests := []struct {
		name string
		opts []ews.Option
		want string
	}{
		{"skip verify over an opaque RoundTripper", []ews.Option{ews.WithHTTPClient(opaque), ews.WithInsecureSkipVerify()}, "WithInsecureSkipVerify"},
		{"nil middleware", []ews.Option{ews.WithTransportMiddleware(nil)}, "middleware is nil"},
		{"middleware returning nil", []ews.Option{nilMiddleware}, "returned a nil RoundTripper"},
		{"middleware returning nil, NTLM", []ews.Option{nilMiddleware, ews.WithNTLM(svcLogon, svcPassword)}, "returned a nil RoundTripper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ews.NewClient(url, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewClient(%s) = %v, want an error containing %q", tt.name, err, tt.want)
			}
		})
	}
}
