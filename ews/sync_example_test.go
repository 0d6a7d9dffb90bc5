package ews_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
)

// exampleSyncServer stands in for Exchange: it answers SyncFolderItems
// with the first page to a request without a SyncState and the last page
// to one that continues from it.
func exampleSyncServer() *httptest.Server {
	page1, _ := os.ReadFile("testdata/responses/syncfolderitems-page1.xml")
	page2, _ := os.ReadFile("testdata/responses/syncfolderitems-page2.xml")
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		if bytes.Contains(body, []byte("<m:SyncState>")) {
			w.Write(page2)
			return
		}
		w.Write(page1)
	}))
}

func ExampleClient_SyncItems() {
	srv := exampleSyncServer()
	defer srv.Close()
	c, err := ews.NewClient(srv.URL + "/EWS/Exchange.asmx")
	if err != nil {
		log.Fatal(err)
	}
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.com")))

	stored := "" // the state persisted after the last run; empty the first time
	req := &ews.SyncFolderItemsRequest{
		FolderID:             ews.DistinguishedFolder(ews.FolderContacts),
		SyncState:            stored,
		AdditionalProperties: []ews.FieldURI{ews.FieldItemItemClass, ews.FieldItemSubject},
	}
	for page, err := range alice.SyncItems(context.Background(), req) {
		if errors.Is(err, ews.ErrorInvalidSyncStateData) {
			// The state is no longer usable: forget it and sync from scratch.
			stored = ""
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		for _, ch := range page.Changes {
			fmt.Println(ch.Type, ch.Item.Kind, ch.ItemID.ID)
		}
		stored = page.SyncState // persist it only now that the page is applied
	}
	fmt.Println("state:", stored)
	// Output:
	// Create Contact AAMkIcon7=
	// Create MeetingRequest AQApAHRwA==
	// Update CalendarItem AAMkIcal8=
	// Delete  AAMkIcon1=
	// ReadFlagChange  AAMkImsg3=
	// Create Task AAMkItask9=
	// state: H4sIAAAAAAAEAO29B2AcSZpage2
}

func ExampleClient_GetStreamingEvents() {
	// A stand-in for Exchange that streams a keep-alive, a notification and
	// the Closed that ends the connection.
	var stream []byte
	for _, f := range []string{"ok", "notification", "closed"} {
		b, _ := os.ReadFile("testdata/responses/getstreamingevents-" + f + ".xml")
		stream = append(stream, b...)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(stream)
	}))
	defer srv.Close()
	c, err := ews.NewClient(srv.URL + "/EWS/Exchange.asmx")
	if err != nil {
		log.Fatal(err)
	}

	// One group per set of up to 200 mailboxes; its stream impersonates the
	// anchor and carries the group's backend cookie.
	group, err := ews.NewAffinityGroup("alfred@contoso.com")
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	s, err := c.GetStreamingEvents(ctx, &ews.GetStreamingEventsRequest{
		SubscriptionIDs:   []string{"JgBibjFwcjAz", "JgBibjFwcjA0"},
		ConnectionTimeout: 30 * time.Minute,
	}, ews.Impersonate(ews.PrimarySmtpAddress(group.Anchor())), ews.Affinity(group))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	for {
		m, err := s.Next()
		if err == io.EOF {
			fmt.Println("closed: reconnect with the same subscriptions")
			break
		}
		if err != nil {
			log.Fatal(err) // the connection failed: reconnect, then resync
		}
		if m.Err != nil {
			fmt.Println("subscription error:", m.Code)
			continue
		}
		if m.ConnectionStatus == ews.ConnectionOK {
			fmt.Println("keep-alive")
		}
		for _, n := range m.Notifications {
			for _, e := range n.Events {
				fmt.Println(n.SubscriptionID, e.Type, e.ParentFolderID.ID)
			}
		}
	}
	// Output:
	// keep-alive
	// JgBibjFwcjAz CreatedEvent AAMkFinbox=
	// JgBibjFwcjAz NewMailEvent AAMkFinbox=
	// JgBibjFwcjAz ModifiedEvent AAMkFroot=
	// JgBibjFwcjA0 MovedEvent AAMkFdel=
	// closed: reconnect with the same subscriptions
}

func ExampleNewPushHandler() {
	known := map[string]bool{"83826921-afdf-48be-b469-628cc02b5f49": true}
	h, err := ews.NewPushHandler(func(ctx context.Context, m *ews.PushMessage) ews.SubscriptionStatus {
		if !known[m.Notification.SubscriptionID] {
			return ews.PushUnsubscribe
		}
		for _, e := range m.Notification.Events {
			fmt.Println("event:", e.Type) // hand off to a queue; answer quickly
		}
		return ews.PushOK
	})
	if err != nil {
		log.Fatal(err)
	}
	// Serve it where the push subscription's URL points, e.g.
	// http.Handle("/ews/push/<token>", h). Here, a notification as Exchange
	// would POST it:
	srv := httptest.NewServer(h)
	defer srv.Close()
	body, _ := os.ReadFile("testdata/push/sendnotification-status.xml")
	resp, err := http.Post(srv.URL, "text/xml; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.Contains(string(answer), "<m:SubscriptionStatus>OK</m:SubscriptionStatus>"))
	// Output:
	// event: StatusEvent
	// 200 true
}

// ExampleClient_SubscribeStreaming subscribes the mailboxes of one
// affinity group; no server answers here, so it has no output.
func ExampleClient_SubscribeStreaming() {
	c, err := ews.NewClient("https://outlook.office365.com/EWS/Exchange.asmx")
	if err != nil {
		log.Fatal(err)
	}
	group, err := ews.NewAffinityGroup("alfred@contoso.com")
	if err != nil {
		log.Fatal(err)
	}
	var ids []string
	for _, member := range []string{"alfred@contoso.com", "alisa@contoso.com"} {
		s, err := c.SubscribeStreaming(context.Background(), &ews.StreamingSubscriptionRequest{
			SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: ews.AllEventTypes()},
		}, ews.Impersonate(ews.PrimarySmtpAddress(member)), ews.Affinity(group))
		if errors.Is(err, ews.ErrorExceededSubscriptionCount) {
			continue // the mailbox has too many subscriptions
		}
		if err != nil {
			log.Print(err)
			continue
		}
		ids = append(ids, s.ID)
	}
	_ = ids // then c.GetStreamingEvents(ctx, ids..., Impersonate(anchor), Affinity(group))
}
