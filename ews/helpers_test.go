package ews_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
)

// recorded is one request as the test server saw it.
type recorded struct {
	Header http.Header
	Body   []byte
}

// fakeEWS is an httptest server whose handler the test sets; it records
// every request.
type fakeEWS struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	handler  func(w http.ResponseWriter, r *http.Request, n int)
}

// newFakeEWS starts a server on 127.0.0.1 that answers with handler; n is
// the 0-based number of the request.
func newFakeEWS(t testing.TB, handler func(w http.ResponseWriter, r *http.Request, n int)) *fakeEWS {
	t.Helper()
	f := &fakeEWS{handler: handler}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.requests)
		f.requests = append(f.requests, recorded{Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.handler(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeEWS) URL() string { return f.Server.URL + "/EWS/Exchange.asmx" }

func (f *fakeEWS) Requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

// fastRetries retries quickly so tests stay fast.
func fastRetries() ews.RetryPolicy {
	return ews.RetryPolicy{MaxAttempts: 3, MaxWait: 5 * time.Second, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
}

// newClient returns a Client for f with fast retries and opts.
func newClient(t testing.TB, f *fakeEWS, opts ...ews.Option) *ews.Client {
	t.Helper()
	all := append([]ews.Option{ews.WithHTTPClient(f.Client()), ews.WithRetryPolicy(fastRetries())}, opts...)
	c, err := ews.NewClient(f.URL(), all...)
	if err != nil {
		t.Fatalf("NewClient(%s) = %v", f.URL(), err)
	}
	return c
}

// readTestdata returns ews/testdata/<name>.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// soapReply returns a handler that answers every request with status and
// body as text/xml.
func soapReply(status int, body []byte) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(status)
		w.Write(body)
	}
}

func containsBytes(b []byte, s string) bool { return strings.Contains(string(b), s) }
