package ews

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// streamFrom reads a GetStreamingEvents body from memory, as the client
// reads one from the network.
func streamFrom(body []byte, limit int64) *EventStream {
	ctx, cancel := context.WithCancelCause(context.Background())
	rc := io.NopCloser(bytes.NewReader(body))
	return &EventStream{ctx: ctx, cancel: cancel, body: rc, reader: newEnvelopeReader(rc, limit, nil)}
}

// drainStream reads messages until an error; it fails the test if that takes
// more reads than the body has bytes (a loop that makes no progress).
func drainStream(t testing.TB, s *EventStream, body []byte) ([]*StreamMessage, error) {
	var msgs []*StreamMessage
	for i := 0; ; i++ {
		if i > len(body)+1 {
			t.Fatalf("Next() returned %d messages from %d bytes", i, len(body))
		}
		m, err := s.Next()
		if err != nil {
			return msgs, err
		}
		if m == nil {
			t.Fatal("Next() = nil, nil")
		}
		msgs = append(msgs, m)
	}
}

func testStream(t testing.TB) []byte {
	var b bytes.Buffer
	for _, f := range []string{"ok", "notification", "ok", "ErrorMissedNotificationEvents", "notification", "closed"} {
		data, err := os.ReadFile("testdata/responses/getstreamingevents-" + f + ".xml")
		if err != nil {
			t.Fatal(err)
		}
		if f == "notification" && b.Len() > 2000 {
			// The wire form real servers send (m:Notification).
			data = bytes.ReplaceAll(data, []byte("t:Notification>"), []byte("m:Notification>"))
		}
		b.Write(data)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// TestStreamCutAtEveryByte: whatever byte the connection stops at, the
// reader returns the complete envelopes before the cut and then an error:
// never a partial message, never io.EOF (which means Closed was read).
func TestStreamCutAtEveryByte(t *testing.T) {
	full := testStream(t)
	whole, err := drainStream(t, streamFrom(full, 1<<20), full)
	if err != io.EOF || len(whole) != 6 {
		t.Fatalf("full stream: %d messages, %v; want 6, io.EOF", len(whole), err)
	}
	closedAt := bytes.LastIndex(full, []byte("</s:Envelope>")) + len("</s:Envelope>")
	ends := []int{}
	for i := 0; i+len("</s:Envelope>") <= len(full); i++ {
		if bytes.HasPrefix(full[i:], []byte("</s:Envelope>")) {
			ends = append(ends, i+len("</s:Envelope>"))
		}
	}
	for cut := 0; cut < closedAt; cut++ {
		msgs, err := drainStream(t, streamFrom(full[:cut], 1<<20), full[:cut])
		complete := 0
		for _, e := range ends {
			if e <= cut {
				complete++
			}
		}
		if err == io.EOF || err == nil {
			t.Fatalf("cut at %d: err = %v, want an error", cut, err)
		}
		var te *TransportError
		if !errors.As(err, &te) || !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, ErrStreamDropped) {
			t.Fatalf("cut at %d: err = %v, want *TransportError with io.ErrUnexpectedEOF and ErrStreamDropped", cut, err)
		}
		if len(msgs) != complete {
			t.Fatalf("cut at %d: %d messages, want the %d complete envelopes", cut, len(msgs), complete)
		}
	}
}

// FuzzEventStream feeds arbitrary bodies, and valid streams cut anywhere,
// to the streaming reader: it must end with messages and an error, never
// panic or loop, and keep within its per-envelope limit.
func FuzzEventStream(f *testing.F) {
	full := testStream(f)
	f.Add(full, uint16(len(full)))
	f.Add(full, uint16(len(full)/2))
	f.Add([]byte(strings.Repeat("<a>", 300)), uint16(900))
	f.Add([]byte(`<?xml version="1.0" encoding="utf-16"?><s:Envelope/>`), uint16(60))
	f.Fuzz(func(t *testing.T, body []byte, cut uint16) {
		if int(cut) < len(body) {
			body = body[:cut]
		}
		msgs, err := drainStream(t, streamFrom(body, 4096), body)
		if err == nil || err.Error() == "" {
			t.Fatalf("drain = %v, want an error with a message", err)
		}
		if err == io.EOF && (len(msgs) == 0 || msgs[len(msgs)-1].ConnectionStatus != ConnectionClosed) {
			t.Fatalf("io.EOF without a Closed message last")
		}
		for _, m := range msgs {
			if m.Class == ClassError && m.Err == nil {
				t.Fatalf("error message without Err")
			}
			for _, n := range m.Notifications {
				if n.SubscriptionID == "" {
					t.Fatalf("notification without subscription id")
				}
			}
		}
	})
}
