package ews_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

// mForm rewrites an envelope to the form real servers send: m:Notification
// and m:SubscriptionId where the schema has t: (see EWS-FACTS-SYNC §9.4).
func mForm(b []byte) []byte {
	s := strings.NewReplacer("<t:Notification>", "<m:Notification>", "</t:Notification>", "</m:Notification>").Replace(string(b))
	if i := strings.Index(s, "<m:ErrorSubscriptionIds>"); i >= 0 {
		s = s[:i] + strings.NewReplacer("<t:SubscriptionId>", "<m:SubscriptionId>", "</t:SubscriptionId>", "</m:SubscriptionId>").Replace(s[i:])
	}
	return []byte(s)
}

// streamServer serves GetStreamingEvents as Exchange does: one chunked
// response whose envelopes it writes and flushes one at a time, each only
// after the test allows it (a receive on next), so the test sees that the
// client hands out each envelope as it arrives.
func streamServer(t *testing.T, envelopes [][]byte, next <-chan struct{}) *fakeEWS {
	t.Helper()
	return newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		fl := w.(http.Flusher)
		for i, env := range envelopes {
			if i > 0 && next != nil {
				select {
				case <-next:
				case <-r.Context().Done():
					return
				}
			}
			w.Write(env)
			fl.Flush()
		}
	})
}

func streamReq(ids ...string) *ews.GetStreamingEventsRequest {
	return &ews.GetStreamingEventsRequest{SubscriptionIDs: ids, ConnectionTimeout: 30 * time.Minute}
}

func TestGetStreamingEventsSuccessiveEnvelopes(t *testing.T) {
	for _, form := range []string{"schema t:", "wire m:"} {
		t.Run(form, func(t *testing.T) {
			envs := [][]byte{
				readTestdata(t, "responses/getstreamingevents-ok.xml"),
				readTestdata(t, "responses/getstreamingevents-notification.xml"),
				readTestdata(t, "responses/getstreamingevents-ok.xml"),
				readTestdata(t, "responses/getstreamingevents-ErrorMissedNotificationEvents.xml"),
				readTestdata(t, "responses/getstreamingevents-closed.xml"),
			}
			if form == "wire m:" {
				for i := range envs {
					envs[i] = mForm(envs[i])
				}
			}
			next := make(chan struct{})
			f := streamServer(t, envs, next)
			s, err := newClient(t, f).GetStreamingEvents(context.Background(), streamReq("JgBibjFwcjAz", "JgBibjFwcjA0"))
			if err != nil {
				t.Fatalf("GetStreamingEvents = %v", err)
			}
			defer s.Close()
			type summary struct {
				Status ews.ConnectionStatus
				Subs   []string
				Events []ews.EventType
				Code   ews.ResponseCode
			}
			var got []summary
			for i := 0; ; i++ {
				m, err := s.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("Next() #%d = %v", i, err)
				}
				sm := summary{Status: m.ConnectionStatus, Code: m.Code}
				for _, n := range m.Notifications {
					sm.Subs = append(sm.Subs, n.SubscriptionID)
					for _, e := range n.Events {
						sm.Events = append(sm.Events, e.Type)
					}
				}
				got = append(got, sm)
				if m.Err != nil {
					var se *ews.SubscriptionError
					if !errors.As(m.Err, &se) || !errors.Is(m.Err, ews.ErrorMissedNotificationEvents) || !se.KeepsSubscription() ||
						!cmp.Equal(se.SubscriptionIDs, []string{"JgBibjFwcjAz"}) {
						t.Errorf("message %d Err = %v, want *SubscriptionError ErrorMissedNotificationEvents for JgBibjFwcjAz that keeps the subscription", i, m.Err)
					}
				}
				// The server sends the next envelope only now: the
				// client did not wait for the end of the body.
				if i < len(envs)-1 {
					next <- struct{}{}
				}
			}
			want := []summary{
				{Status: ews.ConnectionOK, Code: ews.NoError},
				{Subs: []string{"JgBibjFwcjAz", "JgBibjFwcjA0"}, Events: []ews.EventType{ews.EventCreated, ews.EventNewMail, ews.EventModified, ews.EventMoved}, Code: ews.NoError},
				{Status: ews.ConnectionOK, Code: ews.NoError},
				{Code: ews.ErrorMissedNotificationEvents},
				{Status: ews.ConnectionClosed, Code: ews.NoError},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stream messages (-want +got):\n%s", diff)
			}
			if _, err := s.Next(); err != io.EOF {
				t.Errorf("Next() after Closed = %v, want io.EOF", err)
			}
			if s.ServerVersion == nil || s.ServerVersion.MajorVersion != 15 {
				t.Errorf("ServerVersion = %+v, want 15.x from the first envelope", s.ServerVersion)
			}
		})
	}
}

