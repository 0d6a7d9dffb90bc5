package ews_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
)

// serverBusyFault returns the ErrorServerBusy fault with the given back-off.
func serverBusyFault(t testing.TB, backOffMillis string) []byte {
	t.Helper()
	b := readTestdata(t, "responses/fault-ErrorServerBusy.xml")
	return []byte(strings.Replace(string(b), ">297749<", ">"+backOffMillis+"<", 1))
}

// hookRecorder collects RetryEvents.
type hookRecorder struct {
	mu     sync.Mutex
	events []ews.RetryEvent
}

func (h *hookRecorder) hook(e ews.RetryEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
}

func (h *hookRecorder) Events() []ews.RetryEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ews.RetryEvent(nil), h.events...)
}

func TestServerBusyBackOffHonoured(t *testing.T) {
	for _, tt := range []struct {
		name  string
		first func(http.ResponseWriter, *http.Request, int)
	}{
		{"fault", soapReply(500, serverBusyFault(t, "25"))},
		{"response message", soapReply(200, readTestdata(t, "responses/getfolder-ErrorServerBusy-message.xml"))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 0 {
					tt.first(w, r, n)
					return
				}
				soapReply(200, readTestdata(t, "responses/getfolder-inbox.xml"))(w, r, n)
			})
			var rec hookRecorder
			c := newClient(t, f, ews.WithRetryHook(rec.hook))
			sid := ews.PrimarySmtpAddress("alice@contoso.example")
			if _, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox), ews.Impersonate(sid)); err != nil {
				t.Fatalf("Folder = %v, want success after one retry", err)
			}
			ev := rec.Events()
			if len(ev) != 1 {
				t.Fatalf("retry hook saw %d events, want 1", len(ev))
			}
			var te *ews.ThrottledError
			if ev[0].Attempt != 1 || ev[0].Wait < 25*time.Millisecond || ev[0].Operation != "GetFolder" || ev[0].Impersonated != sid || !errors.As(ev[0].Err, &te) {
				t.Errorf("RetryEvent = %+v, want attempt 1 of GetFolder for %v, wait >= 25ms (the server's back-off), a *ThrottledError", ev[0], sid)
			}
			if n := len(f.Requests()); n != 2 {
				t.Errorf("server saw %d requests, want 2", n)
			}
		})
	}
}

func TestBackOffLongerThanBudgetReturnsAtOnce(t *testing.T) {
	f := newFakeEWS(t, soapReply(500, serverBusyFault(t, "297749")))
	var rec hookRecorder
	c := newClient(t, f, ews.WithRetryHook(rec.hook))
	_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
	var te *ews.ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("Folder = %v (%T), want *ThrottledError", err, err)
	}
	if want := 297749 * time.Millisecond; te.BackOff != want {
		t.Errorf("BackOff = %v, want %v", te.BackOff, want)
	}
	if d, ok := ews.BackOff(err); !ok || d != 297749*time.Millisecond {
		t.Errorf("BackOff(err) = %v, %v, want 4m57.749s, true", d, ok)
	}
	if !errors.Is(err, ews.ErrorServerBusy) || !ews.IsTransient(err) {
		t.Errorf("errors.Is(err, ErrorServerBusy) or IsTransient false for %v", err)
	}
	var fe *ews.FaultError
	if !errors.As(err, &fe) || fe.StatusCode != 500 {
		t.Errorf("ThrottledError does not wrap the *FaultError: %v", err)
	}
	if n := len(f.Requests()); n != 1 || len(rec.Events()) != 0 {
		t.Errorf("server saw %d requests and %d retries, want 1 and 0", n, len(rec.Events()))
	}
}

