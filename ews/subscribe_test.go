package ews_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

const pullID = "39ea5d0f-f062-455e-a1e9-89c0304390f4"

// subscribeCases are the golden requests of Subscribe, Unsubscribe and
// GetEvents.
func subscribeCases() []opCase {
	return []opCase{
		{"subscribe-pull-allfolders", "subscribe-pull.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			s, err := c.SubscribePull(ctx, &ews.PullSubscriptionRequest{
				SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: []ews.EventType{ews.EventCreated, ews.EventDeleted, ews.EventModified, ews.EventMoved, ews.EventCopied}},
				Watermark:         "AAAAAHgGAAAAAAAAAQ==",
				Timeout:           30 * time.Minute,
			})
			must(t, err)
			want := &ews.Subscription{Kind: ews.PullSubscription, ID: pullID, Watermark: "AAAAAHgGAAAAAAAAAQ=="}
			if diff := cmp.Diff(want, s); diff != "" {
				t.Errorf("SubscribePull (-want +got):\n%s", diff)
			}
		}},
		{"subscribe-push", "subscribe-pull.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			_, err := c.SubscribePush(ctx, &ews.PushSubscriptionRequest{
				SubscriptionScope: ews.SubscriptionScope{
					FolderIDs:  []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox), {ID: "AAMkFcon="}},
					EventTypes: []ews.EventType{ews.EventNewMail, ews.EventModified},
				},
				StatusFrequency: 5 * time.Minute,
				URL:             "https://sync.example.net/ews/push/7c1d?x=1&y=2",
				CallerData:      "tenant-42",
			})
			must(t, err)
		}},
		{"subscribe-push-defaults", "subscribe-pull.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			_, err := c.SubscribePush(ctx, &ews.PushSubscriptionRequest{
				SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: ews.AllEventTypes()},
				Watermark:         "AAAAAHgGAAAAAAAAAQ==",
				URL:               "http://10.0.0.5:8080/push",
			})
			must(t, err)
		}},
		{"subscribe-streaming", "subscribe-streaming.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			s, err := c.SubscribeStreaming(ctx, &ews.StreamingSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{
				FolderIDs:  []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)},
				EventTypes: []ews.EventType{ews.EventNewMail, ews.EventModified, ews.EventFreeBusyChanged},
			}})
			must(t, err)
			if s.Kind != ews.StreamingSubscription || s.ID != "JgBibjFwcjAzLnByb2Qub3V0bG9vay5jb20QAAAA" || s.Watermark != "" {
				t.Errorf("SubscribeStreaming = %+v, want streaming id JgBib... without watermark", s)
			}
		}},
		{"unsubscribe", "unsubscribe.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			must(t, c.Unsubscribe(ctx, pullID))
		}},
		{"getevents", "getevents.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			_, err := c.GetEvents(ctx, pullID, "AAAAAMAGAAAAAAAAAQ==")
			must(t, err)
		}},
	}
}

func intp(n int) *int { return &n }