// TestGetStreamingEventsSubscriptionError: ErrorSubscriptionNotFound names
// the failed subscription, is typed, and the Closed with it ends the
// stream.
func TestGetStreamingEventsSubscriptionError(t *testing.T) {
	for _, form := range []string{"schema t:", "wire m:"} {
		t.Run(form, func(t *testing.T) {
			env := readTestdata(t, "responses/getstreamingevents-ErrorSubscriptionNotFound.xml")
			if form == "wire m:" {
				env = mForm(env)
			}
			f := streamServer(t, [][]byte{readTestdata(t, "responses/getstreamingevents-ok.xml"), env}, nil)
			s, err := newClient(t, f).GetStreamingEvents(context.Background(), streamReq("JgBibjFwcjAz", "JgBibjFwcjA0"))
			if err != nil {
				t.Fatalf("GetStreamingEvents = %v", err)
			}
			defer s.Close()
			if m, err := s.Next(); err != nil || m.ConnectionStatus != ews.ConnectionOK {
				t.Fatalf("Next() = %v, %v; want the OK keep-alive", m, err)
			}
			m, err := s.Next()
			if err != nil {
				t.Fatalf("Next() = %v", err)
			}
			var se *ews.SubscriptionError
			var re *ews.ResponseError
			if !errors.As(m.Err, &se) || !errors.As(m.Err, &re) || re.Code != ews.ErrorSubscriptionNotFound || se.KeepsSubscription() {
				t.Fatalf("Err = %v, want *SubscriptionError wrapping ErrorSubscriptionNotFound", m.Err)
			}
			if diff := cmp.Diff([]string{"JgBibjFwcjA0"}, se.SubscriptionIDs); diff != "" || m.ConnectionStatus != ews.ConnectionClosed {
				t.Errorf("SubscriptionIDs (-want +got):\n%s, status %q; want Closed", diff, m.ConnectionStatus)
			}
			if !strings.Contains(m.Err.Error(), "JgBibjFwcjA0") || !strings.HasPrefix(m.Err.Error(), "ews: ") {
				t.Errorf("Err.Error() = %q, want it to start with ews: and name the subscription", m.Err)
			}
			if _, err := s.Next(); err != io.EOF {
				t.Errorf("Next() after Closed = %v, want io.EOF", err)
			}
		})
	}
}

// TestGetStreamingEventsCut: a connection that breaks anywhere, inside an
// envelope or between two, ends the stream with a *TransportError, never a
// partial message or a hang.
func TestGetStreamingEventsCut(t *testing.T) {
	ok := readTestdata(t, "responses/getstreamingevents-ok.xml")
	notif := readTestdata(t, "responses/getstreamingevents-notification.xml")
	body := append(append([]byte{}, ok...), notif...)
	for _, tt := range []struct {
		name  string
		cut   int
		abort bool // drop the connection instead of ending the body
		msgs  int
	}{
		{"inside first envelope, body ends", len(ok) / 2, false, 0},
		{"inside first envelope, connection drops", len(ok) / 2, true, 0},
		{"between envelopes, body ends", len(ok), false, 1},
		{"between envelopes, connection drops", len(ok), true, 1},
		{"one byte short, connection drops", len(body) - 3, true, 1},
		{"after notification, no Closed", len(body), false, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				w.Write(body[:tt.cut])
				w.(http.Flusher).Flush()
				if tt.abort {
					panic(http.ErrAbortHandler)
				}
			})
			s, err := newClient(t, f).GetStreamingEvents(context.Background(), streamReq("JgBibjFwcjAz"))
			if err != nil {
				t.Fatalf("GetStreamingEvents = %v", err)
			}
			defer s.Close()
			msgs := 0
			for {
				_, err = s.Next()
				if err != nil {
					break
				}
				msgs++
			}
			var te *ews.TransportError
			if !errors.As(err, &te) || !errors.Is(err, io.ErrUnexpectedEOF) && !tt.abort || !errors.Is(err, ews.ErrStreamDropped) || !ews.IsTransient(err) {
				t.Errorf("Next() = %v, want a transient *TransportError (unexpected EOF) wrapping ErrStreamDropped", err)
			}
			if msgs != tt.msgs {
				t.Errorf("got %d messages before the error, want %d", msgs, tt.msgs)
			}
			if _, again := s.Next(); again == nil || again.Error() != err.Error() {
				t.Errorf("Next() after the error = %v, want the same error", again)
			}
		})
	}
}

