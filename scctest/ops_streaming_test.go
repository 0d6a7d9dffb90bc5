package scctest

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

// TestStreamingRoundTrip opens a GetStreamingEvents connection with our
// client, delivers mail, and reads the events off the open stream.
func TestStreamingRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	c, err := ews.NewClient(s.EWSURL(), ews.WithBasicAuth(testSvc, testPassword), ews.WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	c = c.With(ews.Impersonate(ews.PrimarySmtpAddress(alice)))
	sub, err := c.SubscribeStreaming(ctx, &ews.StreamingSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{
		FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}, EventTypes: ews.AllEventTypes()}})
	if err != nil {
		t.Fatalf("SubscribeStreaming error = %v", err)
	}
	if sub.Watermark != "" {
		t.Errorf("streaming Watermark = %q, want none", sub.Watermark)
	}
	st, err := c.GetStreamingEvents(ctx, &ews.GetStreamingEventsRequest{SubscriptionIDs: []string{sub.ID}, ConnectionTimeout: 5 * time.Minute})
	if err != nil {
		t.Fatalf("GetStreamingEvents error = %v", err)
	}
	defer st.Close()
	m, err := st.Next()
	if err != nil || m.ConnectionStatus != ews.ConnectionOK || len(m.Notifications) != 0 {
		t.Fatalf("first Next = %+v, %v; want an OK heartbeat", m, err)
	}
	id, err := s.DeliverMail(alice, "inbox", Message{Subject: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	var got []evSummary
	for len(got) < 2 {
		m, err := st.Next()
		if err != nil {
			t.Fatalf("Next error = %v", err)
		}
		for _, n := range m.Notifications {
			if n.SubscriptionID != sub.ID {
				t.Errorf("Notification.SubscriptionID = %q, want %q", n.SubscriptionID, sub.ID)
			}
			got = append(got, summarize(&n)...)
		}
	}
	inbox := inboxID(t, s, alice)
	want := []evSummary{{ews.EventCreated, id.ID, "", inbox}, {ews.EventNewMail, id.ID, "", inbox}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("streamed events (-want +got):\n%s", diff)
	}
	// GetEvents is for pull subscriptions only.
	if _, err := c.GetEvents(ctx, sub.ID, "AAAA"); !errors.Is(err, ews.ErrorInvalidSubscription) {
		t.Errorf("GetEvents(streaming) error = %v, want ErrorInvalidSubscription", err)
	}
}

// TestStreamingRaw captures a whole stream (OK, the queued events, Closed
// at ConnectionTimeout) and an unknown subscription's answer, each
// envelope on its own, in the schema's namespaces.
func TestStreamingRaw(t *testing.T) {
	s := newTestServer(t, WithSchemaStrictStreaming())
	s.subs.minute = time.Millisecond // ConnectionTimeout 1 = 1 ms
	hdr := version("Exchange2013_SP1") + impersonate("PrimarySmtpAddress", alice)
	r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: envelope(hdr,
		`<m:Subscribe><m:StreamingSubscriptionRequest SubscribeToAllFolders="true"><t:EventTypes><t:EventType>CreatedEvent</t:EventType><t:EventType>MovedEvent</t:EventType></t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>`)})
	id := find(t, r.body, "SubscriptionId").trimmed()
	if _, err := s.DeliverMail(alice, "inbox", Message{Subject: "queued"}); err != nil {
		t.Fatal(err)
	}
	streamBody := func(id string) string {
		return envelope(hdr, `<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>`+id+`</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>1</m:ConnectionTimeout></m:GetStreamingEvents>`)
	}
	hr, err := http.NewRequest(http.MethodPost, s.EWSURL(), strings.NewReader(streamBody(id)))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
	hr.SetBasicAuth(testSvc, testPassword)
	res, err := s.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.TransferEncoding) != 1 || res.TransferEncoding[0] != "chunked" {
		t.Errorf("stream TransferEncoding = %v, want [chunked]", res.TransferEncoding)
	}
	parts := strings.SplitAfter(string(body), "</s:Envelope>")
	parts = parts[:len(parts)-1]
	var statuses []string
	for _, p := range parts {
		captured(t, []byte(p))
		statuses = append(statuses, find(t, []byte(p), "ConnectionStatus").trimmed())
	}
	if diff := cmp.Diff([]string{"OK", "OK", "Closed"}, statuses); diff != "" {
		t.Fatalf("stream statuses (-want +got):\n%s\n%s", diff, body)
	}
	if n := findAll(t, []byte(parts[1]), "CreatedEvent"); len(n) != 1 {
		t.Errorf("second envelope has %d CreatedEvents, want 1:\n%s", len(n), parts[1])
	}
	r = do(t, s, nil, req{user: testSvc, pass: testPassword, body: streamBody("AAAAunknown")})
	if len(r.codes) != 1 || r.codes[0] != ews.ErrorSubscriptionNotFound {
		t.Errorf("unknown subscription codes = %v, want [ErrorSubscriptionNotFound]\n%s", r.codes, r.body)
	}
	if got := find(t, r.body, "ConnectionStatus").trimmed(); got != "Closed" {
		t.Errorf("unknown subscription ConnectionStatus = %q, want Closed", got)
	}
}
