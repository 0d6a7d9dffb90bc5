package impersonation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// TestCheckUnderInjectedFaults: 5% ErrorServerBusy and 1% dropped
// connections over 2,000 users; every user still gets exactly one correct
// result (all of them OK, since every fault is transient and the budget
// allows enough attempts).
func TestCheckUnderInjectedFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 users")
	}
	f := newFake(t, scctest.ImpersonateAll(), scctest.WithSeed(7))
	users := f.addMailboxes(t, 2000)
	f.srv.InjectFraction(0.05, scctest.ServerBusy(2*time.Millisecond))
	f.srv.InjectFraction(0.01, scctest.DropConnection())
	var calls atomic.Int64
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(
		WithConcurrency(MaxConcurrency),
		WithRetryBudget(RetryBudget{MaxAttempts: 10, BaseDelay: time.Millisecond}),
		WithProgress(func(Progress) { calls.Add(1) }),
	)...)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	assertOneResultPerUser(t, rep, users)
	if rep.Counts[StatusOK] != len(users) {
		for _, res := range rep.Results {
			if res.Status != StatusOK {
				t.Errorf("%s: %s %s %s after %d attempts", res.Address, res.Status, res.Code, res.Message, res.Attempts)
				break
			}
		}
		t.Fatalf("counts = %v, want all %d ok", rep.Counts, len(users))
	}
	st := f.srv.Stats()
	if st.Faults[ews.ErrorServerBusy] == 0 || st.Dropped == 0 {
		t.Errorf("server injected %d ErrorServerBusy and %d dropped connections, want some of each", st.Faults[ews.ErrorServerBusy], st.Dropped)
	}
	retried := 0
	for _, res := range rep.Results {
		if res.Attempts > 1 {
			retried++
		}
	}
	if retried == 0 {
		t.Errorf("no user needed a retry, want the injected faults to be retried")
	}
	if got := calls.Load(); got != int64(len(users)) {
		t.Errorf("progress called %d times, want %d", got, len(users))
	}
}

// TestCheckCancelMidRun cancels the context after some results and expects
// the partial report promptly, the rest not-checked.
func TestCheckCancelMidRun(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 300)
	f.srv.SetLatency(2*time.Millisecond, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := CheckUsers(ctx, f.cfg, users, f.options(WithConcurrency(4), WithProgress(func(p Progress) {
		if p.Done == 50 {
			cancel()
		}
	}))...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckUsers() error = %v, want context.Canceled", err)
	}
	assertOneResultPerUser(t, rep, users)
	if rep.Counts[StatusOK] < 50 || rep.Counts[StatusNotChecked] == 0 || rep.Counts[StatusOK]+rep.Counts[StatusNotChecked] != len(users) {
		t.Errorf("counts = %v, want ≥ 50 ok and the rest not-checked", rep.Counts)
	}
	if rep.Stopped == nil || rep.Stopped.Status != StatusNotChecked {
		t.Errorf("Stopped = %+v, want a not-checked stop", rep.Stopped)
	}
	if n := f.srv.Stats().Operations["GetFolder"]; n > 50+1+2*4 {
		t.Errorf("server saw %d GetFolder requests after cancelling at 50, want the workers to stop", n)
	}
}