// TestGetStreamingEventsIdle: a server that sends a keep-alive and then
// nothing, without closing, makes Next fail with ErrStreamIdle instead of
// waiting forever.
func TestGetStreamingEventsIdle(t *testing.T) {
	stall := make(chan struct{})
	defer close(stall)
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(readTestdata(t, "responses/getstreamingevents-ok.xml"))
		w.(http.Flusher).Flush()
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	})
	req := streamReq("JgBibjFwcjAz")
	req.IdleTimeout = 300 * time.Millisecond
	// On a loaded machine even the response headers may take longer than
	// the idle timeout; then opening fails the same way. Either way the
	// stream ends with ErrStreamIdle instead of waiting forever.
	s, err := newClient(t, f).GetStreamingEvents(context.Background(), req)
	if err == nil {
		defer s.Close()
		for {
			m, nerr := s.Next()
			if nerr != nil {
				err = nerr
				break
			}
			if m.ConnectionStatus != ews.ConnectionOK {
				t.Fatalf("Next() = %+v, want only the keep-alive", m)
			}
		}
	}
	var te *ews.TransportError
	if !errors.Is(err, ews.ErrStreamIdle) || !errors.As(err, &te) || !ews.IsTransient(err) {
		t.Errorf("stream error = %v, want a transient *TransportError wrapping ErrStreamIdle", err)
	}
}

// TestGetStreamingEventsCloseUnblocks: Close from another goroutine ends a
// Next that waits for the server.
func TestGetStreamingEventsCloseUnblocks(t *testing.T) {
	stall := make(chan struct{})
	defer close(stall)
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	})
	s, err := newClient(t, f).GetStreamingEvents(context.Background(), streamReq("JgBibjFwcjAz"))
	if err != nil {
		t.Fatalf("GetStreamingEvents = %v", err)
	}
	done := make(chan error)
	go func() {
		_, err := s.Next()
		done <- err
	}()
	s.Close()
	if err := <-done; !errors.Is(err, ews.ErrStreamClosed) {
		t.Errorf("Next() during Close = %v, want ErrStreamClosed", err)
	}
	if _, err := s.Next(); !errors.Is(err, ews.ErrStreamClosed) {
		t.Errorf("Next() after Close = %v, want ErrStreamClosed", err)
	}
}

// TestGetStreamingEventsContextCancel: cancelling the caller's context ends
// the stream with an error that says so and is not transient.
func TestGetStreamingEventsContextCancel(t *testing.T) {
	stall := make(chan struct{})
	defer close(stall)
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(readTestdata(t, "responses/getstreamingevents-ok.xml"))
		w.(http.Flusher).Flush()
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newClient(t, f).GetStreamingEvents(ctx, streamReq("JgBibjFwcjAz"))
	if err != nil {
		t.Fatalf("GetStreamingEvents = %v", err)
	}
	defer s.Close()
	if _, err := s.Next(); err != nil {
		t.Fatalf("Next() = %v", err)
	}
	cancel()
	_, err = s.Next()
	if !errors.Is(err, context.Canceled) || ews.IsTransient(err) {
		t.Errorf("Next() after cancel = %v, want context.Canceled, not transient", err)
	}
}