// TestGetEventsEveryEventType checks each event type and its fields.
func TestGetEventsEveryEventType(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/getevents.xml")))
	n, err := newClient(t, f).GetEvents(context.Background(), pullID, "AAAAAMAGAAAAAAAAAQ==")
	if err != nil {
		t.Fatalf("GetEvents = %v", err)
	}
	ts := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	fid := func(id, ck string) ews.FolderID { return ews.FolderID{ID: id, ChangeKey: ck} }
	iid := func(id, ck string) ews.ItemID { return ews.ItemID{ID: id, ChangeKey: ck} }
	want := &ews.Notification{
		SubscriptionID: pullID, PreviousWatermark: "AAAAAMAGAAAAAAAAAQ==",
		Events: []ews.Event{
			{Type: ews.EventCopied, Watermark: "AAAAAMgGAAAAAAAAAQ==", TimeStamp: ts("2024-06-03T09:00:30Z"), ItemID: iid("AAMkIcopy=", "EQAAAAYC"),
				ParentFolderID: fid("AAMkFarch=", "AQAAAA=="), OldItemID: iid("AAMkIorig=", "EQAAAAYB"), OldParentFolderID: fid("AAMkFcon=", "AwAAAA==")},
			{Type: ews.EventCreated, Watermark: "AAAAAMkGAAAAAAAAAQ==", TimeStamp: ts("2024-06-03T09:00:40Z"), ItemID: iid("AAMkImsg9=", "CQAAAA=="), ParentFolderID: fid("AAMkFinbox=", "AQAAAA==")},
			{Type: ews.EventNewMail, Watermark: "AAAAAMoGAAAAAAAAAQ==", TimeStamp: ts("2024-06-03T09:00:40Z"), ItemID: iid("AAMkImsg9=", "CQAAAA=="), ParentFolderID: fid("AAMkFinbox=", "AQAAAA==")},
			{Type: ews.EventDeleted, Watermark: "AAAAAMsGAAAAAAAAAQ==", TimeStamp: ts("2024-06-03T09:00:50Z"), FolderID: fid("AAMkFold=", "AQAAAC=="), ParentFolderID: fid("AAMkFroot=", "AQAAAA==")},
			{Type: ews.EventMoved, Watermark: "AAAAAM4GAAAAAAAAAQ==", TimeStamp: ts("2024-06-03T09:01:00Z"), ItemID: iid("AAMkIcon1new=", "EQAAABYC"),
				ParentFolderID: fid("AAMkFarch=", "AQAAAA=="), OldItemID: iid("AAMkIcon1=", "EQAAABYB"), OldParentFolderID: fid("AAMkFcon=", "AwAAAA==")},
			{Type: ews.EventModified, Watermark: "AAAAAOQGAAAAAAAAAQ==", TimeStamp: ts("2024-06-03T09:01:00Z"), FolderID: fid("AAMkFarch=", "AQAAAB=="),
				ParentFolderID: fid("AAMkFroot=", "AQAAAA=="), UnreadCount: intp(0)},
			{Type: ews.EventFreeBusyChanged, Watermark: "AAAAAOUGAAAAAAAAAQ==", TimeStamp: ts("2024-06-03T09:02:00Z"), ItemID: iid("AAMkIfb=", "DwAAAA=="), ParentFolderID: fid("AAMkFcal=", "AQAAAA==")},
		},
	}
	if diff := cmp.Diff(want, n); diff != "" {
		t.Errorf("GetEvents (-want +got):\n%s", diff)
	}
	if got := n.LastWatermark(); got != "AAAAAOUGAAAAAAAAAQ==" {
		t.Errorf("LastWatermark() = %q, want AAAAAOUGAAAAAAAAAQ==", got)
	}
	if !n.Events[3].IsFolder() || n.Events[1].IsFolder() {
		t.Errorf("IsFolder() = %v, %v for a folder and an item event; want true, false", n.Events[3].IsFolder(), n.Events[1].IsFolder())
	}
}

// TestEventsFollowsMoreEvents: Events calls GetEvents again with the last
// watermark while MoreEvents is set.
func TestEventsFollowsMoreEvents(t *testing.T) {
	more := strings.Replace(string(readTestdata(t, "responses/getevents.xml")), "<t:MoreEvents>false", "<t:MoreEvents>true", 1)
	status := readTestdata(t, "responses/getevents-status.xml")
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			soapReply(200, []byte(more))(w, r, n)
			return
		}
		soapReply(200, status)(w, r, n)
	})
	var counts []int
	for n, err := range newClient(t, f).Events(context.Background(), pullID, "AAAAAMAGAAAAAAAAAQ==") {
		if err != nil {
			t.Fatalf("Events = %v", err)
		}
		counts = append(counts, len(n.Events))
	}
	if diff := cmp.Diff([]int{7, 1}, counts); diff != "" {
		t.Errorf("Events per notification (-want +got):\n%s", diff)
	}
	reqs := f.Requests()
	if len(reqs) != 2 || !containsBytes(reqs[1].Body, "<m:Watermark>AAAAAOUGAAAAAAAAAQ==</m:Watermark>") {
		t.Errorf("second GetEvents does not continue from the last watermark: %d requests", len(reqs))
	}
}

// responseWithCode returns body with its error code (and message) replaced.
func responseWithCode(t *testing.T, file string, from, to ews.ResponseCode) []byte {
	t.Helper()
	b := strings.Replace(string(readTestdata(t, "responses/"+file)), string(from), string(to), 1)
	return []byte(b)
}