// TestCheckCancelCountsEveryUnchecked: after a cancel, the users whose
// requests were in flight and those never started say the same thing, so
// that the table's "What to do" and the stop cover all of them, not only
// the few that were in flight.
func TestCheckCancelCountsEveryUnchecked(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 20)
	blocked := map[string]bool{}
	for _, u := range users[10:] {
		blocked[u.PrimarySMTP] = true
	}
	f.srv.React("GetFolder", "", func(c scctest.Call) scctest.Reaction {
		if c.Impersonated && blocked[c.Mailbox] {
			return scctest.Reaction{Delay: time.Hour} // until the check gives up the request
		}
		return scctest.Reaction{}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := CheckUsers(ctx, f.cfg, users, f.options(WithConcurrency(4), WithProgress(func(p Progress) {
		if p.Done == 10 {
			cancel()
		}
	}))...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckUsers() error = %v, want context.Canceled", err)
	}
	assertOneResultPerUser(t, rep, users)
	if rep.Counts[StatusOK] != 10 || rep.Counts[StatusNotChecked] != 10 {
		t.Fatalf("counts = %v, want 10 ok and 10 not-checked", rep.Counts)
	}
	for _, res := range rep.Results {
		if res.Status != StatusNotChecked {
			continue
		}
		if res.Message != "not checked: "+rep.Stopped.Reason || res.Remediation != rep.Stopped.Remediation {
			t.Errorf("%s: message %q, remediation %q; want the stop's %q, %q", res.Address, res.Message, res.Remediation,
				"not checked: "+rep.Stopped.Reason, rep.Stopped.Remediation)
		}
	}
	var out strings.Builder
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "[not-checked ×") || !strings.Contains(rep.Stopped.Reason, "10 of 20") {
		t.Errorf("WriteTable() =\n%s\nwant one stop covering the 10 unchecked users and no per-status not-checked line", out.String())
	}
}

// TestCheckBackOffBeyondBudget: a server back-off longer than the wait
// budget ends as throttled results instead of a hang, and no request is
// sent before the back-off ends.
func TestCheckBackOffBeyondBudget(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 20)
	f.srv.React("GetFolder", users[0].PrimarySMTP, func(scctest.Call) scctest.Reaction {
		return scctest.Reaction{Fault: scctest.ServerBusy(10 * time.Minute)}
	})
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(1),
		WithRetryBudget(RetryBudget{MaxWait: 50 * time.Millisecond, BaseDelay: 1}))...)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	assertOneResultPerUser(t, rep, users)
	res, _ := rep.Result(0)
	if res.Status != StatusThrottled || res.Code != ews.ErrorServerBusy || res.Attempts != 1 {
		t.Errorf("first user = %s/%s after %d attempts, want throttled/ErrorServerBusy after 1", res.Status, res.Code, res.Attempts)
	}
	if rep.Counts[StatusThrottled] != len(users) {
		t.Errorf("counts = %v, want every user throttled (nobody may send during the 10-minute back-off)", rep.Counts)
	}
	if n := f.srv.Stats().Operations["GetFolder"]; n != 2 {
		t.Errorf("server saw %d GetFolder requests, want 2 (preflight + the throttled one)", n)
	}
}

// TestCheckPausesAllWorkersOnBackOff: once the check has paused for a
// server back-off, no new request reaches the server until it ends; only
// requests already in flight may still arrive.
func TestCheckPausesAllWorkersOnBackOff(t *testing.T) {
	// With one attempt per user the throttled user gives up at once, and
	// the back-off must still hold every other worker.
	for _, attempts := range []int{5, 1} {
		t.Run(fmt.Sprintf("%d attempts", attempts), func(t *testing.T) {
			testPausesAllWorkers(t, attempts)
		})
	}
}

func testPausesAllWorkers(t *testing.T, attempts int) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 60)
	const backOff = 100 * time.Millisecond
	const workers = 8
	var sent atomic.Bool
	var mu sync.Mutex
	var arrivals []time.Time
	f.srv.React("GetFolder", "", func(c scctest.Call) scctest.Reaction {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		if c.Mailbox == users[10].PrimarySMTP && sent.CompareAndSwap(false, true) {
			return scctest.Reaction{Fault: scctest.ServerBusy(backOff)}
		}
		return scctest.Reaction{}
	})
	pauses := &recordingHandler{msg: "all workers paused"}
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(workers),
		WithRetryBudget(RetryBudget{MaxAttempts: attempts, BaseDelay: 1}), WithLogger(slog.New(pauses)))...)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	assertOneResultPerUser(t, rep, users)
	wantOK := len(users)
	if attempts == 1 {
		wantOK--
		if res, _ := rep.Result(10); res.Status != StatusThrottled {
			t.Errorf("throttled user = %s, want throttled after its single attempt", res.Status)
		}
	}
	if rep.Counts[StatusOK] != wantOK {
		t.Errorf("counts = %v, want %d ok", rep.Counts, wantOK)
	}
	paused := pauses.times()
	if len(paused) != 1 {
		t.Fatalf("the check paused %d times, want 1", len(paused))
	}
	// The pause began at or before paused[0] and lasts backOff; leave a
	// margin at the end for the clock reads.
	early := 0
	mu.Lock()
	for _, at := range arrivals {
		if at.After(paused[0]) && at.Before(paused[0].Add(backOff-10*time.Millisecond)) {
			early++
		}
	}
	mu.Unlock()
	if early > workers-1 {
		t.Errorf("%d requests arrived during the back-off, want at most the %d already in flight", early, workers-1)
	}
}

