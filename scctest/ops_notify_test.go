package scctest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
)

// captureTransport hands every response body of our client to captured,
// so the schema check covers what the notification tests receive.
type captureTransport struct {
	t    testing.TB
	next http.RoundTripper
}

func (c captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(r)
	if err != nil {
		return res, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	captured(c.t, b)
	res.Body = io.NopCloser(bytes.NewReader(b))
	return res, nil
}

// notifyClient returns our ews client as the service account
// impersonating addr, over a real socket, with its responses captured.
func notifyClient(t *testing.T, s *Server, addr string) *ews.Client {
	t.Helper()
	c, err := ews.NewClient(s.EWSURL(), ews.WithBasicAuth(testSvc, testPassword), ews.WithInsecureHTTP(),
		ews.WithTransportMiddleware(func(next http.RoundTripper) http.RoundTripper { return captureTransport{t, next} }))
	if err != nil {
		t.Fatal(err)
	}
	return c.With(ews.Impersonate(ews.PrimarySmtpAddress(addr)))
}

// evSummary is what the tests compare of an event.
type evSummary struct {
	Type   ews.EventType
	Item   string
	Folder string
	Parent string
}

func summarize(n *ews.Notification) []evSummary {
	var out []evSummary
	for _, e := range n.Events {
		out = append(out, evSummary{e.Type, e.ItemID.ID, e.FolderID.ID, e.ParentFolderID.ID})
	}
	return out
}

func inboxID(t *testing.T, s *Server, addr string) string {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	f, err := s.box(s.dir.lookupAddr(addr)).GetFolder("inbox")
	if err != nil {
		t.Fatal(err)
	}
	return f.ID
}

// TestPullSubscriptionRoundTrip subscribes to the inbox, delivers mail
// with the seeding API and writes through EWS, and reads the events back
// with GetEvents, resuming from watermarks.
func TestPullSubscriptionRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	c := notifyClient(t, s, alice)
	inbox := inboxID(t, s, alice)
	sub, err := c.SubscribePull(ctx, &ews.PullSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}, EventTypes: ews.AllEventTypes()},
		Timeout:           10 * time.Minute,
	})
	if err != nil {
		t.Fatalf("SubscribePull error = %v", err)
	}
	if sub.ID == "" || sub.Watermark == "" {
		t.Fatalf("SubscribePull = %+v, want an id and a watermark", sub)
	}
	// Nothing happened: one StatusEvent.
	n, err := c.GetEvents(ctx, sub.ID, sub.Watermark)
	if err != nil {
		t.Fatalf("GetEvents error = %v", err)
	}
	if len(n.Events) != 1 || n.Events[0].Type != ews.EventStatus || n.MoreEvents {
		t.Fatalf("GetEvents (idle) = %+v, want one StatusEvent", n)
	}
	wm := n.LastWatermark()
	// A draft elsewhere is not reported; mail delivered to the inbox is.
	if _, err := s.AddItem(alice, "drafts", Message{Subject: "draft"}); err != nil {
		t.Fatal(err)
	}
	id, err := s.DeliverMail(alice, "inbox", Message{Subject: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	n, err = c.GetEvents(ctx, sub.ID, wm)
	if err != nil {
		t.Fatalf("GetEvents error = %v", err)
	}
	want := []evSummary{{ews.EventCreated, id.ID, "", inbox}, {ews.EventNewMail, id.ID, "", inbox}}
	if diff := cmp.Diff(want, summarize(n)); diff != "" {
		t.Errorf("GetEvents after delivery (-want +got):\n%s", diff)
	}
	if n.PreviousWatermark != wm {
		t.Errorf("PreviousWatermark = %q, want %q", n.PreviousWatermark, wm)
	}
	wm = n.LastWatermark()
	// A delete through EWS.
	if err := c.DeleteItemByID(ctx, ews.ItemID{ID: id.ID}, ews.HardDelete); err != nil {
		t.Fatalf("DeleteItemByID error = %v", err)
	}
	n, err = c.GetEvents(ctx, sub.ID, wm)
	if err != nil {
		t.Fatalf("GetEvents error = %v", err)
	}
	if diff := cmp.Diff([]evSummary{{ews.EventDeleted, id.ID, "", inbox}}, summarize(n)); diff != "" {
		t.Errorf("GetEvents after delete (-want +got):\n%s", diff)
	}
	// A new subscription resumes from an old watermark.
	sub2, err := c.SubscribePull(ctx, &ews.PullSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: []ews.EventType{ews.EventNewMail}},
		Watermark:         wm, Timeout: time.Minute,
	})
	if err != nil {
		t.Fatalf("SubscribePull(watermark) error = %v", err)
	}
	if sub2.Watermark != wm {
		t.Errorf("resumed Watermark = %q, want %q", sub2.Watermark, wm)
	}
	if err := c.Unsubscribe(ctx, sub.ID); err != nil {
		t.Fatalf("Unsubscribe error = %v", err)
	}
	if _, err := c.GetEvents(ctx, sub.ID, wm); !errors.Is(err, ews.ErrorSubscriptionNotFound) {
		t.Errorf("GetEvents after Unsubscribe error = %v, want ErrorSubscriptionNotFound", err)
	}
}

