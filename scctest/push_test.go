package scctest

import (
	"bytes"
	"context"
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
	for i, b := range bodies {
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