// recordingHandler is a slog.Handler that records when a message was
// logged.
type recordingHandler struct {
	msg string
	mu  sync.Mutex
	at  []time.Time
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.msg) {
		h.mu.Lock()
		h.at = append(h.at, time.Now())
		h.mu.Unlock()
	}
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }
func (h *recordingHandler) times() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.at...)
}

// TestCheckLowersConcurrency: with a server limit of 3 concurrent requests,
// ErrorExceededConnectionCount lowers the check's concurrency and every
// user still passes.
func TestCheckLowersConcurrency(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 120)
	f.srv.SetLatency(time.Millisecond, time.Millisecond)
	f.srv.SetMaxConcurrency(3)
	var last atomic.Int64
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(12),
		WithRetryBudget(RetryBudget{MaxAttempts: 20, BaseDelay: time.Millisecond}),
		WithProgress(func(p Progress) { last.Store(int64(p.Concurrency)) }))...)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	assertOneResultPerUser(t, rep, users)
	if rep.Counts[StatusOK] != len(users) {
		t.Errorf("counts = %v, want all ok", rep.Counts)
	}
	if f.srv.Stats().Faults[ews.ErrorExceededConnectionCount] > 0 && last.Load() >= 12 {
		t.Errorf("concurrency stayed at %d after ErrorExceededConnectionCount, want it lowered", last.Load())
	}
}

// TestCheckAuthFailureMidRun: a 401 in the middle of the run stops it.
func TestCheckAuthFailureMidRun(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 100)
	f.srv.React("GetFolder", users[20].PrimarySMTP, func(scctest.Call) scctest.Reaction {
		return scctest.Reaction{Fault: scctest.HTTPStatus(http.StatusUnauthorized)}
	})
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(1))...)
	var se *StopError
	if !errors.As(err, &se) || se.Status != StatusAuthFailed {
		t.Fatalf("CheckUsers() error = %v, want an auth-failed *StopError", err)
	}
	assertOneResultPerUser(t, rep, users)
	if rep.Counts[StatusAuthFailed] != 1 || rep.Counts[StatusOK] != 20 || rep.Counts[StatusNotChecked] != 79 {
		t.Errorf("counts = %v, want 20 ok, 1 auth-failed, 79 not-checked", rep.Counts)
	}
}

// TestCheckOrganization runs Check on an org.Organization with SID, UPN and
// SMTP identities.
func TestCheckOrganization(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	m1, _ := f.srv.AddMailbox(scctest.Mailbox{PrimarySMTP: "sid@contoso.example"})
	m2, _ := f.srv.AddMailbox(scctest.Mailbox{PrimarySMTP: "upn@contoso.example", UPN: "upn@corp.contoso.example"})
	m3, _ := f.srv.AddMailbox(scctest.Mailbox{PrimarySMTP: "smtp@contoso.example", ProxyAddresses: []string{"alias@contoso.example"}})
	o := &org.Organization{Name: "Contoso", Email: f.cfg, Users: []org.User{
		{PrimarySMTP: m1.PrimarySMTP, SID: m1.SID, ImpersonateBy: org.IdentitySID},
		{PrimarySMTP: m2.PrimarySMTP, UPN: m2.UPN, ImpersonateBy: org.IdentityUPN},
		{PrimarySMTP: m3.PrimarySMTP, ImpersonateBy: org.IdentitySMTP},
	}}
	rep, err := Check(context.Background(), o, f.options()...)
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	assertOneResultPerUser(t, rep, o.Users)
	want := map[string]string{"sid@contoso.example": "SID", "upn@contoso.example": "PrincipalName", "smtp@contoso.example": "SmtpAddress"}
	for _, res := range rep.Results {
		if res.Status != StatusOK || res.IdentityKind != want[res.Address] {
			t.Errorf("%s: %s via %s, want ok via %s (%s)", res.Address, res.Status, res.IdentityKind, want[res.Address], res.Message)
		}
		f.srv.AssertImpersonated(t, res.Address)
	}
}

