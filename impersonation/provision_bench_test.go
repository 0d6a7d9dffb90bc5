package impersonation

import (
	"context"
	"fmt"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// BenchmarkProvisionMailbox measures provisioning one mailbox with the
// default plan's folders against the fake over TLS with Basic auth: "new"
// provisions a fresh mailbox each time (look-up and three CreateFolder),
// "verify" re-runs with the record (one GetFolder); requests/op is what
// each sends.
func BenchmarkProvisionMailbox(b *testing.B) {
	for _, mode := range []string{"new", "verify"} {
		b.Run(mode, func(b *testing.B) {
			f := newFake(b, scctest.ImpersonateAll())
			c, err := NewEWSClient(f.cfg, ews.WithHTTPClient(f.srv.Client()))
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseIdleConnections()
			plan := folderPlan()
			users := f.addMailboxes(b, 1)
			view := c.With(ews.Impersonate(ews.PrimarySmtpAddress(users[0].PrimarySMTP)))
			first, err := ProvisionMailbox(context.Background(), view, "contoso", plan, org.SyncState{})
			if err != nil {
				b.Fatal(err)
			}
			rec := org.SyncState{Folders: first.FolderIDs()}
			var fresh []string
			if mode == "new" {
				for i := 0; i < b.N; i++ {
					addr := fmt.Sprintf("new%06d@contoso.example", i)
					if _, err := f.srv.AddMailbox(scctest.Mailbox{PrimarySMTP: addr}); err != nil {
						b.Fatal(err)
					}
					fresh = append(fresh, addr)
				}
			}
			requests := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				v, st := view, rec
				if mode == "new" {
					v, st = c.With(ews.Impersonate(ews.PrimarySmtpAddress(fresh[i]))), org.SyncState{}
				}
				res, err := ProvisionMailbox(context.Background(), v, "contoso", plan, st)
				if err != nil {
					b.Fatal(err)
				}
				requests += res.Requests
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		})
	}
}
