package scctest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"
)

// TestDelayedRequestAbandonedWhenClientLeaves: a request held by an
// injected delay (a reactor's, or SetLatency) whose client gives up before
// the delay ends is abandoned. The operation does not run (the CreateItem
// creates no item), nothing is answered (an answer written now could still
// reach the cancelling client, which net/http hands over when it races
// the cancellation: that made TestCheckStalledMailbox in impersonation
// flaky), and the log records the request with status 0.
func TestDelayedRequestAbandonedWhenClientLeaves(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay func(s *Server, reached chan<- struct{})
	}{
		{"reactor delay", func(s *Server, reached chan<- struct{}) {
			s.React("CreateItem", alice, func(Call) Reaction {
				close(reached)
				return Reaction{Delay: time.Hour}
			})
		}},
		{"latency", func(s *Server, _ chan<- struct{}) {
			s.SetLatency(time.Hour, 0)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			reached := make(chan struct{})
			tc.delay(s, reached)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wrote := make(chan struct{})
			ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }})
			r := svcReq(imp(alice), `<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId><m:Items><t:Message><t:Subject>cancelled by its client</t:Subject></t:Message></m:Items></m:CreateItem>`)
			hr, err := http.NewRequestWithContext(ctx, http.MethodPost, s.EWSURL(), strings.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
			hr.SetBasicAuth(r.user, r.pass)
			done := make(chan error, 1)
			go func() {
				res, err := s.Client().Do(hr)
				if err == nil {
					res.Body.Close()
				}
				done <- err
			}()
			// The whole request is on the wire (and, with a reactor, the
			// server holds it in the delay) before the client gives up.
			<-wrote
			if tc.name == "reactor delay" {
				<-reached
			}
			// The server has started reading the request: a client that
			// closes before that leaves a request the server never sees
			// (its bytes may be discarded with the connection), which is
			// nothing to abandon.
			waitActive(t, s)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Do() error = %v, want context.Canceled", err)
			}
			rec := waitLogged(t, s)
			if rec.StatusCode != 0 {
				t.Errorf("logged status = %d, want 0 (abandoned, nothing answered)", rec.StatusCode)
			}
			items, err := s.Items(alice, "drafts")
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 0 {
				t.Errorf("Items(alice, drafts) = %d items (%q…), want none: the cancelled CreateItem ran", len(items), items[0].Subject)
			}
		})
	}
}

// waitLogged waits until the server has logged its one request (it does
// when the request ends, or when it writes a status) and returns the
// entry; the bound only keeps a server that never ends it from hanging the
// test.
func waitLogged(t *testing.T, s *Server) Request {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if log := s.Requests(); len(log) > 0 {
			return log[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still holds the request 10 s after its client went away")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitActive waits until net/http has started reading a request on one of
// the server's connections.
func waitActive(t *testing.T, s *Server) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.connMu.Lock()
		active := false
		for _, st := range s.conns {
			active = active || st == http.StateActive
		}
		s.connMu.Unlock()
		if active {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection of the server became active within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}
