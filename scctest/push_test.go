package scctest

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
)

// pushWait bounds how long a test waits for a push POST; generous, the
// machine may be loaded.
const pushWait = 30 * time.Second

// sinkMode is how a pushSink answers.
type sinkMode int

const (
	sinkOK          sinkMode = iota // ews.PushHandler, answering OK
	sinkUnsubscribe                 // ews.PushHandler, answering Unsubscribe
	sinkFail                        // HTTP 500 without reading on
	sinkStall                       // no answer until the request ends
)

// pushSink is a push callback over a real socket: every POST is recorded
// raw, then answered by ews.NewPushHandler (or fails or stalls).
type pushSink struct {
	t      *testing.T
	srv    *httptest.Server
	msgs   chan *ews.PushMessage
	posts  chan []byte   // every POST body, in order
	gone   chan struct{} // a stalled request's context ended
	mu     sync.Mutex
	mode   sinkMode
	bodies [][]byte
	hdrs   []http.Header
}

func newPushSink(t *testing.T, tls bool) *pushSink {
	t.Helper()
	k := &pushSink{t: t, msgs: make(chan *ews.PushMessage, 256), posts: make(chan []byte, 256), gone: make(chan struct{}, 16)}
	ph, err := ews.NewPushHandler(func(_ context.Context, m *ews.PushMessage) ews.SubscriptionStatus {
		k.msgs <- m
		if k.getMode() == sinkUnsubscribe {
			return ews.PushUnsubscribe
		}
		return ews.PushOK
	})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		k.mu.Lock()
		k.bodies = append(k.bodies, b)
		k.hdrs = append(k.hdrs, r.Header.Clone())
		mode := k.mode
		k.mu.Unlock()
		k.posts <- b
		switch mode {
		case sinkFail:
			http.Error(w, "callback broken", http.StatusInternalServerError)
			return
		case sinkStall:
			select {
			case <-r.Context().Done():
				k.gone <- struct{}{}
			case <-release:
			}
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		ph.ServeHTTP(w, r)
	})
	if tls {
		k.srv = httptest.NewTLSServer(h)
	} else {
		k.srv = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		close(release)
		k.srv.Close()
		validatePushBodies(t, k.all())
	})
	return k
}

func (k *pushSink) setMode(m sinkMode) {
	k.mu.Lock()
	k.mode = m
	k.mu.Unlock()
}

func (k *pushSink) getMode() sinkMode {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.mode
}

func (k *pushSink) header(i int) http.Header {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.hdrs[i]
}

func (k *pushSink) all() [][]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][]byte(nil), k.bodies...)
}

// url is the callback URL with a token in the path, as the docs advise.
func (k *pushSink) url() string { return k.srv.URL + "/ews/push/7c1d" }

// next returns the next message the PushHandler passed on.
func (k *pushSink) next() *ews.PushMessage {
	k.t.Helper()
	select {
	case m := <-k.msgs:
		if m.Err != nil {
			k.t.Fatalf("push message error = %v", m.Err)
		}
		return m
	case <-time.After(pushWait):
		k.t.Fatalf("no push notification within %v", pushWait)
		return nil
	}
}

// post returns the next raw POST body.
func (k *pushSink) post() []byte {
	k.t.Helper()
	select {
	case b := <-k.posts:
		return b
	case <-time.After(pushWait):
		k.t.Fatalf("no push POST within %v", pushWait)
		return nil
	}
}

// events collects push messages until n events arrived.
func (k *pushSink) events(n int) (out []evSummary, last *ews.PushMessage) {
	k.t.Helper()
	for len(out) < n {
		last = k.next()
		out = append(out, summarize(&last.Notification)...)
	}
	return out, last
}