// TestGetStreamingEventsMalformed: garbage, a second kind of body or an
// oversized envelope in the stream are errors naming the problem.
func TestGetStreamingEventsMalformed(t *testing.T) {
	ok := string(readTestdata(t, "responses/getstreamingevents-ok.xml"))
	getFolder := string(readTestdata(t, "responses/getfolder-inbox.xml"))
	big := strings.Replace(string(readTestdata(t, "responses/getstreamingevents-notification.xml")), "AAMkImsg9=", strings.Repeat("A", 4096), 1)
	tests := []struct {
		name, body string
		opts       []ews.Option
		want       string
	}{
		{"text between envelopes", ok + "garbage<", nil, "text between envelopes"},
		{"wrong body", ok + getFolder, nil, "instead of m:GetStreamingEventsResponse"},
		{"mismatched tags", ok + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body></s:Envelope>", nil, "not a well-formed"},
		{"doctype", ok + "<!DOCTYPE x [<!ENTITY a 'b'>]>", nil, "directive"},
		{"too large", ok + big, []ews.Option{ews.WithMaxResponseBytes(2048)}, "larger than the limit of 2048 bytes"},
		{"bad status", strings.Replace(ok, ">OK<", ">Maybe<", 1), nil, `unknown ConnectionStatus "Maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := streamServer(t, [][]byte{[]byte(tt.body)}, nil)
			s, err := newClient(t, f, tt.opts...).GetStreamingEvents(context.Background(), streamReq("JgBibjFwcjAz"))
			if err != nil {
				t.Fatalf("GetStreamingEvents = %v", err)
			}
			defer s.Close()
			for {
				if _, err = s.Next(); err != nil {
					break
				}
			}
			var he *ews.HTTPError
			if !errors.As(err, &he) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Next() = %v, want *HTTPError mentioning %q", err, tt.want)
			}
		})
	}
}

// TestGetStreamingEventsOpenErrors: a fault or an HTTP error when opening
// is returned by GetStreamingEvents itself.
func TestGetStreamingEventsOpenErrors(t *testing.T) {
	f := newFakeEWS(t, soapReply(500, readTestdata(t, "responses/fault-ErrorServerBusy.xml")))
	_, err := newClient(t, f, ews.WithRetryPolicy(ews.NoRetries())).GetStreamingEvents(context.Background(), streamReq("JgBibjFwcjAz"))
	var te *ews.ThrottledError
	if !errors.As(err, &te) {
		t.Errorf("GetStreamingEvents = %v, want *ThrottledError", err)
	}
	f = newFakeEWS(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "<html><title>Forbidden</title></html>")
	})
	_, err = newClient(t, f).GetStreamingEvents(context.Background(), streamReq("JgBibjFwcjAz"))
	var he *ews.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusForbidden {
		t.Errorf("GetStreamingEvents = %v, want *HTTPError 403", err)
	}
}

func TestGetStreamingEventsRefused(t *testing.T) {
	many := make([]string, ews.MaxStreamingSubscriptions+1)
	for i := range many {
		many[i] = "sub" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
	}
	tests := []struct {
		name string
		req  *ews.GetStreamingEventsRequest
		want string
	}{
		{"nil", nil, "request is nil"},
		{"no ids", &ews.GetStreamingEventsRequest{}, "0 subscription ids given; want 1 to 200"},
		{"201 ids", &ews.GetStreamingEventsRequest{SubscriptionIDs: many}, "201 subscription ids given; want 1 to 200"},
		{"duplicate", &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{"a", "a"}}, `"a" is given twice`},
		{"empty id", &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{""}}, "subscription id is empty"},
		{"timeout 31", &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{"a"}, ConnectionTimeout: 31 * time.Minute}, "ConnectionTimeout 31m0s is not a whole number of minutes from 1 to 30"},
		{"timeout seconds", &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{"a"}, ConnectionTimeout: 30 * time.Second}, "ConnectionTimeout 30s"},
		{"idle negative", &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{"a"}, IdleTimeout: -time.Second}, "IdleTimeout -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, soapReply(500, nil))
			_, err := newClient(t, f).GetStreamingEvents(context.Background(), tt.req)
			if !errors.Is(err, ews.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("GetStreamingEvents = %v, want ErrInvalidRequest mentioning %q", err, tt.want)
			}
			if n := len(f.Requests()); n != 0 {
				t.Errorf("sent %d requests, want 0", n)
			}
		})
	}
	// 200 ids are allowed.
	f := streamServer(t, [][]byte{readTestdata(t, "responses/getstreamingevents-closed.xml")}, nil)
	s, err := newClient(t, f).GetStreamingEvents(context.Background(), &ews.GetStreamingEventsRequest{SubscriptionIDs: many[:200], ConnectionTimeout: time.Minute})
	if err != nil {
		t.Fatalf("GetStreamingEvents(200 ids) = %v", err)
	}
	s.Close()
	if body := f.Requests()[0].Body; strings.Count(string(body), "<t:SubscriptionId>") != 200 || !containsBytes(body, "<m:ConnectionTimeout>1</m:ConnectionTimeout>") {
		t.Errorf("request does not carry 200 ids and ConnectionTimeout 1")
	}
}

// streamingCases records the GetStreamingEvents request.
func streamingCases() []opCase {
	return []opCase{
		{"getstreamingevents", "getstreamingevents-closed.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			s, err := c.GetStreamingEvents(ctx, &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{"JgBibjFwcjAz", "JgBibjFwcjA0"}, ConnectionTimeout: 10 * time.Minute})
			must(t, err)
			defer s.Close()
			if m, err := s.Next(); err != nil || m.ConnectionStatus != ews.ConnectionClosed {
				t.Errorf("Next() = %+v, %v; want Closed", m, err)
			}
		}},
	}
}

// TestGetStreamingEventsWireTrace: with WithWireTrace the stream is handed
// out as it arrives (the trace logs its headers, not the endless body).
func TestGetStreamingEventsWireTrace(t *testing.T) {
	next := make(chan struct{})
	envs := [][]byte{readTestdata(t, "responses/getstreamingevents-ok.xml"), readTestdata(t, "responses/getstreamingevents-closed.xml")}
	f := streamServer(t, envs, next)
	var trace strings.Builder
	s, err := newClient(t, f, ews.WithWireTrace(&trace)).GetStreamingEvents(context.Background(), streamReq("JgBibjFwcjAz"))
	if err != nil {
		t.Fatalf("GetStreamingEvents = %v", err)
	}
	defer s.Close()
	if m, err := s.Next(); err != nil || m.ConnectionStatus != ews.ConnectionOK {
		t.Fatalf("Next() = %v, %v; want the keep-alive before the server sends more", m, err)
	}
	next <- struct{}{}
	if m, err := s.Next(); err != nil || m.ConnectionStatus != ews.ConnectionClosed {
		t.Fatalf("Next() = %v, %v; want Closed", m, err)
	}
	if got := trace.String(); !strings.Contains(got, "<m:GetStreamingEvents>") || strings.Contains(got, "ConnectionStatus") {
		t.Errorf("trace = %q, want the request but not the streamed body", got)
	}
}

// TestGetStreamingEventsErrorCodes: every per-subscription code the docs
// name for streams arrives as a *SubscriptionError with that code.
func TestGetStreamingEventsErrorCodes(t *testing.T) {
	for _, code := range []ews.ResponseCode{
		ews.ErrorSubscriptionNotFound, ews.ErrorMissedNotificationEvents, ews.ErrorInvalidWatermark,
		ews.ErrorExceededConnectionCount, ews.ErrorExpiredSubscription, ews.ErrorInvalidSubscription,
		ews.ErrorNewEventStreamConnectionOpened, ews.ErrorProxiedSubscriptionCallFailure,
	} {
		t.Run(string(code), func(t *testing.T) {
			env := strings.Replace(string(readTestdata(t, "responses/getstreamingevents-ErrorSubscriptionNotFound.xml")), "ErrorSubscriptionNotFound", string(code), 1)
			f := streamServer(t, [][]byte{mForm([]byte(env))}, nil)
			m := streamOne(t, newClient(t, f), []string{"JgBibjFwcjA0"})
			var se *ews.SubscriptionError
			if !errors.As(m.Err, &se) || !errors.Is(m.Err, code) || se.Err.Code != code || !cmp.Equal(se.SubscriptionIDs, []string{"JgBibjFwcjA0"}) {
				t.Errorf("Err = %v, want *SubscriptionError %s for JgBibjFwcjA0", m.Err, code)
			}
			keeps := code == ews.ErrorMissedNotificationEvents || code == ews.ErrorNewEventStreamConnectionOpened || code == ews.ErrorExceededConnectionCount
			if got, want := se.KeepsSubscription(), keeps; got != want {
				t.Errorf("KeepsSubscription() = %v, want %v", got, want)
			}
		})
	}
}
