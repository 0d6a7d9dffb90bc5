package ews_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

const pushID = "83826921-afdf-48be-b469-628cc02b5f49"

// pushServer serves h on 127.0.0.1 and records what the callback saw.
type pushRecorder struct {
	mu   sync.Mutex
	msgs []*ews.PushMessage
}

func (p *pushRecorder) seen() []*ews.PushMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*ews.PushMessage(nil), p.msgs...)
}

func newPushServer(t *testing.T, answer ews.SubscriptionStatus, opts ...ews.PushOption) (*httptest.Server, *pushRecorder) {
	t.Helper()
	rec := &pushRecorder{}
	h, err := ews.NewPushHandler(func(ctx context.Context, m *ews.PushMessage) ews.SubscriptionStatus {
		rec.mu.Lock()
		rec.msgs = append(rec.msgs, m)
		rec.mu.Unlock()
		if m.Notification.SubscriptionID == "panic" {
			panic("callback bug")
		}
		return answer
	}, opts...)
	if err != nil {
		t.Fatalf("NewPushHandler = %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, rec
}

func postPush(t *testing.T, url, contentType string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s = %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestPushHandlerAnswers(t *testing.T) {
	for _, tt := range []struct {
		answer ews.SubscriptionStatus
		golden string
	}{
		{ews.PushOK, "sendnotificationresult-ok.xml"},
		{"", "sendnotificationresult-ok.xml"},
		{ews.PushUnsubscribe, "sendnotificationresult-unsubscribe.xml"},
	} {
		t.Run(string(tt.answer), func(t *testing.T) {
			srv, rec := newPushServer(t, tt.answer)
			status, body := postPush(t, srv.URL+"/ews/push/7c1d", "text/xml; charset=utf-8", readTestdata(t, "push/sendnotification-events.xml"))
			if status != http.StatusOK {
				t.Fatalf("POST = %d %s, want 200", status, body)
			}
			checkPushGolden(t, tt.golden, body)
			msgs := rec.seen()
			if len(msgs) != 1 {
				t.Fatalf("callback called %d times, want 1", len(msgs))
			}
			n := msgs[0].Notification
			var types []ews.EventType
			for _, e := range n.Events {
				types = append(types, e.Type)
			}
			if n.SubscriptionID != pushID || msgs[0].Err != nil || !cmp.Equal(types, []ews.EventType{ews.EventCreated, ews.EventNewMail}) ||
				n.LastWatermark() != "AQAAAOpvG0LURVdOhQkPOWZLPcJFEgAAAAAAAAE=" {
				t.Errorf("callback saw %+v, want subscription %s with CreatedEvent, NewMailEvent", n, pushID)
			}
		})
	}
}

// TestPushHandlerStatusEvent: the periodic StatusEvent reaches the
// callback like any notification.
func TestPushHandlerStatusEvent(t *testing.T) {
	srv, rec := newPushServer(t, ews.PushOK)
	if status, body := postPush(t, srv.URL, "text/xml", readTestdata(t, "push/sendnotification-status.xml")); status != http.StatusOK {
		t.Fatalf("POST = %d %s, want 200", status, body)
	}
	msgs := rec.seen()
	if len(msgs) != 1 || len(msgs[0].Notification.Events) != 1 || msgs[0].Notification.Events[0].Type != ews.EventStatus {
		t.Errorf("callback saw %+v, want one StatusEvent", msgs)
	}
}

func checkPushGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	checkGoldenPath(t, "push/"+name, got)
}

// TestPushHandlerRefuses: what is not a push notification gets an HTTP
// error and never reaches the callback.
func TestPushHandlerRefuses(t *testing.T) {
	valid := string(readTestdata(t, "push/sendnotification-events.xml"))
	tests := []struct {
		name, method, ct, body string
		status                 int
		want                   string
	}{
		{"get", http.MethodGet, "", "", http.StatusMethodNotAllowed, "method GET"},
		{"html", http.MethodPost, "text/html", "<html>hi</html>", http.StatusUnsupportedMediaType, `content type "text/html"`},
		{"json", http.MethodPost, "application/json", `{"a":1}`, http.StatusUnsupportedMediaType, "not XML"},
		{"garbage xml", http.MethodPost, "text/xml", "<a><b></a>", http.StatusBadRequest, "not a well-formed SOAP 1.1 envelope"},
		{"truncated", http.MethodPost, "text/xml", valid[:len(valid)/2], http.StatusBadRequest, "not a well-formed"},
		{"two documents", http.MethodPost, "text/xml", valid + valid, http.StatusBadRequest, "more than one XML document"},
		{"other body", http.MethodPost, "text/xml", string(readTestdata(t, "responses/getfolder-inbox.xml")), http.StatusBadRequest, "GetFolderResponse instead of m:SendNotification"},
		{"no notification", http.MethodPost, "text/xml", cutBetween(valid, "<m:Notification>", "</m:Notification>"), http.StatusBadRequest, "has no Notification"},
		{"no subscription id", http.MethodPost, "text/xml", strings.Replace(valid, "<t:SubscriptionId>"+pushID+"</t:SubscriptionId>", "", 1), http.StatusBadRequest, "no SubscriptionId"},
		{"no events", http.MethodPost, "text/xml", cutBetween(valid, "<t:CreatedEvent>", "</t:NewMailEvent>"), http.StatusBadRequest, "no events"},
		{"no messages", http.MethodPost, "text/xml", cutBetween(valid, "<m:SendNotificationResponseMessage ", "</m:SendNotificationResponseMessage>"), http.StatusBadRequest, "no response messages"},
		{"doctype", http.MethodPost, "text/xml", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`, http.StatusBadRequest, "directive"},
		{"too large", http.MethodPost, "text/xml", strings.Replace(valid, "AAMkImsg9=", strings.Repeat("A", 5000), 1), http.StatusRequestEntityTooLarge, "larger than 2048 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := newPushServer(t, ews.PushOK, ews.WithPushMaxBodyBytes(4096))
			if tt.name == "too large" {
				srv, rec = newPushServer(t, ews.PushOK, ews.WithPushMaxBodyBytes(2048))
			}
			req, _ := http.NewRequest(tt.method, srv.URL, strings.NewReader(tt.body))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) || !strings.HasPrefix(string(b), "ews: ") {
				t.Errorf("%s %s = %d %q, want %d mentioning %q", tt.method, tt.name, resp.StatusCode, b, tt.status, tt.want)
			}
			if n := len(rec.seen()); n != 0 {
				t.Errorf("callback called %d times, want 0", n)
			}
		})
	}
}

// cutBetween removes s from the first from to the end of the first to
// after it.
func cutBetween(s, from, to string) string {
	i := strings.Index(s, from)
	j := strings.Index(s[i:], to)
	return s[:i] + s[i+j+len(to):]
}

// TestPushHandlerCallbackPanics: a panicking callback answers 500, which
// Exchange retries, and the handler keeps serving.
func TestPushHandlerCallbackPanics(t *testing.T) {
	srv, _ := newPushServer(t, ews.PushOK)
	body := strings.ReplaceAll(string(readTestdata(t, "push/sendnotification-status.xml")), pushID, "panic")
	if status, _ := postPush(t, srv.URL, "text/xml", []byte(body)); status != http.StatusInternalServerError {
		t.Errorf("POST with a panicking callback = %d, want 500", status)
	}
	if status, _ := postPush(t, srv.URL, "text/xml", readTestdata(t, "push/sendnotification-status.xml")); status != http.StatusOK {
		t.Errorf("POST after the panic = %d, want 200", status)
	}
}

// TestPushHandlerErrorMessage: a message with ResponseClass Error reaches
// the callback with a typed error.
func TestPushHandlerErrorMessage(t *testing.T) {
	srv, rec := newPushServer(t, ews.PushUnsubscribe)
	body := strings.Replace(string(readTestdata(t, "push/sendnotification-status.xml")),
		`ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>`,
		`ResponseClass="Error">
          <m:MessageText>Notification events were missed.</m:MessageText>
          <m:ResponseCode>ErrorMissedNotificationEvents</m:ResponseCode>`, 1)
	status, reply := postPush(t, srv.URL, "text/xml", []byte(body))
	if status != http.StatusOK {
		t.Fatalf("POST = %d %s, want 200", status, reply)
	}
	checkPushGolden(t, "sendnotificationresult-unsubscribe.xml", reply)
	msgs := rec.seen()
	var se *ews.SubscriptionError
	if len(msgs) != 1 || !errors.As(msgs[0].Err, &se) || !errors.Is(msgs[0].Err, ews.ErrorMissedNotificationEvents) || !cmp.Equal(se.SubscriptionIDs, []string{pushID}) {
		t.Errorf("callback saw %+v, want ErrorMissedNotificationEvents for %s", msgs, pushID)
	}
}

func TestNewPushHandlerRefused(t *testing.T) {
	fn := func(context.Context, *ews.PushMessage) ews.SubscriptionStatus { return ews.PushOK }
	for _, tt := range []struct {
		name string
		fn   ews.PushFunc
		opts []ews.PushOption
		want string
	}{
		{"nil func", nil, nil, "PushFunc is nil"},
		{"small limit", fn, []ews.PushOption{ews.WithPushMaxBodyBytes(10)}, "want at least 1024"},
		{"nil option", fn, []ews.PushOption{nil}, "option 0 is nil"},
		{"nil logger", fn, []ews.PushOption{ews.WithPushLogger(nil)}, "logger is nil"},
	} {
		if _, err := ews.NewPushHandler(tt.fn, tt.opts...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewPushHandler(%s) = %v, want an error mentioning %q", tt.name, err, tt.want)
		}
	}
}

// checkGoldenPath compares got with testdata/<name> (rewritten by -update).
func checkGoldenPath(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ews -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("body differs from %s (run go test ./ews -update and review the diff):\n%s", path, cmp.Diff(splitTags(want), splitTags(got)))
	}
}
