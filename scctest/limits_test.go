package scctest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
)

// streamClient is our ews client as the service account, impersonating
// addr ("" for none), over a real socket. Streams cannot go through
// notifyClient's capture, which reads whole bodies.
func streamClient(t *testing.T, s *Server, addr string) *ews.Client {
	t.Helper()
	c, err := ews.NewClient(s.EWSURL(), ews.WithBasicAuth(testSvc, testPassword), ews.WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	if addr == "" {
		return c
	}
	return c.With(ews.Impersonate(ews.PrimarySmtpAddress(addr)))
}

// subscribeStreaming makes a streaming subscription of addr's inbox.
func subscribeStreaming(t *testing.T, c *ews.Client) string {
	t.Helper()
	sub, err := c.SubscribeStreaming(context.Background(), &ews.StreamingSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{
		FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}, EventTypes: []ews.EventType{ews.EventCreated}}})
	if err != nil {
		t.Fatalf("SubscribeStreaming error = %v", err)
	}
	return sub.ID
}

// openEvents opens a stream and reads its first OK.
func openEvents(t *testing.T, c *ews.Client, ids ...string) *ews.EventStream {
	t.Helper()
	st, err := c.GetStreamingEvents(context.Background(), &ews.GetStreamingEventsRequest{SubscriptionIDs: ids, ConnectionTimeout: 30 * time.Minute})
	if err != nil {
		t.Fatalf("GetStreamingEvents(%v) error = %v", ids, err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := st.Next()
	if err != nil || m.Err != nil || m.ConnectionStatus != ews.ConnectionOK {
		t.Fatalf("first Next() = %+v, %v; want an OK heartbeat", m, err)
	}
	return st
}

// nextMessage returns the next message that is not a bare keep-alive.
func nextMessage(t *testing.T, st *ews.EventStream) *ews.StreamMessage {
	t.Helper()
	for {
		m, err := st.Next()
		if err != nil {
			t.Fatalf("Next() error = %v", err)
		}
		if m.Err != nil || len(m.Notifications) > 0 || m.ConnectionStatus != ews.ConnectionOK {
			return m
		}
	}
}

// streamedItems returns the item ids of a message's events, per
// subscription.
func streamedItems(m *ews.StreamMessage) map[string][]string {
	out := map[string][]string{}
	for _, n := range m.Notifications {
		for _, e := range n.Events {
			out[n.SubscriptionID] = append(out[n.SubscriptionID], e.ItemID.ID)
		}
	}
	return out
}

// wantSubscriptionError checks that a message carries a
// *ews.SubscriptionError with the code, the ids and the status.
func wantSubscriptionError(t *testing.T, m *ews.StreamMessage, code ews.ResponseCode, ids []string, status ews.ConnectionStatus) *ews.SubscriptionError {
	t.Helper()
	var se *ews.SubscriptionError
	var re *ews.ResponseError
	if !errors.As(m.Err, &se) || !errors.As(m.Err, &re) || re.Code != code || !errors.Is(m.Err, code) {
		t.Fatalf("message Err = %v, want a *SubscriptionError %s", m.Err, code)
	}
	if diff := cmp.Diff(ids, se.SubscriptionIDs); diff != "" {
		t.Errorf("%s SubscriptionIDs (-want +got):\n%s", code, diff)
	}
	if m.ConnectionStatus != status {
		t.Errorf("%s ConnectionStatus = %q, want %q", code, m.ConnectionStatus, status)
	}
	return se
}

// waitFor polls cond until it holds; the server changes some state (a
// stream's end) on its own goroutine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testClock is a settable clock for WithClock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestHangingConnectionLimit: open streams are counted per budget (the
// impersonated mailbox's, or the account's without impersonation); one
// over the limit is refused with ErrorExceededConnectionCount, and a
// closed stream frees its slot.
func TestHangingConnectionLimit(t *testing.T) {
	s := newTestServer(t, WithHangingConnectionLimit(2), WithBackends("SCCGRP0")) // one backend: alice's subscriptions are streamed as bob too
	asAlice, asBob, asSvc := streamClient(t, s, alice), streamClient(t, s, bob), streamClient(t, s, "")
	var ids []string
	for range 5 {
		ids = append(ids, subscribeStreaming(t, asAlice))
	}
	openEvents(t, asAlice, ids[0])
	second := openEvents(t, asAlice, ids[1])
	refused, err := asAlice.GetStreamingEvents(context.Background(), &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{ids[2]}})
	if err != nil {
		t.Fatalf("third GetStreamingEvents error = %v, want the refusal in the stream", err)
	}
	m, err := refused.Next()
	if err != nil {
		t.Fatalf("refused Next() error = %v", err)
	}
	se := wantSubscriptionError(t, m, ews.ErrorExceededConnectionCount, nil, ews.ConnectionClosed)
	if !se.KeepsSubscription() {
		t.Errorf("ErrorExceededConnectionCount KeepsSubscription() = false, want true")
	}
	if _, err := refused.Next(); err != io.EOF {
		t.Errorf("refused Next() after Closed = %v, want io.EOF", err)
	}
	// Bob's budget and the account's own are apart from alice's.
	openEvents(t, asBob, ids[2])
	openEvents(t, asSvc, ids[3])
	if got := s.OpenStreams(); got != 4 {
		t.Errorf("OpenStreams() = %d, want 4", got)
	}
	second.Close()
	waitFor(t, "the closed stream to end", func() bool { return s.OpenStreams() == 3 })
	openEvents(t, asAlice, ids[4])

	// The refusal as the fake writes it (schema check).
	r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: envelope(version("Exchange2016")+impersonate("PrimarySmtpAddress", alice),
		`<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>`+ids[1]+`</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>1</m:ConnectionTimeout></m:GetStreamingEvents>`)})
	if len(r.codes) != 1 || r.codes[0] != ews.ErrorExceededConnectionCount || r.status != http.StatusOK {
		t.Errorf("raw over-limit answer = %d %v, want 200 [ErrorExceededConnectionCount]\n%s", r.status, r.codes, r.body)
	}
}