func TestNoRetriesShowsBackOff(t *testing.T) {
	f := newFakeEWS(t, soapReply(500, serverBusyFault(t, "40")))
	c := newClient(t, f)
	// The bulk checker's pattern: no retries, pause everything on a back-off.
	_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox), ews.UseRetryPolicy(ews.NoRetries()))
	d, ok := ews.BackOff(err)
	if !ok || d != 40*time.Millisecond {
		t.Errorf("BackOff(%v) = %v, %v, want 40ms, true", err, d, ok)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func Test503RetryAfter(t *testing.T) {
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := newClient(t, f, ews.WithRetryPolicy(ews.NoRetries()))
	_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
	var te *ews.ThrottledError
	if !errors.As(err, &te) || te.StatusCode != 503 || te.BackOff != 7*time.Second {
		t.Fatalf("Folder = %v, want *ThrottledError 503 with back-off 7s", err)
	}
	var he *ews.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 503 {
		t.Errorf("ThrottledError does not wrap an *HTTPError 503: %v", err)
	}
}

func TestRetryBudgetExhausted(t *testing.T) {
	t.Run("attempts", func(t *testing.T) {
		f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusServiceUnavailable) })
		var rec hookRecorder
		c := newClient(t, f, ews.WithRetryHook(rec.hook)) // 3 attempts
		_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
		var te *ews.ThrottledError
		if !errors.As(err, &te) {
			t.Fatalf("Folder = %v, want *ThrottledError", err)
		}
		if n := len(f.Requests()); n != 3 || len(rec.Events()) != 2 {
			t.Errorf("server saw %d requests and hook %d retries, want 3 and 2", n, len(rec.Events()))
		}
	})
	t.Run("total wait", func(t *testing.T) {
		f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusServiceUnavailable) })
		p := ews.RetryPolicy{MaxAttempts: 100, MaxWait: 50 * time.Millisecond, BaseDelay: 20 * time.Millisecond, MaxDelay: 20 * time.Millisecond}
		c := newClient(t, f, ews.WithRetryPolicy(p))
		_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
		var te *ews.ThrottledError
		if !errors.As(err, &te) {
			t.Fatalf("Folder = %v, want *ThrottledError", err)
		}
		// Each wait is at least 10ms (half of 20ms), so at most 5 waits fit.
		if n := len(f.Requests()); n < 2 || n > 6 {
			t.Errorf("server saw %d requests, want 2..6 within a 50ms wait budget", n)
		}
	})
}