// TestCheckLeavesNoGoroutines: when Check returns, every goroutine it
// started has ended, its keep-alive connections included, whether it ran
// to the end, lowered its concurrency, was stopped or was cancelled. (A
// long-running admin service runs many checks; each must clean up.)
func TestCheckLeavesNoGoroutines(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fake)
	}{
		{"all ok", func(*fake) {}},
		{"concurrency lowered", func(f *fake) {
			f.srv.InjectFraction(0.2, scctest.SOAPFault(ews.ErrorExceededConnectionCount, "too many concurrent connections"))
		}},
		{"stopped", func(f *fake) {
			if err := f.srv.SetGrant(testLogon, scctest.NoImpersonation()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, scctest.ImpersonateAll())
			users := f.addMailboxes(t, 60)
			tc.setup(f)
			before := runtime.NumGoroutine()
			if _, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(12))...); err != nil && tc.name == "all ok" {
				t.Fatalf("CheckUsers() error = %v", err)
			}
			waitGoroutines(t, before)
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		f := newFake(t, scctest.ImpersonateAll())
		users := f.addMailboxes(t, 200)
		f.srv.SetLatency(time.Millisecond, 0)
		before := runtime.NumGoroutine()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := CheckUsers(ctx, f.cfg, users, f.options(WithConcurrency(8), WithProgress(func(p Progress) {
			if p.Done == 20 {
				cancel()
			}
		}))...)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("CheckUsers() error = %v, want context.Canceled", err)
		}
		waitGoroutines(t, before)
	})
}

// waitGoroutines waits (a bounded while: the server's side of a closed
// connection ends asynchronously) for the goroutine count to fall back to
// before, and fails with the stacks if it does not.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines after the check, %d before; stacks:\n%s", n, before, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCheckStalledMailbox: a request the server never answers is bounded
// by the request timeout even when the caller's HTTP client has none (the
// test server's client has none): the stalled user is reported as a
// network timeout after its attempts, the others are checked, and the
// check returns without the caller cancelling anything.
func TestCheckStalledMailbox(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 6)
	stalled := users[2].PrimarySMTP
	f.srv.React("GetFolder", stalled, func(scctest.Call) scctest.Reaction { return scctest.Reaction{Delay: time.Hour} })
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(
		// Long enough that the healthy users answer in time on a loaded
		// machine under -race; the stalled one never answers.
		WithRequestTimeout(2*time.Second),
		WithRetryBudget(RetryBudget{MaxAttempts: 2, BaseDelay: time.Millisecond}),
	)...)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	assertOneResultPerUser(t, rep, users)
	for _, res := range rep.Results {
		want := StatusOK
		if res.Address == stalled {
			want = StatusNetworkError
		}
		if res.Status != want {
			t.Errorf("%s: status %s (%s), want %s", res.Address, res.Status, res.Message, want)
		}
		if res.Address == stalled && (res.Attempts != 2 || !strings.Contains(res.Remediation, "did not answer in time")) {
			t.Errorf("%s: %d attempts, remediation %q; want 2 attempts and a timeout remediation", res.Address, res.Attempts, res.Remediation)
		}
	}
}

