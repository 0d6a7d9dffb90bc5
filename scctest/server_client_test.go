package scctest

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClientReusesConnectionsUnderConcurrency: Client keeps enough idle
// connections that concurrent callers (a bulk check runs up to 27) reuse
// them instead of dialling, and handshaking, again for most requests.
func TestClientReusesConnectionsUnderConcurrency(t *testing.T) {
	s := NewUnstartedServer(t, WithAuth(AuthBasic))
	var mu sync.Mutex
	conns := 0
	s.hs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	s.Start()
	if _, err := s.AddMailbox(Mailbox{PrimarySMTP: alice}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddServiceAccount(testSvc, testPassword, ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 20, 5
	body := envelope(version("Exchange2013_SP1")+impersonate("PrimarySmtpAddress", alice), getInbox)
	for range rounds {
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: body})
				if r.status != 200 {
					t.Errorf("status = %d, want 200", r.status)
				}
			}()
		}
		wg.Wait()
	}
	mu.Lock()
	defer mu.Unlock()
	// With net/http's default of 2 idle connections per host, most of the
	// 100 requests would open a connection of their own.
	if conns > 2*workers {
		t.Errorf("%d requests in rounds of %d opened %d connections, want at most %d (connections reused)", workers*rounds, workers, conns, 2*workers)
	}
}

// TestSetPassword: after a reset only the new password logs on.
func TestSetPassword(t *testing.T) {
	s := newTestServer(t, WithAuth(AuthBasic, AuthNTLM))
	if err := s.SetPassword(testSvc, "N3w-Secret!"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	body := envelope(version("Exchange2013_SP1")+impersonate("PrimarySmtpAddress", alice), getInbox)
	tests := []struct {
		name, pass string
		ntlm       bool
		want       int
	}{
		{"Basic old", testPassword, false, 401},
		{"Basic new", "N3w-Secret!", false, 200},
		{"NTLM old", testPassword, true, 401},
		{"NTLM new", "N3w-Secret!", true, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.Client()
			if tt.ntlm {
				c = ntlmClient()
			}
			if r := do(t, s, c, req{user: testSvc, pass: tt.pass, body: body}); r.status != tt.want {
				t.Errorf("status = %d, want %d", r.status, tt.want)
			}
		})
	}
	for _, bad := range []struct{ logon, pw string }{{testSvc, ""}, {`CONTOSO\nobody`, "x"}} {
		if err := s.SetPassword(bad.logon, bad.pw); err == nil {
			t.Errorf("SetPassword(%q, %q) = nil, want an error", bad.logon, bad.pw)
		}
	}
}

// TestServerErrorsGoToTheLogger: net/http's own complaints (here a client
// that is not speaking TLS to a TLS server) reach WithLogger's handler
// instead of the test binary's stderr.
func TestServerErrorsGoToTheLogger(t *testing.T) {
	var buf syncBuffer
	s := NewTLSServer(t, WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	c, err := net.Dial("tcp", s.Listener().Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Read(make([]byte, 512))
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "TLS handshake error") {
		if time.Now().After(deadline) {
			t.Fatalf("logger output = %q, want net/http's TLS handshake error", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