func TestCancelDuringBackOff(t *testing.T) {
	f := newFakeEWS(t, soapReply(500, serverBusyFault(t, "20000")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := ews.RetryPolicy{MaxAttempts: 3, MaxWait: time.Hour, BaseDelay: time.Millisecond}
	// The hook runs just before the client sleeps; cancelling there must
	// end the sleep instead of waiting 20s.
	c := newClient(t, f, ews.WithRetryPolicy(p), ews.WithRetryHook(func(ews.RetryEvent) { cancel() }))
	_, err := c.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Folder = %v, want context.Canceled", err)
	}
	var te *ews.ThrottledError
	if !errors.As(err, &te) {
		t.Errorf("Folder = %v, want it to carry the *ThrottledError too", err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

// dropConnection closes the connection after reading the request: the
// outcome is unknown to the client.
func dropConnection(w http.ResponseWriter, _ *http.Request, _ int) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

func TestDroppedConnection(t *testing.T) {
	t.Run("GetFolder is retried", func(t *testing.T) {
		f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				dropConnection(w, r, n)
				return
			}
			soapReply(200, readTestdata(t, "responses/getfolder-inbox.xml"))(w, r, n)
		})
		c := newClient(t, f)
		if _, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox)); err != nil {
			t.Fatalf("Folder = %v, want success after a retry", err)
		}
		if n := len(f.Requests()); n != 2 {
			t.Errorf("server saw %d requests, want 2", n)
		}
	})
	t.Run("CreateItem is not repeated", func(t *testing.T) {
		f := newFakeEWS(t, dropConnection)
		c := newClient(t, f)
		_, err := c.CreateMessage(context.Background(), ews.DistinguishedFolder(ews.FolderDrafts), ews.Message{Subject: "probe"})
		var tr *ews.TransportError
		if !errors.As(err, &tr) || !tr.MaybeSent {
			t.Fatalf("CreateMessage = %v, want *TransportError with MaybeSent", err)
		}
		if !ews.IsTransient(err) {
			t.Errorf("IsTransient(%v) = false, want true", err)
		}
		if n := len(f.Requests()); n != 1 {
			t.Errorf("server saw %d CreateItem requests, want exactly 1", n)
		}
	})
	t.Run("CreateItem throttled is retried", func(t *testing.T) {
		f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				soapReply(500, serverBusyFault(t, "1"))(w, r, n)
				return
			}
			soapReply(200, readTestdata(t, "responses/createitem.xml"))(w, r, n)
		})
		c := newClient(t, f)
		if _, err := c.CreateMessage(context.Background(), ews.DistinguishedFolder(ews.FolderDrafts), ews.Message{Subject: "probe"}); err != nil {
			t.Fatalf("CreateMessage = %v, want success after the server's back-off", err)
		}
	})
	t.Run("CreateItem transient fault is not repeated", func(t *testing.T) {
		fault := strings.ReplaceAll(string(readTestdata(t, "responses/fault-ErrorImpersonateUserDenied.xml")), "ErrorImpersonateUserDenied", "ErrorMailboxStoreUnavailable")
		f := newFakeEWS(t, soapReply(500, []byte(fault)))
		c := newClient(t, f)
		_, err := c.CreateMessage(context.Background(), ews.DistinguishedFolder(ews.FolderDrafts), ews.Message{Subject: "probe"})
		if !errors.Is(err, ews.ErrorMailboxStoreUnavailable) || !ews.IsTransient(err) {
			t.Errorf("CreateMessage = %v, want transient ErrorMailboxStoreUnavailable", err)
		}
		if n := len(f.Requests()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
		// The same fault is retried for an idempotent operation.
		f2 := newFakeEWS(t, soapReply(500, []byte(fault)))
		_, err = newClient(t, f2).Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
		if !errors.Is(err, ews.ErrorMailboxStoreUnavailable) {
			t.Errorf("Folder = %v, want ErrorMailboxStoreUnavailable", err)
		}
		if n := len(f2.Requests()); n != 3 {
			t.Errorf("server saw %d GetFolder requests, want 3 (all attempts)", n)
		}
	})
	t.Run("connection refused is retried even for CreateItem", func(t *testing.T) {
		f := newFakeEWS(t, dropConnection)
		url := f.URL()
		f.Close()
		var rec hookRecorder
		c, err := ews.NewClient(url, ews.WithRetryPolicy(fastRetries()), ews.WithRetryHook(rec.hook))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateMessage(context.Background(), ews.DistinguishedFolder(ews.FolderDrafts), ews.Message{Subject: "probe"})
		var tr *ews.TransportError
		if !errors.As(err, &tr) || tr.MaybeSent {
			t.Fatalf("CreateMessage = %v, want *TransportError without MaybeSent", err)
		}
		if n := len(rec.Events()); n != 2 {
			t.Errorf("hook saw %d retries, want 2 (nothing was sent, so repeating is safe)", n)
		}
	})
}

func TestTruncatedBody(t *testing.T) {
	body := readTestdata(t, "responses/getfolder-inbox.xml")
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: 5000\r\n\r\n")
		buf.Write(body[:300])
		buf.Flush()
	})
	c := newClient(t, f, ews.WithRetryPolicy(ews.NoRetries()))
	_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
	var tr *ews.TransportError
	if !errors.As(err, &tr) || !tr.MaybeSent || !strings.Contains(err.Error(), "cut off") {
		t.Errorf("Folder = %v, want *TransportError saying the body was cut off", err)
	}
}

func TestDeadlineNotTransient(t *testing.T) {
	block := make(chan struct{})
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	defer close(block)
	c := newClient(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox))
	var tr *ews.TransportError
	if !errors.As(err, &tr) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Folder = %v, want *TransportError wrapping context.DeadlineExceeded", err)
	}
	if ews.IsTransient(err) {
		t.Errorf("IsTransient(%v) = true, want false: the caller's own deadline ended the call", err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}
