package impersonation

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// errOverBudget is returned by backoffGate.wait when the server's back-off
// reaches beyond what the retry budget allows; the user is then reported as
// throttled instead of the check hanging.
var errOverBudget = errors.New("impersonation: server back-off exceeds the retry budget")

// backoffGate is shared by every worker of one service account. When
// Exchange asks to back off (ErrorServerBusy with BackOffMilliseconds, or
// HTTP 503), pause closes the gate for that long and every worker waits at
// it before its next request, so the whole account backs off together, as
// Microsoft's throttling guidance asks.
//
// The total time the gate may stay closed over one run is bounded by the
// wait budget. A back-off that does not fit is still honoured (no request
// is sent before it ends), but workers that reach the closed gate give up
// at once instead of waiting.
type backoffGate struct {
	now func() time.Time

	mu         sync.Mutex
	until      time.Time     // closed until then
	overBudget bool          // the current closure exceeds the budget
	budget     time.Duration // total closure allowed
	spent      time.Duration // closure committed so far
	last       time.Duration // the last back-off the server asked for
}

func newBackoffGate(budget time.Duration, now func() time.Time) *backoffGate {
	return &backoffGate{budget: budget, now: now}
}

// pause closes the gate for d from now. It reports whether the pause fits
// in the wait budget.
func (g *backoffGate) pause(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	g.last = d
	end := now.Add(d)
	if !end.After(g.until) {
		return !g.overBudget
	}
	start := g.until
	if start.Before(now) {
		start = now
		g.overBudget = false
	}
	extra := end.Sub(start)
	g.until = end
	if g.overBudget || g.spent+extra > g.budget {
		g.overBudget = true
		return false
	}
	g.spent += extra
	return true
}

// wait blocks until the gate is open. It returns errOverBudget when the
// current closure exceeds the wait budget, and ctx's error when ctx ends
// first.
func (g *backoffGate) wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		now := g.now()
		until, over := g.until, g.overBudget
		g.mu.Unlock()
		if !until.After(now) {
			return ctx.Err()
		}
		if over {
			return errOverBudget
		}
		t := time.NewTimer(until.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// lastBackoff is the last back-off the server asked for, for messages.
func (g *backoffGate) lastBackoff() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last
}

// concurrencyLimiter bounds the number of requests in flight for one
// service account. Its limit starts at the configured concurrency and is
// lowered, one step at a time down to 1, whenever Exchange answers
// ErrorExceededConnectionCount (the account's EWSMaxConcurrency is lower
// than we assumed).
type concurrencyLimiter struct {
	sem *semaphore.Weighted

	mu    sync.Mutex
	limit int
	owed  int // slots to retire as they are released
}

func newConcurrencyLimiter(n int) *concurrencyLimiter {
	return &concurrencyLimiter{sem: semaphore.NewWeighted(int64(n)), limit: n}
}

func (l *concurrencyLimiter) acquire(ctx context.Context) error { return l.sem.Acquire(ctx, 1) }

// release gives a slot back, or retires it when lower owes one.
func (l *concurrencyLimiter) release() {
	l.mu.Lock()
	if l.owed > 0 {
		l.owed--
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	l.sem.Release(1)
}

// lower reduces the limit by one (never below 1) and reports the new
// limit. A free slot is retired at once; when every slot is in use, the
// next one released is retired instead of given back.
func (l *concurrencyLimiter) lower() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit <= 1 {
		return 1
	}
	l.limit--
	if !l.sem.TryAcquire(1) {
		l.owed++
	}
	return l.limit
}

// current is the current limit.
func (l *concurrencyLimiter) current() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// retryDelay is the exponential back-off with full jitter for attempt n
// (1-based) when the server gave no back-off of its own: a random duration
// in [base/2, base·2^(n-1)], capped at max.
func retryDelay(base, max time.Duration, n int) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	lo := base / 2
	if d <= lo {
		return d
	}
	return lo + rand.N(d-lo+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
