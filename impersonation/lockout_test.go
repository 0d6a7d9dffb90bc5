package impersonation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// passwordChangedMidRun runs a check of 200 users at concurrency 27 with
// method, changes the service account's password on the server after 50
// results, and returns the failed logons the server counted.
func passwordChangedMidRun(t *testing.T, method org.AuthMethod) int {
	t.Helper()
	f := newFake(t, scctest.ImpersonateAll())
	f.cfg.AuthMethod = method
	users := f.addMailboxes(t, 200)
	f.srv.SetLatency(2*time.Millisecond, 2*time.Millisecond)
	changed := false
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(MaxConcurrency), WithProgress(func(p Progress) {
		if p.Done == 50 && !changed {
			changed = true
			if err := f.srv.SetPassword(testLogon, "Changed-Elsewhere-1"); err != nil {
				t.Error(err)
			}
		}
	}))...)
	var se *StopError
	switch {
	case method == org.AuthNTLM && err == nil:
		// NTLM authenticates connections: those already authenticated
		// keep working after the change, as with IIS, and the check
		// completes without a new handshake.
	case !errors.As(err, &se) || se.Status != StatusAuthFailed:
		t.Fatalf("CheckUsers() after the password changed = %v, want an auth-failed stop", err)
	}
	assertOneResultPerUser(t, rep, users)
	return f.srv.Stats().FailedLogons[strings.ToLower(testLogon)]
}

// TestPasswordChangedMidRun: when the service account's password changes
// during a check, the check stops at the first 401 it sees; the failed
// logons are those of requests already on their way, never more than the
// concurrency. Run with -v to see the figures of several runs.
func TestPasswordChangedMidRun(t *testing.T) {
	for _, method := range []org.AuthMethod{org.AuthBasic, org.AuthNTLM} {
		t.Run(method.String(), func(t *testing.T) {
			var counts []int
			for range 5 {
				counts = append(counts, passwordChangedMidRun(t, method))
			}
			slices.Sort(counts)
			t.Logf("%s, concurrency %d: failed logons over %d runs: min %d, median %d, max %d (%v)",
				method, MaxConcurrency, len(counts), counts[0], counts[len(counts)/2], counts[len(counts)-1], fmt.Sprint(counts))
			if counts[len(counts)-1] > MaxConcurrency {
				t.Errorf("failed logons %v, want at most %d (the requests in flight)", counts, MaxConcurrency)
			}
		})
	}
}

// TestAuthGateHoldsBackRequests: once one request of a run got its password
// rejected, the run writes no further request, whichever worker sends it
// (a retry, the next user, a write probe), even before the stop is set.
func TestAuthGateHoldsBackRequests(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	client, err := ews.NewClient(srv.URL+"/EWS/Exchange.asmx", ews.WithBasicAuth(testLogon, testPassword), ews.WithInsecureHTTP(),
		ews.WithRetryPolicy(ews.NoRetries()))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newSettings(nil)
	r := newRun(s, org.EmailConfiguration{}, nil)
	r.limiter = newConcurrencyLimiter(2)
	call := func(ctx context.Context) error {
		_, err := client.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}})
		return err
	}
	for i, want := range []int64{1, 1, 1} {
		if err := r.limiter.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
		err, _ := r.send(context.Background(), call)
		if got := requests.Load(); got != want {
			t.Errorf("after send %d the server saw %d requests, want %d", i+1, got, want)
		}
		if i > 0 && !errors.Is(err, errAuthGateClosed) {
			t.Errorf("send %d after a rejected password = %v, want errAuthGateClosed", i+1, err)
		}
	}
}
