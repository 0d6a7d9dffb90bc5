package scctest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// Push notifications: the fake POSTs SendNotification to the callback of a
// push subscription, here an ews.PushHandler on a loopback httptest
// server. The first POST, right after Subscribe, is a StatusEvent; then
// every change comes with its events. WithPushTiming shortens the
// StatusFrequency minute for tests of the idle StatusEvent and of retries.
func ExampleWithPushTiming() {
	s, _ := scctest.New(scctest.WithPushTiming(scctest.PushTiming{Minute: time.Second, Timeout: 10 * time.Second}))
	s.Start()
	defer s.Close()
	_, _ = s.AddMailbox(scctest.Mailbox{PrimarySMTP: "alice@contoso.example"})
	_ = s.AddServiceAccount(`CONTOSO\svc-sync`, "Passw0rd!", scctest.ImpersonateScope("alice@contoso.example"))

	got := make(chan ews.Notification, 16)
	h, _ := ews.NewPushHandler(func(_ context.Context, m *ews.PushMessage) ews.SubscriptionStatus {
		got <- m.Notification
		return ews.PushOK
	})
	callback := httptest.NewServer(h)
	defer callback.Close()

	c, _ := ews.NewClient(s.EWSURL(), ews.WithBasicAuth(`CONTOSO\svc-sync`, "Passw0rd!"), ews.WithInsecureHTTP())
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
	_, err := alice.SubscribePush(context.Background(), &ews.PushSubscriptionRequest{
		SubscriptionScope: ews.SubscriptionScope{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}, EventTypes: ews.AllEventTypes()},
		StatusFrequency:   30 * time.Minute,
		URL:               callback.URL + "/push/7c1d",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	show := func() {
		n := <-got
		var types []string
		for _, e := range n.Events {
			types = append(types, string(e.Type))
		}
		fmt.Println(strings.Join(types, " "))
	}
	show()
	_, _ = s.DeliverMail("alice@contoso.example", "inbox", scctest.Message{Subject: "hello"})
	show()
	// Output:
	// StatusEvent
	// CreatedEvent NewMailEvent
}
