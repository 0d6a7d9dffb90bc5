package scctest

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// halfRequest is a request that stops after its headers and part of its
// body: Content-Length promises more than is sent.
func halfRequest(body string) string {
	auth := base64.StdEncoding.EncodeToString([]byte(testSvc + ":" + testPassword))
	return "POST " + EWSPath + " HTTP/1.1\r\nHost: fake\r\nContent-Type: text/xml; charset=utf-8\r\n" +
		"Authorization: Basic " + auth + "\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body[:len(body)/2]
}

// dialAll opens n raw connections and sends each msg.
func dialAll(t *testing.T, s *Server, n int, msg string) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.Dial("tcp", s.Listener().Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if msg != "" {
			if _, err := io.WriteString(c, msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	return conns
}

// waitClosed waits until the server has closed c (a read returns EOF or
// an error); the long deadline only keeps a broken server from hanging
// the test binary.
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.Copy(io.Discard, c); err != nil && strings.Contains(err.Error(), "i/o timeout") {
		t.Errorf("the server did not close a connection within a minute")
	}
}

// TestCloseWithHalfSentRequests: clients that sent headers and half a body
// (and never hang up) do not hold Close up; afterwards the server still
// closes their connections.
func TestCloseWithHalfSentRequests(t *testing.T) {
	s := newTestServer(t)
	body := envelope(version("Exchange2013_SP1")+imp(alice), getInbox)
	half := dialAll(t, s, 200, halfRequest(body))
	headersOnly := dialAll(t, s, 20, strings.Join(strings.SplitAfter(halfRequest(body), "\r\n")[:2], ""))
	silent := dialAll(t, s, 20, "")
	// Wait until the server is reading every body (the log is written
	// after the body, so poll the connection states instead).
	for deadline := time.Now().Add(time.Minute); ; {
		if s.activeConns() >= len(half) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d connections became active", s.activeConns(), len(half))
		}
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close still blocks after a minute with half-sent requests open")
	}
	for _, c := range append(append(half, headersOnly...), silent...) {
		waitClosed(t, c)
	}
}

// activeConns counts connections in StateActive.
func (s *Server) activeConns() int {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	n := 0
	for _, st := range s.conns {
		if st == http.StateActive {
			n++
		}
	}
	return n
}

// TestTimeoutsCloseSlowConnections: without Close, slow headers, slow
// bodies (to EWS and to Autodiscover) and idle connections are closed by the server after their
// timeouts, and the server keeps serving.
func TestTimeoutsCloseSlowConnections(t *testing.T) {
	s := newTestServer(t, WithTimeouts(Timeouts{Header: 50 * time.Millisecond, Body: 50 * time.Millisecond, Idle: 50 * time.Millisecond}))
	body := envelope(version("Exchange2013_SP1")+imp(alice), getInbox)
	conns := dialAll(t, s, 10, halfRequest(body))
	conns = append(conns, dialAll(t, s, 10, "POST "+EWSPath+" HTTP/1.1\r\nHost: fa")...)
	conns = append(conns, dialAll(t, s, 10, "")...)
	// Answered early (401 without credentials, 404): net/http then reads
	// the rest of the body, which must not take longer either.
	for _, path := range []string{"/autodiscover/autodiscover.svc", "/autodiscover/autodiscover.xml", EWSPath, "/nowhere"} {
		half := "POST " + path + " HTTP/1.1\r\nHost: fake\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: 1000\r\n\r\n<a"
		conns = append(conns, dialAll(t, s, 5, half)...)
	}
	for _, c := range conns {
		waitClosed(t, c)
	}
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), ok1())
}

func TestWithTimeoutsRefusesNegative(t *testing.T) {
	if _, err := New(WithTimeouts(Timeouts{Body: -time.Second})); err == nil {
		t.Errorf("New(WithTimeouts(Body: -1s)) = nil error, want one")
	}
}