// TestNotificationErrorsTyped checks that each documented notification
// error surfaces from Subscribe, GetEvents and Unsubscribe as a
// *ResponseError with its code.
func TestNotificationErrorsTyped(t *testing.T) {
	scope := ews.SubscriptionScope{AllFolders: true, EventTypes: ews.AllEventTypes()}
	calls := map[string]func(context.Context, *ews.Client) error{
		"Subscribe": func(ctx context.Context, c *ews.Client) error {
			_, err := c.SubscribePull(ctx, &ews.PullSubscriptionRequest{SubscriptionScope: scope, Timeout: time.Minute})
			return err
		},
		"GetEvents": func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetEvents(ctx, pullID, "AAAAAMAGAAAAAAAAAQ==")
			return err
		},
		"Unsubscribe": func(ctx context.Context, c *ews.Client) error { return c.Unsubscribe(ctx, pullID) },
	}
	files := map[string]string{
		"Subscribe":   "subscribe-ErrorInvalidSubscriptionRequest.xml",
		"GetEvents":   "getevents-ErrorSubscriptionNotFound.xml",
		"Unsubscribe": "getevents-ErrorSubscriptionNotFound.xml",
	}
	from := map[string]ews.ResponseCode{
		"Subscribe": ews.ErrorInvalidSubscriptionRequest, "GetEvents": ews.ErrorSubscriptionNotFound, "Unsubscribe": ews.ErrorSubscriptionNotFound,
	}
	tests := []struct {
		op   string
		code ews.ResponseCode
	}{
		{"Subscribe", ews.ErrorInvalidSubscriptionRequest},
		{"Subscribe", ews.ErrorExceededSubscriptionCount},
		{"Subscribe", ews.ErrorExceededConnectionCount},
		{"Subscribe", ews.ErrorInvalidWatermark},
		{"Subscribe", ews.ErrorSubscriptionDelegateAccessNotSupported},
		{"Subscribe", ews.ErrorInvalidPushSubscriptionUrl},
		{"GetEvents", ews.ErrorSubscriptionNotFound},
		{"GetEvents", ews.ErrorExpiredSubscription},
		{"GetEvents", ews.ErrorInvalidWatermark},
		{"GetEvents", ews.ErrorMissedNotificationEvents},
		{"GetEvents", ews.ErrorInvalidPullSubscriptionId},
		{"GetEvents", ews.ErrorSubscriptionAccessDenied},
		{"Unsubscribe", ews.ErrorSubscriptionNotFound},
		{"Unsubscribe", ews.ErrorInvalidPullSubscriptionId},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+string(tt.code), func(t *testing.T) {
			body := readTestdata(t, "responses/"+files[tt.op])
			if tt.op == "Unsubscribe" {
				body = []byte(strings.ReplaceAll(string(body), "GetEventsResponse", "UnsubscribeResponse"))
			}
			body = []byte(strings.Replace(string(body), string(from[tt.op]), string(tt.code), 1))
			f := newFakeEWS(t, soapReply(200, body))
			c := newClient(t, f, ews.WithRetryPolicy(ews.NoRetries()))
			err := calls[tt.op](context.Background(), c)
			var re *ews.ResponseError
			if !errors.As(err, &re) || re.Code != tt.code || re.Operation != tt.op || !errors.Is(err, tt.code) {
				t.Errorf("%s = %v, want *ResponseError %s of %s", tt.op, err, tt.code, tt.op)
			}
		})
	}
}

