package ews_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/sccsync/scc/ews"
)

// TestFailedTLSHandshakeWasNotSent: a certificate the client does not trust
// fails the TLS handshake before any request byte is written. The error
// says so (MaybeSent false, also for CreateItem) and is not retried: the
// certificate stays untrusted until an administrator acts.
func TestFailedTLSHandshakeWasNotSent(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	defer srv.Close()
	var retries atomic.Int32
	c, err := ews.NewClient(srv.URL+"/EWS/Exchange.asmx", ews.WithRetryHook(func(ews.RetryEvent) { retries.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"GetFolder": func() error {
			_, err := c.GetFolder(context.Background(), &ews.GetFolderRequest{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}})
			return err
		},
		"CreateItem": func() error {
			_, err := c.CreateMessage(context.Background(), ews.DistinguishedFolder(ews.FolderDrafts), ews.Message{Subject: "probe"})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		var te *ews.TransportError
		if !errors.As(err, &te) {
			t.Fatalf("%s against an untrusted certificate = %v, want a *ews.TransportError", name, err)
		}
		if te.MaybeSent {
			t.Errorf("%s: MaybeSent = true, want false: the TLS handshake failed before anything was written (%v)", name, err)
		}
		if ews.IsTransient(err) {
			t.Errorf("%s: ews.IsTransient = true, want false for a certificate problem", name)
		}
	}
	if n := retries.Load(); n != 0 {
		t.Errorf("retried %d times, want 0 for a certificate problem", n)
	}
	if n := served.Load(); n != 0 {
		t.Errorf("server handled %d requests, want 0", n)
	}
}

// failAfterRoundTripper is a RoundTripper that is not net/http's: it
// forwards the request and then reports a failure, as a proxy library
// might after the server already acted.
type failAfterRoundTripper struct{ base http.RoundTripper }

func (f failAfterRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := f.base.RoundTrip(r)
	if err == nil {
		resp.Body.Close()
	}
	return nil, errors.New("proxy: connection reset")
}

// TestCustomRoundTripperFailureMaySend: with a RoundTripper that reports
// nothing through httptrace, a failure is assumed to have reached the
// server, and a CreateItem is not repeated.
func TestCustomRoundTripperFailureMaySend(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served.Add(1) }))
	defer srv.Close()
	c, err := ews.NewClient(srv.URL+"/EWS/Exchange.asmx", ews.WithHTTPClient(&http.Client{Transport: failAfterRoundTripper{http.DefaultTransport}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateMessage(context.Background(), ews.DistinguishedFolder(ews.FolderDrafts), ews.Message{Subject: "once"})
	var te *ews.TransportError
	if !errors.As(err, &te) || !te.MaybeSent {
		t.Fatalf("CreateMessage through a failing custom RoundTripper = %#v, want a *ews.TransportError with MaybeSent", err)
	}
	if n := served.Load(); n != 1 {
		t.Errorf("server handled the CreateItem %d times, want exactly 1", n)
	}
}