// validatePushBodies checks every SendNotification envelope the fake sent
// with ews-validate when ../shared (SCC_SHARED) and xmllint are present.
// The schema parts must be OK; the one complaint allowed is that
// services.wsdl has no operation for m:SendNotification (the callback
// contract is Exchange's separate NotificationService WSDL).
func validatePushBodies(t *testing.T, bodies [][]byte) {
	t.Helper()
	if len(bodies) == 0 {
		return
	}
	d := os.Getenv("SCC_SHARED")
	if d == "" {
		d = filepath.Join("..", "..", "shared")
	}
	tool := filepath.Join(d, "tools", "ews-validate")
	if _, err := os.Stat(tool); err != nil {
		t.Logf("push envelopes not validated: no %s (set SCC_SHARED)", tool)
		return
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Logf("push envelopes not validated: no xmllint")
		return
	}
	dir := t.TempDir()
	var files []string
	seen := map[string]bool{}
	for i, b := range bodies {
		if seen[string(b)] { // retries resend the same envelope
			continue
		}
		seen[string(b)] = true
		p := filepath.Join(dir, "push-"+itoa(i)+".xml")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	out, _ := exec.Command(tool, files...).CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		l := strings.TrimSpace(line)
		switch {
		case l == "", strings.HasSuffix(l, ": OK"), strings.HasSuffix(l, ": FAIL"), strings.HasSuffix(l, ".xml"),
			strings.HasSuffix(l, "): ERROR") && strings.Contains(l, "m:SendNotification"),
			l == "services.wsdl: no operation uses m:SendNotification as its body":
		default:
			t.Errorf("push envelope does not validate: %s\n%s", l, out)
			return
		}
	}
	if !strings.Contains(string(out), "m:SendNotification") {
		t.Errorf("ews-validate output names no m:SendNotification body:\n%s", out)
	}
}

func pushRequest(url string, freq time.Duration, folders ...ews.FolderID) *ews.PushSubscriptionRequest {
	scope := ews.SubscriptionScope{FolderIDs: folders, EventTypes: ews.AllEventTypes()}
	if len(folders) == 0 {
		scope.AllFolders = true
	}
	return &ews.PushSubscriptionRequest{SubscriptionScope: scope, StatusFrequency: freq, URL: url}
}