// TestCheckStopsWhenServerStopsAnswering: when Exchange accepts requests but
// answers none (after the preflight), the check stops once
// MaxConsecutiveTimeouts requests in a row went unanswered instead of
// working through every user, with a stop that says so; every other user
// is not-checked with that reason, and there is exactly one result per
// user.
func TestCheckStopsWhenServerStopsAnswering(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 200)
	f.srv.React("GetFolder", "", func(c scctest.Call) scctest.Reaction {
		if c.Impersonated {
			return scctest.Reaction{Delay: time.Hour}
		}
		return scctest.Reaction{}
	})
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(
		WithConcurrency(4),
		// The preflight must answer within it on a loaded machine under
		// -race; the impersonated requests never answer.
		WithRequestTimeout(time.Second),
		WithRetryBudget(RetryBudget{MaxAttempts: 2, BaseDelay: time.Millisecond}),
	)...)
	var se *StopError
	if !errors.As(err, &se) || !errors.Is(err, ErrNotAnswering) || se.Status != StatusNetworkError {
		t.Fatalf("CheckUsers() error = %v, want a *StopError matching ErrNotAnswering with status network-error", err)
	}
	if !strings.Contains(se.Reason, "stopped answering") || !strings.Contains(se.Reason, "8 requests in a row") {
		t.Errorf("stop reason = %q, want it to say Exchange stopped answering after 8 requests in a row (2 × concurrency 4)", se.Reason)
	}
	assertOneResultPerUser(t, rep, users)
	notChecked := 0
	for _, res := range rep.Results {
		switch res.Status {
		case StatusNotChecked:
			notChecked++
			if res.Message != "not checked: "+se.Reason {
				t.Errorf("%s: message %q, want %q", res.Address, res.Message, "not checked: "+se.Reason)
			}
		case StatusNetworkError:
		default:
			t.Errorf("%s: status %s (%s), want not-checked or network-error", res.Address, res.Status, res.Message)
		}
	}
	// At most 8 timed-out requests (plus those in flight when the stop
	// came) reached users: far fewer than the 200 × 2 the run would
	// otherwise spend.
	if notChecked < len(users)-2*4 {
		t.Errorf("%d users not checked, want at least %d (the stop came after 8 unanswered requests)", notChecked, len(users)-2*4)
	}
}

func TestWithRequestTimeoutRejectsNonPositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		if _, err := CheckUsers(context.Background(), org.EmailConfiguration{}, nil, WithRequestTimeout(d)); err == nil || !strings.Contains(err.Error(), "WithRequestTimeout") {
			t.Errorf("CheckUsers(WithRequestTimeout(%v)) error = %v, want one naming WithRequestTimeout", d, err)
		}
	}
}

// TestCheckRecoversAPanic: a panic while checking one user (here in the
// caller's token source; it could be a bug of ours on a strange answer)
// becomes that user's error result. The other users are still checked,
// with the concurrency slot the panicking request held given back, and the
// process does not crash.
func TestCheckRecoversAPanic(t *testing.T) {
	const appID = "8f3c2b1a-1111-4222-8333-944455556666"
	srv := scctest.NewTLSServer(t)
	var users []org.User
	for i := range 8 {
		a := fmt.Sprintf("user%d@contoso.example", i)
		if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: a}); err != nil {
			t.Fatal(err)
		}
		users = append(users, org.User{PrimarySMTP: a})
	}
	if err := srv.AddToken("app-token", scctest.Token{Kind: scctest.AppOnly, AppID: appID}); err != nil {
		t.Fatal(err)
	}
	cfg := org.EmailConfiguration{
		AccessType:   org.OnlineAppOnly,
		EWSURL:       srv.EWSURL(),
		TenantID:     "contoso.onmicrosoft.com",
		ClientID:     appID,
		ClientSecret: org.NewSecret("client-secret"),
	}
	var calls atomic.Int64
	token := WithBearerToken(func(context.Context) (string, error) {
		if calls.Add(1) == 3 { // the preflight is call 1
			panic("token source bug")
		}
		return "app-token", nil
	})
	rep, err := CheckUsers(context.Background(), cfg, users,
		WithConcurrency(1), WithHTTPClient(srv.Client()), token)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	assertOneResultPerUser(t, rep, users)
	if rep.Counts[StatusOK] != len(users)-1 || rep.Counts[StatusError] != 1 {
		t.Fatalf("counts = %v, want %d ok and 1 error", rep.Counts, len(users)-1)
	}
	if res := rep.Results[0]; !strings.Contains(res.Message, "panic") || !strings.Contains(res.Message, "token source bug") {
		t.Errorf("the failed user's message = %q, want it to name the panic", res.Message)
	}
}

