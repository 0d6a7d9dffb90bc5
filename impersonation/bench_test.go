package impersonation

import (
	"context"
	"testing"

	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// BenchmarkCheckUsers measures a whole check per operation (preflight plus
// one impersonated GetFolder per user) against the fake over TLS with
// Basic auth; users/s is the figure to compare. The large runs (10,000 users
// at 20 ms latency, 100,000 users) are in examples/checkaccess's benchmark
// mode.
func BenchmarkCheckUsers(b *testing.B) {
	f := newFake(b, scctest.ImpersonateAll())
	f.cfg.AuthMethod = org.AuthBasic // no NTLM handshakes in the figure
	users := f.addMailboxes(b, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(MaxConcurrency))...)
		if err != nil || rep.Counts[StatusOK] != len(users) {
			b.Fatalf("CheckUsers() = %v, %v", rep.Counts, err)
		}
	}
	b.ReportMetric(float64(b.N*len(users))/b.Elapsed().Seconds(), "users/s")
}