// waitGone waits until the server no longer has the subscription.
func waitGone(t *testing.T, s *Server, id string) {
	t.Helper()
	deadline := time.Now().Add(pushWait)
	for {
		s.mu.RLock()
		_, ok := s.subs.byID[id]
		s.mu.RUnlock()
		if !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscription %s still exists after %v", id, pushWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPushRoundTrip subscribes with our client, receives the first
// StatusEvent, the events of DeliverMail and of a CreateItem by another
// client on ews.PushHandler over a real socket, and ends the subscription
// by answering Unsubscribe.
func TestPushRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	sink := newPushSink(t, false)
	c := notifyClient(t, s, alice)
	inbox := inboxID(t, s, alice)
	sub, err := c.SubscribePush(ctx, pushRequest(sink.url(), time.Minute, ews.DistinguishedFolder(ews.FolderInbox)))
	if err != nil {
		t.Fatalf("SubscribePush error = %v", err)
	}
	if sub.ID == "" || sub.Watermark == "" {
		t.Fatalf("SubscribePush = %+v, want an id and a watermark", sub)
	}
	// Right after Subscribe: a StatusEvent carrying the watermark.
	m := sink.next()
	n := m.Notification
	if n.SubscriptionID != sub.ID || len(n.Events) != 1 || n.Events[0].Type != ews.EventStatus {
		t.Fatalf("first push = %+v, want one StatusEvent of %s", n, sub.ID)
	}
	if n.PreviousWatermark != sub.Watermark || n.LastWatermark() != sub.Watermark {
		t.Errorf("first push watermarks = %q, %q, want %q", n.PreviousWatermark, n.LastWatermark(), sub.Watermark)
	}
	h := sink.header(0)
	if ct, sa := h.Get("Content-Type"), h.Get("SOAPAction"); ct != "text/xml; charset=utf-8" || sa != `"http://schemas.microsoft.com/exchange/services/2006/messages/SendNotification"` {
		t.Errorf("push POST Content-Type %q, SOAPAction %q; want text/xml and the SendNotification action", ct, sa)
	}
	if v := find(t, sink.all()[0], "RequestServerVersion").attrOr("Version", ""); v == "" {
		t.Errorf("push envelope has no RequestServerVersion header")
	}
	wm := n.LastWatermark()

	id, err := s.DeliverMail(alice, "inbox", Message{Subject: "pushed"})
	if err != nil {
		t.Fatal(err)
	}
	got, last := sink.events(2)
	if diff := cmp.Diff([]evSummary{{ews.EventCreated, id.ID, "", inbox}, {ews.EventNewMail, id.ID, "", inbox}}, got); diff != "" {
		t.Errorf("push after DeliverMail (-want +got):\n%s", diff)
	}
	if last.Notification.PreviousWatermark == "" {
		t.Errorf("push after DeliverMail has no PreviousWatermark")
	}
	wm = last.Notification.LastWatermark()

	// Another client (the service account, its own connection) writes.
	other := notifyClient(t, s, alice)
	created, err := other.CreateItemIn(ctx, ews.DistinguishedFolder(ews.FolderInbox), ews.Item{Subject: "from another client"})
	if err != nil {
		t.Fatalf("CreateItemIn error = %v", err)
	}
	got, last = sink.events(1)
	if diff := cmp.Diff([]evSummary{{ews.EventCreated, created.ID, "", inbox}}, got); diff != "" {
		t.Errorf("push after CreateItem (-want +got):\n%s", diff)
	}
	if last.Notification.PreviousWatermark != wm {
		t.Errorf("PreviousWatermark = %q, want the last one pushed %q", last.Notification.PreviousWatermark, wm)
	}

	// A push subscription is not one GetEvents or Unsubscribe take.
	if _, err := c.GetEvents(ctx, sub.ID, wm); !errors.Is(err, ews.ErrorInvalidPullSubscriptionId) {
		t.Errorf("GetEvents(push id) error = %v, want ErrorInvalidPullSubscriptionId", err)
	}
	if err := c.Unsubscribe(ctx, sub.ID); !errors.Is(err, ews.ErrorInvalidPullSubscriptionId) {
		t.Errorf("Unsubscribe(push id) error = %v, want ErrorInvalidPullSubscriptionId", err)
	}

	// The callback answers Unsubscribe: the subscription ends.
	sink.setMode(sinkUnsubscribe)
	if _, err := s.DeliverMail(alice, "inbox", Message{Subject: "last"}); err != nil {
		t.Fatal(err)
	}
	sink.events(2)
	waitGone(t, s, sub.ID)
	if _, err := c.GetEvents(ctx, sub.ID, wm); !errors.Is(err, ews.ErrorSubscriptionNotFound) {
		t.Errorf("GetEvents after Unsubscribe answer error = %v, want ErrorSubscriptionNotFound", err)
	}
}

// TestPushRetriesThenDrops: a callback that answers HTTP 500 gets the
// same notification again at 30 s, 60 s, ... 16 min after the first
// attempt (StatusFrequency 30: six retries, the docs' table), then the
// subscription is dropped. A minute lasts 20 ms here.
func TestPushRetriesThenDrops(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t, WithPushTiming(PushTiming{Minute: 20 * time.Millisecond}))
	sink := newPushSink(t, false)
	sink.setMode(sinkFail)
	sub, err := notifyClient(t, s, alice).SubscribePush(ctx, pushRequest(sink.url(), 30*time.Minute))
	if err != nil {
		t.Fatalf("SubscribePush error = %v", err)
	}
	waitGone(t, s, sub.ID)
	bodies := sink.all()
	if len(bodies) != 7 {
		t.Fatalf("callback got %d POSTs before the drop, want 7 (the first and six retries)", len(bodies))
	}
	for i, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			t.Errorf("retry %d differs from the first attempt:\n%s\n%s", i+1, b, bodies[0])
		}
	}
	s.mu.RLock()
	n := s.subs.count[s.dir.lookupAddr(alice)]
	s.mu.RUnlock()
	if n != 0 {
		t.Errorf("alice has %d subscriptions after the drop, want 0", n)
	}
}

// TestPushRetryRecovers: after two failed attempts the callback answers
// again; it gets the notification it missed and the subscription lives.
func TestPushRetryRecovers(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t, WithPushTiming(PushTiming{Minute: time.Second}))
	sink := newPushSink(t, false)
	sink.setMode(sinkFail)
	sub, err := notifyClient(t, s, alice).SubscribePush(ctx, pushRequest(sink.url(), 30*time.Minute))
	if err != nil {
		t.Fatalf("SubscribePush error = %v", err)
	}
	first := sink.post()
	sink.post()
	sink.setMode(sinkOK)
	m := sink.next()
	if m.Notification.SubscriptionID != sub.ID || len(m.Notification.Events) != 1 || m.Notification.Events[0].Type != ews.EventStatus {
		t.Fatalf("push after recovery = %+v, want the StatusEvent", m.Notification)
	}
	if b := sink.all(); !bytes.Equal(b[len(b)-1], first) {
		t.Errorf("the delivered retry differs from the first attempt")
	}
	id, err := s.DeliverMail(alice, "inbox", Message{Subject: "after recovery"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := sink.events(2)
	if got[0].Item != id.ID {
		t.Errorf("push after recovery = %+v, want events of %s", got, id.ID)
	}
}

// TestPushStalledCallback: a callback that never answers is cut at the
// POST timeout, retried, and dropped when StatusFrequency has passed.
func TestPushStalledCallback(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t, WithPushTiming(PushTiming{Minute: 100 * time.Millisecond, Timeout: 300 * time.Millisecond}))
	sink := newPushSink(t, false)
	sink.setMode(sinkStall)
	sub, err := notifyClient(t, s, alice).SubscribePush(ctx, pushRequest(sink.url(), time.Minute))
	if err != nil {
		t.Fatalf("SubscribePush error = %v", err)
	}
	waitGone(t, s, sub.ID)
	// StatusFrequency 1: the first attempt, retries at 30 s and 60 s.
	if n := len(sink.all()); n != 3 {
		t.Errorf("stalled callback got %d POSTs, want 3", n)
	}
	for range 3 {
		select {
		case <-sink.gone:
		case <-time.After(pushWait):
			t.Fatalf("a stalled POST was not cut by the timeout within %v", pushWait)
		}
	}
}

