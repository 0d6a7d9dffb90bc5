package scctest

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRequestLogClipsValues: values a client controls are clipped in the
// log and in Stats.FailedLogons, at a character boundary, saying how much
// was cut.
func TestRequestLogClipsValues(t *testing.T) {
	s := newTestServer(t, WithRequestLog(1<<20, 64))
	anchor := strings.Repeat("é", 50000) // 100,000 bytes, two per character
	do(t, s, nil, req{headers: map[string]string{"X-AnchorMailbox": anchor}, body: envelope("", getInbox)})
	longUser := strings.Repeat("u", 5000)
	do(t, s, nil, req{user: longUser, pass: "x", body: envelope("", getInbox)})
	log := s.Requests()
	if len(log) != 2 {
		t.Fatalf("Requests() = %d entries, want 2", len(log))
	}
	got := log[0].AnchorMailbox
	if want := strings.Repeat("é", 32) + "…(+99936 bytes)"; got != want {
		t.Errorf("logged AnchorMailbox = %.80q (%d bytes), want %q", got, len(got), want)
	}
	if !utf8.ValidString(got) {
		t.Errorf("logged AnchorMailbox is not valid UTF-8")
	}
	var key string
	for k := range s.Stats().FailedLogons {
		key = k
	}
	if want := strings.Repeat("u", 64) + "…(+4936 bytes)"; key != want {
		t.Errorf("FailedLogons key = %.80q, want %q", key, want)
	}
	if _, err := New(WithRequestLog(0, 10)); err == nil {
		t.Errorf("New(WithRequestLog(0, 10)) = nil error, want one")
	}
}

// TestRequestLogBoundedByBytes: the log keeps the newest entries within its
// byte budget; the counters count every request.
func TestRequestLogBoundedByBytes(t *testing.T) {
	const budget = 64 << 10
	s := newTestServer(t, WithRequestLog(budget, 1024))
	for i := range 300 {
		anchor := fmt.Sprintf("%04d", i) + strings.Repeat("a", 996)
		do(t, s, nil, req{headers: map[string]string{"X-AnchorMailbox": anchor}, body: envelope("", getInbox)})
	}
	log := s.Requests()
	var size int64
	for i := range log {
		size += entrySize(&log[i])
	}
	if size > budget {
		t.Errorf("Requests() hold %d bytes, want at most the budget %d", size, budget)
	}
	if len(log) < 10 || len(log) >= 300 {
		t.Errorf("Requests() = %d entries, want some but not all 300 within %d bytes", len(log), budget)
	}
	if last := log[len(log)-1].AnchorMailbox; !strings.HasPrefix(last, "0299") {
		t.Errorf("newest entry's AnchorMailbox = %.8q…, want the last request's (0299…)", last)
	}
	if got := s.Stats().Requests; got != 300 {
		t.Errorf("Stats().Requests = %d, want 300", got)
	}
}

// TestRequestLogMemory: unauthenticated requests with a 1 MB header do not
// make the log keep megabytes (it kept every value whole: +358 MiB for
// 400 such requests).
func TestRequestLogMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 50 MB")
	}
	s := newTestServer(t)
	c := s.Client()
	anchor := strings.Repeat("a", 1000000)
	before := heapAfterGC()
	for range 50 {
		r := do(t, s, c, req{headers: map[string]string{"X-AnchorMailbox": anchor}, body: envelope("", getInbox)})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("status = %d, want 401", r.status)
		}
	}
	c.CloseIdleConnections()
	after := heapAfterGC()
	if grew := float64(after-before) / (1 << 20); grew > 10 {
		t.Errorf("50 requests with a 1 MB X-AnchorMailbox grew the live heap by %.1f MB, want at most 10 MB", grew)
	}
	runtime.KeepAlive(s)
}

// TestFailedLogonLookups: failed logons are found under any case and, on
// the server, under any name of the account.
func TestFailedLogonLookups(t *testing.T) {
	s := newTestServer(t)
	for _, user := range []string{`contoso\SVC-SYNC`, "Svc-Sync@Contoso.Example", "Nobody@contoso.example"} {
		if got := do(t, s, nil, req{user: user, pass: "wrong", body: envelope("", getInbox)}); got.status != http.StatusUnauthorized {
			t.Fatalf("logon %s with a wrong password: status %d, want 401", user, got.status)
		}
	}
	st := s.Stats()
	for _, tt := range []struct {
		name      string
		stats, sv int
	}{
		{`CONTOSO\svc-sync`, 2, 2},
		{`contoso\SVC-sync`, 2, 2},
		{"svc-sync@contoso.example", 0, 2}, // another name of the account: the server resolves it
		{"NOBODY@CONTOSO.EXAMPLE", 1, 1},
		{"alice@contoso.example", 0, 0},
	} {
		if got := st.FailedLogonsFor(tt.name); got != tt.stats {
			t.Errorf("Stats().FailedLogonsFor(%q) = %d, want %d", tt.name, got, tt.stats)
		}
		if got := s.FailedLogons(tt.name); got != tt.sv {
			t.Errorf("FailedLogons(%q) = %d, want %d", tt.name, got, tt.sv)
		}
	}
}

// TestRequestLogRing: the ring keeps the newest entries in order across
// growth and wrap-around.
func TestRequestLogRing(t *testing.T) {
	var l requestLog
	for i := range 200 {
		l.push(Request{StatusCode: i}, 100, 1<<30)
		if i == 70 || i == 199 {
			got := l.list()
			first := max(0, i-99)
			if len(got) != i-first+1 {
				t.Fatalf("after %d pushes: %d entries, want %d", i+1, len(got), i-first+1)
			}
			for j, e := range got {
				if e.StatusCode != first+j {
					t.Fatalf("after %d pushes: entry %d = %d, want %d", i+1, j, e.StatusCode, first+j)
				}
			}
		}
	}
	if len(l.buf) != 100 {
		t.Errorf("ring capacity = %d, want the bound 100", len(l.buf))
	}
}