// TestGetEventsMoreEvents pages a long queue 50 events at a time.
func TestGetEventsMoreEvents(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	c := notifyClient(t, s, alice)
	sub, err := c.SubscribePull(ctx, &ews.PullSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: []ews.EventType{ews.EventCreated}},
		Timeout:           time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 120 {
		if _, err := s.AddItem(alice, "inbox", Message{Subject: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int
	for n, err := range c.Events(ctx, sub.ID, sub.Watermark) {
		if err != nil {
			t.Fatalf("Events error = %v", err)
		}
		sizes = append(sizes, len(n.Events))
	}
	if diff := cmp.Diff([]int{50, 50, 20}, sizes); diff != "" {
		t.Errorf("Events batch sizes (-want +got):\n%s", diff)
	}
}

// TestSubscribeErrors covers the refusals Exchange gives.
func TestSubscribeErrors(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t, WithSubscriptionLimit(2))
	c := notifyClient(t, s, alice)
	pull := func(wm string) error {
		_, err := c.SubscribePull(ctx, &ews.PullSubscriptionRequest{
			SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: ews.AllEventTypes()},
			Watermark:         wm, Timeout: time.Minute,
		})
		return err
	}
	if err := pull("bm90IGEgd2F0ZXJtYXJr"); !errors.Is(err, ews.ErrorInvalidWatermark) {
		t.Errorf("SubscribePull(bad watermark) error = %v, want ErrorInvalidWatermark", err)
	}
	bobSub, err := notifyClient(t, s, bob).SubscribePull(ctx, &ews.PullSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: ews.AllEventTypes()}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := pull(bobSub.Watermark); !errors.Is(err, ews.ErrorInvalidWatermark) {
		t.Errorf("SubscribePull(bob's watermark) error = %v, want ErrorInvalidWatermark", err)
	}
	for i := range 2 {
		if err := pull(""); err != nil {
			t.Fatalf("SubscribePull #%d error = %v", i, err)
		}
	}
	if err := pull(""); !errors.Is(err, ews.ErrorExceededSubscriptionCount) {
		t.Errorf("SubscribePull over the limit error = %v, want ErrorExceededSubscriptionCount", err)
	}
	if _, err := c.GetEvents(ctx, "AAAAunknown", bobSub.Watermark); !errors.Is(err, ews.ErrorSubscriptionNotFound) {
		t.Errorf("GetEvents(unknown id) error = %v, want ErrorSubscriptionNotFound", err)
	}
	// Asked for as bob: impersonating alice would route the request to
	// alice's backend, where bob's subscription does not exist (affinity.go).
	if _, err := notifyClient(t, s, bob).GetEvents(ctx, bobSub.ID, "bm90IGEgd2F0ZXJtYXJr"); !errors.Is(err, ews.ErrorInvalidWatermark) {
		t.Errorf("GetEvents(bad watermark) error = %v, want ErrorInvalidWatermark", err)
	}
}

// TestSubscribeRaw checks what our client refuses to send: a Timeout out
// of range (schema), folders of two mailboxes, another principal's
// subscription, and a streaming subscription (no watermark).
func TestSubscribeRaw(t *testing.T) {
	s := newTestServer(t)
	hdr := version("Exchange2013_SP1")
	pull := func(folders, timeout string) string {
		return `<m:Subscribe><m:PullSubscriptionRequest>` + folders + `<t:EventTypes><t:EventType>CreatedEvent</t:EventType></t:EventTypes><t:Timeout>` + timeout + `</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>`
	}
	inbox := `<t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds>`
	two := `<t:FolderIds><t:FolderId Id="` + inboxID(t, s, alice) + `"/><t:FolderId Id="` + inboxID(t, s, bob) + `"/></t:FolderIds>`
	for _, tc := range []struct {
		name      string
		body      string
		fault     ews.ResponseCode
		code      ews.ResponseCode
		principal string
	}{
		{name: "timeout 0", body: pull(inbox, "0"), fault: ews.ErrorSchemaValidation},
		{name: "timeout 1441", body: pull(inbox, "1441"), fault: ews.ErrorSchemaValidation},
		{name: "two mailboxes", body: pull(two, "5"), code: ews.ErrorAccessDenied},
		{name: "no folders", body: pull("", "5"), code: ews.ErrorInvalidSubscriptionRequest},
		{name: "streaming", body: `<m:Subscribe><m:StreamingSubscriptionRequest SubscribeToAllFolders="true"><t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>`, code: ews.NoError},
		{name: "pull ok", body: pull(inbox, "1440"), code: ews.NoError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: envelope(hdr+impersonate("PrimarySmtpAddress", alice), tc.body)})
			if r.fault != tc.fault {
				t.Fatalf("fault = %q, want %q\n%s", r.fault, tc.fault, r.body)
			}
			if tc.code != "" && (len(r.codes) != 1 || r.codes[0] != tc.code) {
				t.Errorf("codes = %v, want [%s]\n%s", r.codes, tc.code, r.body)
			}
		})
	}
	// Alice herself (another principal) may not read the service
	// account's subscription.
	r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: envelope(hdr+impersonate("PrimarySmtpAddress", alice), pull(inbox, "5"))})
	id := find(t, r.body, "SubscriptionId").trimmed()
	wm := find(t, r.body, "Watermark").trimmed()
	r = do(t, s, nil, req{user: "alice@ad.contoso.example", pass: "alice-pw", body: envelope(hdr, `<m:GetEvents><m:SubscriptionId>`+id+`</m:SubscriptionId><m:Watermark>`+wm+`</m:Watermark></m:GetEvents>`)})
	if len(r.codes) != 1 || r.codes[0] != ews.ErrorSubscriptionAccessDenied {
		t.Errorf("GetEvents as another principal codes = %v, want [ErrorSubscriptionAccessDenied]\n%d %s", r.codes, r.status, r.body)
	}
}

// TestPullSubscriptionExpires: a subscription not polled within its
// Timeout is gone.
func TestPullSubscriptionExpires(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var clock = func() time.Time { return now }
	s := newTestServer(t, WithClock(func() time.Time { return clock() }))
	c := notifyClient(t, s, alice)
	sub, err := c.SubscribePull(ctx, &ews.PullSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: ews.AllEventTypes()}, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	now = now.Add(3 * time.Minute)
	s.mu.Unlock()
	if _, err := c.GetEvents(ctx, sub.ID, sub.Watermark); !errors.Is(err, ews.ErrorSubscriptionNotFound) {
		t.Errorf("GetEvents after Timeout error = %v, want ErrorSubscriptionNotFound", err)
	}
}