// TestPushCloseWithStalledCallback: Close returns although a POST is
// stalled (the timeout is ten minutes) and cuts it.
func TestPushCloseWithStalledCallback(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t, WithPushTiming(PushTiming{Timeout: 10 * time.Minute}))
	sink := newPushSink(t, false)
	sink.setMode(sinkStall)
	if _, err := notifyClient(t, s, alice).SubscribePush(ctx, pushRequest(sink.url(), time.Minute)); err != nil {
		t.Fatalf("SubscribePush error = %v", err)
	}
	sink.post()
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(pushWait):
		t.Fatalf("Close did not return within %v with a stalled push callback", pushWait)
	}
	select {
	case <-sink.gone:
	case <-time.After(pushWait):
		t.Fatalf("the stalled POST was not cut by Close within %v", pushWait)
	}
}

// TestPushIdleStatus: with nothing happening, a StatusEvent comes every
// StatusFrequency (a minute of 50 ms here), with the same watermark.
func TestPushIdleStatus(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t, WithPushTiming(PushTiming{Minute: 50 * time.Millisecond}))
	sink := newPushSink(t, false)
	sub, err := notifyClient(t, s, alice).SubscribePush(ctx, pushRequest(sink.url(), time.Minute))
	if err != nil {
		t.Fatalf("SubscribePush error = %v", err)
	}
	for i := range 3 {
		n := sink.next().Notification
		if len(n.Events) != 1 || n.Events[0].Type != ews.EventStatus || n.LastWatermark() != sub.Watermark {
			t.Fatalf("push %d = %+v, want a StatusEvent with watermark %s", i, n, sub.Watermark)
		}
	}
}