// TestCheckProgressPanic: a panic in the caller's progress callback, which
// runs on a goroutine of the check, reaches the caller's goroutine (where
// it can be recovered) after every goroutine of the check has ended.
func TestCheckProgressPanic(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 40)
	before := runtime.NumGoroutine()
	got := func() (v any) {
		defer func() { v = recover() }()
		CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(4), WithProgress(func(p Progress) {
			if p.Done == 3 {
				panic("progress bar bug")
			}
		}))...)
		return nil
	}()
	if got != "progress bar bug" {
		t.Fatalf("CheckUsers() with a panicking progress callback panicked with %v, want %q", got, "progress bar bug")
	}
	waitGoroutines(t, before)
}

// TestCheckReportsPreflightThrottling: back-offs that all hit the preflight
// leave every user with one attempt, so the per-user "Retried N users"
// line stays silent; the table's summary and the JSON must still show
// that the preflight was throttled.
func TestCheckReportsPreflightThrottling(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 3)
	f.srv.InjectNext(3, scctest.ServerBusy(20*time.Millisecond))
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options()...)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	if rep.Counts[StatusOK] != 3 {
		t.Fatalf("counts = %v, want 3 ok", rep.Counts)
	}
	if p := rep.Preflight; p.Status != StatusOK || p.Attempts != 4 || p.Throttled != 3 {
		t.Errorf("Preflight = %+v, want status ok, 4 attempts, 3 throttled", *p)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if want := "The preflight was throttled 3 times before it succeeded"; !strings.Contains(table.String(), want) {
		t.Errorf("WriteTable() =\n%s\nwant it to contain %q", table.String(), want)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Preflight struct {
			Attempts  int `json:"attempts"`
			Throttled int `json:"throttled"`
		} `json:"preflight"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if j.Preflight.Attempts != 4 || j.Preflight.Throttled != 3 {
		t.Errorf("JSON preflight = %+v, want attempts 4, throttled 3:\n%s", j.Preflight, b)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Preflight.Attempts != 4 || back.Preflight.Throttled != 3 {
		t.Errorf("JSON round trip Preflight = %+v, want attempts 4, throttled 3", *back.Preflight)
	}
}

// TestPreflightRetryLine: the summary line for each way the preflight can
// have needed more than one request.
func TestPreflightRetryLine(t *testing.T) {
	tests := []struct {
		p    *Preflight
		want string
	}{
		{nil, ""},
		{&Preflight{Status: StatusOK, Attempts: 1}, ""},
		{&Preflight{Status: StatusOK, Attempts: 4, Throttled: 3}, "The preflight was throttled 3 times before it succeeded; back-offs paused the check."},
		{&Preflight{Status: StatusOK, Attempts: 2, Throttled: 1}, "The preflight was throttled once before it succeeded; back-offs paused the check."},
		{&Preflight{Status: StatusOK, Attempts: 4, Throttled: 1}, "The preflight was throttled once and retried 3 times in all before it succeeded; back-offs paused the check."},
		{&Preflight{Status: StatusOK, Attempts: 3}, "The preflight was retried twice after transient failures before it succeeded."},
		{&Preflight{Status: StatusThrottled, Attempts: 5, Throttled: 5}, "The preflight was throttled 5 times and sent 5 requests before it gave up; back-offs paused the check."},
		{&Preflight{Status: StatusNetworkError, Attempts: 3}, "The preflight was retried twice after transient failures and sent 3 requests before it gave up."},
	}
	for _, tt := range tests {
		if got := tt.p.retryLine(); got != tt.want {
			t.Errorf("(%+v).retryLine() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
