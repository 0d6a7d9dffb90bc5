package ews_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// BenchmarkInitialSync10000 is the first SyncFolderItems of a folder of
// 10,000 messages through SyncItems against the fake over TLS, as a
// sync engine's baseline: issue 12 asks for ⌈10,000 / 512⌉ = 20 requests
// and a fake that answers a 512-change page within 20 ms. It reports the
// requests per sync and the slowest page's time as the client saw it
// (request, answer and parse); the fake's own share is the scctest
// BenchmarkSyncFolderItemsPage.
func BenchmarkInitialSync10000(b *testing.B) {
	const items = 10000
	s := scctest.NewTLSServer(b)
	const addr = "alice@contoso.example"
	if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: addr}); err != nil {
		b.Fatal(err)
	}
	if err := s.AddServiceAccount(svcLogon, svcPassword, scctest.ImpersonateAll()); err != nil {
		b.Fatal(err)
	}
	for i := range items {
		if _, err := s.AddItem(addr, "inbox", scctest.Message{Subject: fmt.Sprintf("message %05d", i), Body: "hello"}); err != nil {
			b.Fatal(err)
		}
	}
	c, err := ews.NewClient(s.EWSURL(), ews.WithHTTPClient(s.Client()), ews.WithBasicAuth(svcLogon, svcPassword))
	if err != nil {
		b.Fatal(err)
	}
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress(addr)))
	ctx := context.Background()
	req := &ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderInbox), MaxChanges: ews.MaxSyncChanges,
		AdditionalProperties: []ews.FieldURI{ews.FieldItemSubject}}
	var requests, slowest time.Duration
	var pages int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sent := s.Stats().Requests
		changes, n := 0, 0
		last := time.Now()
		for page, err := range alice.SyncItems(ctx, req) {
			if err != nil {
				b.Fatal(err)
			}
			if d := time.Since(last); d > slowest {
				slowest = d
			}
			changes += len(page.Changes)
			n++
			last = time.Now()
		}
		if changes != items {
			b.Fatalf("initial sync handed %d changes, want %d", changes, items)
		}
		requests += time.Duration(s.Stats().Requests - sent)
		pages = n
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/sync")
	b.ReportMetric(float64(pages), "pages")
	b.ReportMetric(float64(slowest.Microseconds())/1000, "slowest-page-ms")
}