// TestPushMoreEvents: a subscription resumed from an old watermark gets
// the backlog 50 events per POST, MoreEvents true until the last.
func TestPushMoreEvents(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	c := notifyClient(t, s, alice)
	pull, err := c.SubscribePull(ctx, &ews.PullSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: []ews.EventType{ews.EventCreated}}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for range 120 {
		if _, err := s.AddItem(alice, "inbox", Message{Subject: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	sink := newPushSink(t, false)
	req := pushRequest(sink.url(), time.Minute)
	req.EventTypes = []ews.EventType{ews.EventCreated}
	req.Watermark = pull.Watermark
	if _, err := c.SubscribePush(ctx, req); err != nil {
		t.Fatalf("SubscribePush(watermark) error = %v", err)
	}
	type page struct {
		N    int
		More bool
	}
	var got []page
	prev := pull.Watermark
	for i := 0; i < 3; i++ {
		n := sink.next().Notification
		got = append(got, page{len(n.Events), n.MoreEvents})
		if n.PreviousWatermark != prev {
			t.Errorf("page %d PreviousWatermark = %q, want %q", i, n.PreviousWatermark, prev)
		}
		prev = n.LastWatermark()
	}
	if diff := cmp.Diff([]page{{50, true}, {50, true}, {20, false}}, got); diff != "" {
		t.Errorf("push pages (-want +got):\n%s", diff)
	}
}

// TestPushHTTPSAndHosts: an https callback is reached with the roots of
// WithPushRootCAs; localhost is a loopback name; another host is never
// dialled, so its subscription fails and is dropped.
func TestPushHTTPSAndHosts(t *testing.T) {
	ctx := context.Background()
	tlsSink := newPushSink(t, true)
	pool := x509.NewCertPool()
	pool.AddCert(tlsSink.srv.Certificate())
	s := newTestServer(t, WithPushRootCAs(pool), WithPushTiming(PushTiming{Minute: 20 * time.Millisecond}))
	c := notifyClient(t, s, alice)
	// StatusFrequency long enough that the idle timer stays out of the way.
	sub, err := c.SubscribePush(ctx, pushRequest(tlsSink.url(), 1440*time.Minute))
	if err != nil {
		t.Fatalf("SubscribePush(https) error = %v", err)
	}
	if n := tlsSink.next().Notification; n.SubscriptionID != sub.ID {
		t.Errorf("https push for %s, want %s", n.SubscriptionID, sub.ID)
	}

	plain := newPushSink(t, false)
	local := strings.Replace(plain.url(), "127.0.0.1", "localhost", 1)
	sub, err = c.SubscribePush(ctx, pushRequest(local, 1440*time.Minute))
	if err != nil {
		t.Fatalf("SubscribePush(localhost) error = %v", err)
	}
	if n := plain.next().Notification; n.SubscriptionID != sub.ID {
		t.Errorf("localhost push for %s, want %s", n.SubscriptionID, sub.ID)
	}

	// TEST-NET-1: accepted as Exchange accepts it, never dialled.
	sub, err = c.SubscribePush(ctx, pushRequest("http://192.0.2.1:9/push", time.Minute))
	if err != nil {
		t.Fatalf("SubscribePush(other host) error = %v", err)
	}
	waitGone(t, s, sub.ID)
}

// TestPushSubscribeRefusals: what Exchange refuses in a
// PushSubscriptionRequest, with its error.
func TestPushSubscribeRefusals(t *testing.T) {
	body := func(freq, url string) string {
		inner := `<t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes>`
		if freq != "-" {
			inner += `<t:StatusFrequency>` + freq + `</t:StatusFrequency>`
		}
		if url != "-" {
			inner += `<t:URL>` + url + `</t:URL>`
		}
		return `<m:Subscribe><m:PushSubscriptionRequest SubscribeToAllFolders="true">` + inner + `</m:PushSubscriptionRequest></m:Subscribe>`
	}
	sink := newPushSink(t, false)
	invalidURL := want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidPushSubscriptionUrl}}
	tests := []struct {
		name string
		body string
		want want
	}{
		{"accepted", body("30", sink.url()), ok1()},
		{"StatusFrequency 0", body("0", sink.url()), faultOf(ews.ErrorSchemaValidation)},
		{"StatusFrequency 1441", body("1441", sink.url()), faultOf(ews.ErrorSchemaValidation)},
		{"StatusFrequency not a number", body("often", sink.url()), faultOf(ews.ErrorSchemaValidation)},
		{"no StatusFrequency", body("-", sink.url()), faultOf(ews.ErrorSchemaValidation)},
		{"no URL", body("30", "-"), faultOf(ews.ErrorSchemaValidation)},
		{"empty URL", body("30", ""), invalidURL},
		{"ftp URL", body("30", "ftp://127.0.0.1/push"), invalidURL},
		{"relative URL", body("30", "/push"), invalidURL},
		{"no host", body("30", "http:///push"), invalidURL},
		{"URL with a space", body("30", "http://127.0.0.1/a b"), invalidURL},
		{"URL too long", body("30", "http://127.0.0.1/"+strings.Repeat("a", 2070)), invalidURL},
		{"both folders and all folders", strings.Replace(body("30", sink.url()), "<t:EventTypes>", `<t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds><t:EventTypes>`, 1),
			want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidSubscriptionRequest}}},
		{"bad watermark", strings.Replace(body("30", sink.url()), "</t:EventTypes>", `</t:EventTypes><t:Watermark>bm90IGEgd2F0ZXJtYXJr</t:Watermark>`, 1),
			want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidWatermark}}},
		{"bad event type", strings.Replace(body("30", sink.url()), "NewMailEvent", "StatusEvent", 1), faultOf(ews.ErrorSchemaValidation)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			check(t, do(t, s, nil, svcReq(imp(alice), tc.body)), tc.want)
		})
	}
}

// TestPushOptions: the push options refuse bad values.
func TestPushOptions(t *testing.T) {
	for _, o := range []Option{
		WithPushTiming(PushTiming{Minute: -time.Second}),
		WithPushTiming(PushTiming{Timeout: -time.Second}),
		WithPushRootCAs(nil),
		WithPushHosts(""),
		WithPushHosts("sync.example.net/push"),
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(bad push option) error = nil, want an error")
		}
	}
	if _, err := New(WithPushHosts("sync.example.net", "10.0.0.5", "[::1]")); err != nil {
		t.Errorf("New(WithPushHosts(valid)) error = %v", err)
	}
}