// TestHangingConnectionLimitDefaults: 10, or 3 for Exchange 2013; the
// option refuses a limit below 1.
func TestHangingConnectionLimitDefaults(t *testing.T) {
	for _, tt := range []struct {
		opts []Option
		want int
	}{
		{nil, 10},
		{[]Option{WithVersion(ExchangeOnline)}, 10},
		{[]Option{WithVersion(Exchange2016)}, 10},
		{[]Option{WithVersion(Exchange2013SP1)}, 3},
		{[]Option{WithVersion(Exchange2013SP1), WithHangingConnectionLimit(7)}, 7},
	} {
		s, err := New(tt.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.hangingLimit(); got != tt.want {
			t.Errorf("hangingLimit() with %d options = %d, want %d", len(tt.opts), got, tt.want)
		}
	}
	if _, err := New(WithHangingConnectionLimit(0)); err == nil || !strings.HasPrefix(err.Error(), "scctest: ") {
		t.Errorf("New(WithHangingConnectionLimit(0)) error = %v, want a scctest error", err)
	}
	if _, err := New(WithStreamingSubscriptionLifetime(0)); err == nil || !strings.HasPrefix(err.Error(), "scctest: ") {
		t.Errorf("New(WithStreamingSubscriptionLifetime(0)) error = %v, want a scctest error", err)
	}
}

// TestHangingConnectionDefaultLimit: the eleventh stream of one budget is
// refused at the default limit.
func TestHangingConnectionDefaultLimit(t *testing.T) {
	s := newTestServer(t)
	c := streamClient(t, s, alice)
	for i := range DefaultHangingConnectionLimit {
		openEvents(t, c, subscribeStreaming(t, c))
		if got := s.OpenStreams(); got != i+1 {
			t.Fatalf("OpenStreams() = %d, want %d", got, i+1)
		}
	}
	st, err := c.GetStreamingEvents(context.Background(), &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{subscribeStreaming(t, c)}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := st.Next()
	if err != nil {
		t.Fatal(err)
	}
	wantSubscriptionError(t, m, ews.ErrorExceededConnectionCount, nil, ews.ConnectionClosed)
}

// TestStreamOutsideConcurrencyBudget: a hanging connection does not hold
// one of the account's EWSMaxConcurrency slots.
func TestStreamOutsideConcurrencyBudget(t *testing.T) {
	s := newTestServer(t)
	s.SetMaxConcurrency(1)
	c := streamClient(t, s, alice)
	openEvents(t, c, subscribeStreaming(t, c))
	if _, err := c.GetFolder(context.Background(), &ews.GetFolderRequest{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}}); err != nil {
		t.Errorf("GetFolder with a stream open and SetMaxConcurrency(1) error = %v, want success", err)
	}
}

// TestNewEventStreamConnectionOpened: a subscription opened on a second
// connection is served there; the first connection is told so, keeps
// serving its other subscriptions, and closes when it has none left.
func TestNewEventStreamConnectionOpened(t *testing.T) {
	s := newTestServer(t, WithBackends("SCCGRP0")) // one backend: streamed as several mailboxes
	asAlice, asBob := streamClient(t, s, alice), streamClient(t, s, bob)
	a, b := subscribeStreaming(t, asAlice), subscribeStreaming(t, asBob)
	first := openEvents(t, asAlice, a, b)
	second := openEvents(t, asAlice, a)
	m := nextMessage(t, first)
	se := wantSubscriptionError(t, m, ews.ErrorNewEventStreamConnectionOpened, []string{a}, ews.ConnectionOK)
	if !se.KeepsSubscription() {
		t.Errorf("ErrorNewEventStreamConnectionOpened KeepsSubscription() = false, want true")
	}
	toAlice, err := s.DeliverMail(alice, "inbox", Message{Subject: "for a"})
	if err != nil {
		t.Fatal(err)
	}
	toBob, err := s.DeliverMail(bob, "inbox", Message{Subject: "for b"})
	if err != nil {
		t.Fatal(err)
	}
	// The first connection's next events are bob's alone: alice's mail,
	// delivered before, went to the second.
	if diff := cmp.Diff(map[string][]string{b: {toBob.ID}}, streamedItems(nextMessage(t, first))); diff != "" {
		t.Errorf("first connection events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{a: {toAlice.ID}}, streamedItems(nextMessage(t, second))); diff != "" {
		t.Errorf("second connection events (-want +got):\n%s", diff)
	}
	openEvents(t, asAlice, b)
	wantSubscriptionError(t, nextMessage(t, first), ews.ErrorNewEventStreamConnectionOpened, []string{b}, ews.ConnectionClosed)
	if _, err := first.Next(); err != io.EOF {
		t.Errorf("first Next() after Closed = %v, want io.EOF", err)
	}
	waitFor(t, "the first connection to end", func() bool { return s.OpenStreams() == 2 })
}

// TestStreamErrorsRaw reads, envelope by envelope, a stream that is told
// about a newer connection, lost events and an expiry, and captures them
// for the schema check (in the schema's namespace form).
func TestStreamErrorsRaw(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(map[bool]string{false: "exchange", true: "schema"}[strict], func(t *testing.T) {
			var opts []Option
			if strict {
				opts = append(opts, WithSchemaStrictStreaming())
			}
			s := newTestServer(t, opts...)
			c := streamClient(t, s, alice)
			a, b, d := subscribeStreaming(t, c), subscribeStreaming(t, c), subscribeStreaming(t, c)
			hdr := version("Exchange2016") + impersonate("PrimarySmtpAddress", alice)
			body := envelope(hdr, `<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>`+a+`</t:SubscriptionId><t:SubscriptionId>`+b+
				`</t:SubscriptionId><t:SubscriptionId>`+d+`</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>30</m:ConnectionTimeout></m:GetStreamingEvents>`)
			hr, err := http.NewRequest(http.MethodPost, s.EWSURL(), strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
			hr.SetBasicAuth(testSvc, testPassword)
			res, err := s.Client().Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			br := bufio.NewReader(res.Body)
			next := func(code ews.ResponseCode, ids []string, status string) {
				t.Helper()
				var env []byte
				for !bytes.HasSuffix(env, []byte("</s:Envelope>")) {
					b, err := br.ReadByte()
					if err != nil {
						t.Fatalf("reading the stream for %s: %v after %q", code, err, env)
					}
					env = append(env, b)
				}
				if strict {
					captured(t, env)
				}
				if got := find(t, env, "ResponseCode").trimmed(); got != string(code) {
					t.Errorf("ResponseCode = %s, want %s\n%s", got, code, env)
				}
				var gotIDs []string
				for _, n := range findAll(t, env, "SubscriptionId") {
					gotIDs = append(gotIDs, n.trimmed())
					if want := map[bool]string{false: nsMessages, true: nsTypes}[strict]; n.name.Space != want {
						t.Errorf("SubscriptionId namespace = %s, want %s", n.name.Space, want)
					}
				}
				if diff := cmp.Diff(ids, gotIDs); diff != "" {
					t.Errorf("%s ErrorSubscriptionIds (-want +got):\n%s", code, diff)
				}
				if got := find(t, env, "ConnectionStatus").trimmed(); got != status {
					t.Errorf("%s ConnectionStatus = %s, want %s", code, got, status)
				}
			}
			next(ews.NoError, nil, "OK")
			openEvents(t, c, a)
			next(ews.ErrorNewEventStreamConnectionOpened, []string{a}, "OK")
			if err := s.LoseSubscriptionEvents(b); err != nil {
				t.Fatal(err)
			}
			next(ews.ErrorMissedNotificationEvents, []string{b}, "OK")
			if err := s.ExpireSubscription(b, d); err != nil {
				t.Fatal(err)
			}
			next(ews.ErrorSubscriptionNotFound, []string{b, d}, "Closed")
			if rest, err := io.ReadAll(br); err != nil || len(bytes.TrimSpace(rest)) != 0 {
				t.Errorf("after Closed: %q, %v; want the end of the body", rest, err)
			}
		})
	}
}

// TestStreamingSubscriptionLifetime: a streaming subscription without a
// connection ends after its lifetime on the server's clock; with a
// connection open it lives on; an expired one no longer counts against
// the subscription limit.
func TestStreamingSubscriptionLifetime(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	s := newTestServer(t, WithClock(clock.Now), WithStreamingSubscriptionLifetime(10*time.Minute), WithSubscriptionLimit(2))
	c := streamClient(t, s, alice)
	kept, never := subscribeStreaming(t, c), subscribeStreaming(t, c)
	clock.Add(9 * time.Minute)
	st := openEvents(t, c, kept)
	// Connected, it outlives the lifetime.
	clock.Add(time.Hour)
	id, err := s.DeliverMail(alice, "inbox", Message{Subject: "still there"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{kept: {id.ID}}, streamedItems(nextMessage(t, st))); diff != "" {
		t.Errorf("events after an hour connected (-want +got):\n%s", diff)
	}
	st.Close()
	waitFor(t, "the stream to end", func() bool { return s.OpenStreams() == 0 })
	clock.Add(9 * time.Minute)
	openEvents(t, c, kept).Close()
	waitFor(t, "the stream to end", func() bool { return s.OpenStreams() == 0 })
	clock.Add(11 * time.Minute)
	// Both slots are free again (WithSubscriptionLimit(2)).
	subscribeStreaming(t, c)
	subscribeStreaming(t, c)
	for _, id := range []string{kept, never} {
		gone, err := c.GetStreamingEvents(context.Background(), &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := gone.Next()
		if err != nil {
			t.Fatal(err)
		}
		wantSubscriptionError(t, m, ews.ErrorSubscriptionNotFound, []string{id}, ews.ConnectionClosed)
		gone.Close()
	}
}

// TestLoseEventsPull: a pull subscription that lost events gets
// ErrorMissedNotificationEvents once, keeps working, and never sees the
// lost events.
func TestLoseEventsPull(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	c := notifyClient(t, s, alice)
	sub, err := c.SubscribePull(ctx, &ews.PullSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: []ews.EventType{ews.EventCreated}}, Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeliverMail(alice, "inbox", Message{Subject: "lost"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.LoseEvents(alice); n != 1 || err != nil {
		t.Fatalf("LoseEvents(alice) = %d, %v; want 1, nil", n, err)
	}
	_, err = c.GetEvents(ctx, sub.ID, sub.Watermark)
	var re *ews.ResponseError
	if !errors.As(err, &re) || re.Code != ews.ErrorMissedNotificationEvents {
		t.Fatalf("GetEvents after LoseEvents error = %v, want *ResponseError ErrorMissedNotificationEvents", err)
	}
	n, err := c.GetEvents(ctx, sub.ID, sub.Watermark)
	if err != nil {
		t.Fatalf("second GetEvents error = %v", err)
	}
	if len(n.Events) != 1 || n.Events[0].Type != ews.EventStatus {
		t.Errorf("second GetEvents events = %+v, want one StatusEvent (the lost mail never comes)", n.Events)
	}
	id, err := s.DeliverMail(alice, "inbox", Message{Subject: "after"})
	if err != nil {
		t.Fatal(err)
	}
	n, err = c.GetEvents(ctx, sub.ID, n.LastWatermark())
	if err != nil {
		t.Fatal(err)
	}
	if got := summarize(n); len(got) != 1 || got[0].Item != id.ID {
		t.Errorf("GetEvents after the loss = %+v, want the new mail %s", got, id.ID)
	}
	if _, err := s.LoseEvents("nobody@contoso.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoseEvents(unknown) error = %v, want ErrNotFound", err)
	}
	if err := s.LoseSubscriptionEvents("AAAAnope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoseSubscriptionEvents(unknown) error = %v, want ErrNotFound", err)
	}
}

// TestLoseEventsStreaming: an open stream is told at once and goes on; a
// subscription that lost events while unconnected is told on its next
// connection; the lost events never come.
func TestLoseEventsStreaming(t *testing.T) {
	s := newTestServer(t)
	c := streamClient(t, s, alice)
	a, b := subscribeStreaming(t, c), subscribeStreaming(t, c)
	st := openEvents(t, c, a)
	if err := s.LoseSubscriptionEvents(a); err != nil {
		t.Fatal(err)
	}
	se := wantSubscriptionError(t, nextMessage(t, st), ews.ErrorMissedNotificationEvents, []string{a}, ews.ConnectionOK)
	if !se.KeepsSubscription() {
		t.Errorf("KeepsSubscription() = false, want true")
	}
	id, err := s.DeliverMail(alice, "inbox", Message{Subject: "after the loss"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{a: {id.ID}}, streamedItems(nextMessage(t, st))); diff != "" {
		t.Errorf("events after the loss (-want +got):\n%s", diff)
	}
	// b, unconnected, loses the mail above and one more; a, connected,
	// is handed that one first (reading it here keeps the order fixed:
	// the open stream may send it before LoseEvents runs) and then still
	// gets the loss.
	id, err = s.DeliverMail(alice, "inbox", Message{Subject: "lost too"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{a: {id.ID}}, streamedItems(nextMessage(t, st))); diff != "" {
		t.Errorf("events of a before the second loss (-want +got):\n%s", diff)
	}
	if n, err := s.LoseEvents(alice); n != 2 || err != nil {
		t.Fatalf("LoseEvents(alice) = %d, %v; want 2, nil", n, err)
	}
	wantSubscriptionError(t, nextMessage(t, st), ews.ErrorMissedNotificationEvents, []string{a}, ews.ConnectionOK)
	late := openEvents(t, c, b)
	wantSubscriptionError(t, nextMessage(t, late), ews.ErrorMissedNotificationEvents, []string{b}, ews.ConnectionOK)
	id, err = s.DeliverMail(alice, "inbox", Message{Subject: "last"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{b: {id.ID}}, streamedItems(nextMessage(t, late))); diff != "" {
		t.Errorf("events of b after the loss (-want +got):\n%s", diff)
	}
}

// TestExpireSubscriptions: expired subscriptions are gone for GetEvents,
// Unsubscribe and GetStreamingEvents, and an open stream reports them and
// closes when nothing is left.
func TestExpireSubscriptions(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	pc := notifyClient(t, s, alice)
	pull, err := pc.SubscribePull(ctx, &ews.PullSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: ews.AllEventTypes()}, Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c := streamClient(t, s, alice)
	a, b := subscribeStreaming(t, c), subscribeStreaming(t, c)
	bobs := subscribeStreaming(t, streamClient(t, s, bob))
	st := openEvents(t, c, a, b)
	if err := s.ExpireSubscription(a); err != nil {
		t.Fatal(err)
	}
	se := wantSubscriptionError(t, nextMessage(t, st), ews.ErrorSubscriptionNotFound, []string{a}, ews.ConnectionOK)
	if se.KeepsSubscription() {
		t.Errorf("ErrorSubscriptionNotFound KeepsSubscription() = true, want false")
	}
	if n, err := s.ExpireSubscriptions(alice); n != 2 || err != nil {
		t.Fatalf("ExpireSubscriptions(alice) = %d, %v; want 2 (pull and b)", n, err)
	}
	wantSubscriptionError(t, nextMessage(t, st), ews.ErrorSubscriptionNotFound, []string{b}, ews.ConnectionClosed)
	if _, err := st.Next(); err != io.EOF {
		t.Errorf("Next() after Closed = %v, want io.EOF", err)
	}
	if _, err := pc.GetEvents(ctx, pull.ID, pull.Watermark); !errors.Is(err, ews.ErrorSubscriptionNotFound) {
		t.Errorf("GetEvents(expired) error = %v, want ErrorSubscriptionNotFound", err)
	}
	if err := c.Unsubscribe(ctx, b); !errors.Is(err, ews.ErrorSubscriptionNotFound) {
		t.Errorf("Unsubscribe(expired) error = %v, want ErrorSubscriptionNotFound", err)
	}
	// Bob's subscription is untouched.
	openEvents(t, streamClient(t, s, bob), bobs)
	if err := s.ExpireSubscription(a); !errors.Is(err, ErrNotFound) {
		t.Errorf("ExpireSubscription(expired) error = %v, want ErrNotFound", err)
	}
}

// TestUnsubscribeWhileStreaming: a stream reports a subscription
// unsubscribed under it with ErrorSubscriptionUnsubscribed.
func TestUnsubscribeWhileStreaming(t *testing.T) {
	s := newTestServer(t)
	c := streamClient(t, s, alice)
	a := subscribeStreaming(t, c)
	st := openEvents(t, c, a)
	if err := c.Unsubscribe(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	wantSubscriptionError(t, nextMessage(t, st), ews.ErrorSubscriptionUnsubscribed, []string{a}, ews.ConnectionClosed)
}

// TestDropStreams: every open stream is cut mid-stream; the client's Next
// says the connection dropped; the subscriptions survive and their slots
// are free at once.
func TestDropStreams(t *testing.T) {
	s := newTestServer(t, WithHangingConnectionLimit(1))
	asAlice, asBob := streamClient(t, s, alice), streamClient(t, s, bob)
	a, b := subscribeStreaming(t, asAlice), subscribeStreaming(t, asBob)
	streams := []*ews.EventStream{openEvents(t, asAlice, a), openEvents(t, asBob, b)}
	if n := s.DropStreams(); n != 2 {
		t.Fatalf("DropStreams() = %d, want 2", n)
	}
	if n := s.OpenStreams(); n != 0 {
		t.Errorf("OpenStreams() after DropStreams = %d, want 0", n)
	}
	for i, st := range streams {
		var err error
		for err == nil {
			_, err = st.Next()
		}
		var te *ews.TransportError
		if !errors.Is(err, ews.ErrStreamDropped) || !errors.As(err, &te) || !ews.IsTransient(err) || !strings.Contains(err.Error(), "dropped") {
			t.Errorf("stream %d Next() after DropStreams = %v, want a transient *TransportError wrapping ErrStreamDropped", i, err)
		}
	}
	// At the limit of 1, the new streams open at once.
	again := openEvents(t, asAlice, a)
	id, err := s.DeliverMail(alice, "inbox", Message{Subject: "after the drop"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{a: {id.ID}}, streamedItems(nextMessage(t, again))); diff != "" {
		t.Errorf("events after reconnecting (-want +got):\n%s", diff)
	}
	if got := s.Stats().Dropped; got != 2 {
		t.Errorf("Stats().Dropped = %d, want 2", got)
	}
}

// TestLossInjectionConcurrent drives the loss API from several goroutines
// while streams reconnect and mail arrives, as a soak test of a watcher
// does; under -race it checks the server's locking, and at the end that a
// fresh stream still delivers.
func TestLossInjectionConcurrent(t *testing.T) {
	s := newTestServer(t)
	c := streamClient(t, s, alice)
	var ids []string
	for range 5 {
		ids = append(ids, subscribeStreaming(t, c))
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				st, err := c.GetStreamingEvents(ctx, &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{id}})
				if err != nil {
					continue
				}
				for {
					if _, err := st.Next(); err != nil {
						break
					}
				}
				st.Close()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			if _, err := s.DeliverMail(alice, "inbox", Message{Subject: "soak"}); err != nil {
				t.Error(err)
				return
			}
			switch i % 3 {
			case 0:
				s.DropStreams()
			case 1:
				_, _ = s.LoseEvents(alice)
			case 2:
				_ = s.LoseSubscriptionEvents(ids[i%len(ids)])
			}
			time.Sleep(time.Millisecond)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	stop()
	s.DropStreams()
	wg.Wait()
	waitFor(t, "every stream to end", func() bool { return s.OpenStreams() == 0 })
	st := openEvents(t, c, ids[0])
	id, err := s.DeliverMail(alice, "inbox", Message{Subject: "after the soak"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m := nextMessage(t, st)
		if m.Err != nil {
			continue // a loss reported late
		}
		// Mail of the soak not lost may come first.
		if slices.Contains(streamedItems(m)[ids[0]], id.ID) {
			break
		}
	}
}

// TestInjectedStreamError: a MessageError injected into GetStreamingEvents
// names the requested subscriptions and closes the stream, as Exchange's
// own refusals do, so the client ends at io.EOF, not at a dropped
// connection.
func TestInjectedStreamError(t *testing.T) {
	s := newTestServer(t, WithSchemaStrictStreaming())
	c := streamClient(t, s, alice)
	a, b := subscribeStreaming(t, c), subscribeStreaming(t, c)
	if err := s.Inject(MessageError(ews.ErrorMailboxStoreUnavailable), ForOperation("GetStreamingEvents"), ForMailbox(alice), OnCall(1)); err != nil {
		t.Fatal(err)
	}
	st, err := c.GetStreamingEvents(context.Background(), &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := st.Next()
	if err != nil {
		t.Fatal(err)
	}
	wantSubscriptionError(t, m, ews.ErrorMailboxStoreUnavailable, []string{a, b}, ews.ConnectionClosed)
	if _, err := st.Next(); err != io.EOF {
		t.Errorf("Next() after the injected error = %v, want io.EOF", err)
	}
	// The schema check sees the same answer.
	if err := s.Inject(MessageError(ews.ErrorMailboxStoreUnavailable), ForOperation("GetStreamingEvents"), OnCall(1)); err != nil {
		t.Fatal(err)
	}
	r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: envelope(version("Exchange2016")+impersonate("PrimarySmtpAddress", alice),
		`<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>`+a+`</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>1</m:ConnectionTimeout></m:GetStreamingEvents>`)})
	if len(r.codes) != 1 || r.codes[0] != ews.ErrorMailboxStoreUnavailable {
		t.Errorf("raw injected answer codes = %v, want [ErrorMailboxStoreUnavailable]\n%s", r.codes, r.body)
	}
}