func TestSubscribeRefused(t *testing.T) {
	ok := ews.SubscriptionScope{AllFolders: true, EventTypes: []ews.EventType{ews.EventCreated}}
	pull := func(r ews.PullSubscriptionRequest) func(context.Context, *ews.Client) error {
		return func(ctx context.Context, c *ews.Client) error { _, err := c.SubscribePull(ctx, &r); return err }
	}
	push := func(r ews.PushSubscriptionRequest) func(context.Context, *ews.Client) error {
		return func(ctx context.Context, c *ews.Client) error { _, err := c.SubscribePush(ctx, &r); return err }
	}
	tests := []struct {
		name string
		call func(context.Context, *ews.Client) error
		want string
	}{
		{"no timeout", pull(ews.PullSubscriptionRequest{SubscriptionScope: ok}), "Timeout 0s is not a whole number of minutes from 1 to 1440"},
		{"timeout too long", pull(ews.PullSubscriptionRequest{SubscriptionScope: ok, Timeout: 1441 * time.Minute}), "Timeout 24h1m0s"},
		{"timeout seconds", pull(ews.PullSubscriptionRequest{SubscriptionScope: ok, Timeout: 90 * time.Second}), "Timeout 1m30s"},
		{"no folders", pull(ews.PullSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{EventTypes: []ews.EventType{ews.EventCreated}}, Timeout: time.Minute}), "no folders given"},
		{"folders and all", pull(ews.PullSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{AllFolders: true, FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}, EventTypes: []ews.EventType{ews.EventCreated}}, Timeout: time.Minute}), "both AllFolders and 1 FolderIDs"},
		{"no events", pull(ews.PullSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{AllFolders: true}, Timeout: time.Minute}), "no EventTypes"},
		{"status event", pull(ews.PullSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: []ews.EventType{ews.EventStatus}}, Timeout: time.Minute}), `"StatusEvent" cannot be subscribed`},
		{"watermark space", pull(ews.PullSubscriptionRequest{SubscriptionScope: ok, Timeout: time.Minute, Watermark: " AAAA"}), "white space"},
		{"bad folder", pull(ews.PullSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{FolderIDs: []ews.FolderID{{}}, EventTypes: []ews.EventType{ews.EventCreated}}, Timeout: time.Minute}), "FolderIds[0] is empty"},
		{"push no url", push(ews.PushSubscriptionRequest{SubscriptionScope: ok}), "push URL is empty"},
		{"push ftp", push(ews.PushSubscriptionRequest{SubscriptionScope: ok, URL: "ftp://sync.example.net/push"}), "not an absolute http or https URL"},
		{"push relative", push(ews.PushSubscriptionRequest{SubscriptionScope: ok, URL: "/push"}), "not an absolute http or https URL"},
		{"push long", push(ews.PushSubscriptionRequest{SubscriptionScope: ok, URL: "https://sync.example.net/" + strings.Repeat("a", 2060)}), "more than 2082"},
		{"push user", push(ews.PushSubscriptionRequest{SubscriptionScope: ok, URL: "https://u:p@sync.example.net/push"}), "carries user information"},
		{"push frequency", push(ews.PushSubscriptionRequest{SubscriptionScope: ok, URL: "https://sync.example.net/push", StatusFrequency: 2000 * time.Minute}), "StatusFrequency"},
		{"streaming nil", func(ctx context.Context, c *ews.Client) error { _, err := c.SubscribeStreaming(ctx, nil); return err }, "streaming request is nil"},
		{"unsubscribe empty", func(ctx context.Context, c *ews.Client) error { return c.Unsubscribe(ctx, " ") }, "subscription id is empty"},
		{"getevents no watermark", func(ctx context.Context, c *ews.Client) error { _, err := c.GetEvents(ctx, pullID, ""); return err }, "watermark is empty"},
		{"getevents no id", func(ctx context.Context, c *ews.Client) error { _, err := c.GetEvents(ctx, "", "AAAA"); return err }, "subscription id is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, soapReply(500, nil))
			err := tt.call(context.Background(), newClient(t, f))
			if !errors.Is(err, ews.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s = %v, want ErrInvalidRequest mentioning %q", tt.name, err, tt.want)
			}
			if n := len(f.Requests()); n != 0 {
				t.Errorf("%s sent %d requests, want 0", tt.name, n)
			}
		})
	}
}

// TestSubscribeNotRepeated: a Subscribe whose connection dropped after the
// request was sent is not repeated, since a repeat would leave a second
// subscription on the server.
func TestSubscribeNotRepeated(t *testing.T) {
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("server does not support hijacking")
			return
		}
		conn, _, _ := hj.Hijack()
		conn.Close()
	})
	_, err := newClient(t, f).SubscribeStreaming(context.Background(), &ews.StreamingSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: []ews.EventType{ews.EventNewMail}}})
	var te *ews.TransportError
	if !errors.As(err, &te) || !te.MaybeSent {
		t.Fatalf("SubscribeStreaming = %v, want *TransportError with MaybeSent", err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("SubscribeStreaming sent %d requests, want 1", n)
	}
}
