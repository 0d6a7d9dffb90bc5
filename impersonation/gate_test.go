package impersonation

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestBackoffGateBudget(t *testing.T) {
	tests := []struct {
		name   string
		budget time.Duration
		pauses []time.Duration
		want   []bool
	}{
		{"within budget", time.Second, []time.Duration{10 * time.Millisecond}, []bool{true}},
		{"longer than budget", 100 * time.Millisecond, []time.Duration{5 * time.Minute}, []bool{false}},
		{"overlapping pauses are charged once", 100 * time.Millisecond,
			[]time.Duration{80 * time.Millisecond, 80 * time.Millisecond, 60 * time.Millisecond}, []bool{true, true, true}},
		{"zero pause is free", 0, []time.Duration{0}, []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1000, 0)
			g := newBackoffGate(tt.budget, func() time.Time { return now })
			for i, d := range tt.pauses {
				if got := g.pause(d); got != tt.want[i] {
					t.Errorf("pause(%v) #%d = %v, want %v", d, i, got, tt.want[i])
				}
			}
		})
	}
}

func TestBackoffGateOverBudgetDoesNotWait(t *testing.T) {
	g := newBackoffGate(time.Second, time.Now)
	if g.pause(time.Hour) {
		t.Fatalf("pause(1h) with a 1s budget = true, want false")
	}
	if err := g.wait(context.Background()); !errors.Is(err, errOverBudget) {
		t.Fatalf("wait() after an over-budget pause = %v, want errOverBudget", err)
	}
	if got := g.lastBackoff(); got != time.Hour {
		t.Errorf("lastBackoff() = %v, want 1h", got)
	}
}

func TestBackoffGatePausesEveryWaiter(t *testing.T) {
	g := newBackoffGate(time.Minute, time.Now)
	if !g.pause(20 * time.Millisecond) {
		t.Fatal("pause(20ms) = false, want true")
	}
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.wait(context.Background())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("wait() #%d = %v, want nil", i, err)
		}
	}
	// After the pause ended the gate is open and a new pause is charged
	// against the remaining budget.
	if err := g.wait(context.Background()); err != nil {
		t.Errorf("wait() on an open gate = %v, want nil", err)
	}
}

func TestBackoffGateCancel(t *testing.T) {
	g := newBackoffGate(time.Hour, time.Now)
	g.pause(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait(cancelled) = %v, want context.Canceled", err)
	}
}

func TestConcurrencyLimiterLower(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := newConcurrencyLimiter(3)
	if got := l.lower(); got != 2 {
		t.Errorf("lower() = %d, want 2", got)
	}
	if got := l.lower(); got != 1 {
		t.Errorf("lower() = %d, want 1", got)
	}
	if got := l.lower(); got != 1 {
		t.Errorf("lower() at 1 = %d, want 1", got)
	}
	// One slot remains usable; a second acquire must block.
	if err := l.acquire(ctx); err != nil {
		t.Fatalf("acquire() = %v", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancelShort()
	if err := l.acquire(short); err == nil {
		t.Errorf("second acquire() with limit 1 = nil, want it to block until the context ends")
	}
	l.release()
}

func TestRetryDelay(t *testing.T) {
	for n := 1; n <= 10; n++ {
		d := retryDelay(100*time.Millisecond, time.Second, n)
		if d < 50*time.Millisecond || d > time.Second {
			t.Errorf("retryDelay(100ms, 1s, %d) = %v, want within [50ms, 1s]", n, d)
		}
	}
	if d := retryDelay(0, time.Second, 3); d != 0 {
		t.Errorf("retryDelay(0, 1s, 3) = %v, want 0", d)
	}
}

// TestConcurrencyLimiterLowerWhileBusy: lowering the limit while every slot
// is in use takes effect as slots come back, without a goroutine left
// waiting for one (it would outlive the check).
func TestConcurrencyLimiterLowerWhileBusy(t *testing.T) {
	ctx := context.Background()
	l := newConcurrencyLimiter(3)
	for range 3 {
		if err := l.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := runtime.NumGoroutine()
	if got := l.lower(); got != 2 {
		t.Errorf("lower() = %d, want 2", got)
	}
	if n := runtime.NumGoroutine(); n != before {
		t.Errorf("lower() with every slot busy left %d goroutines, want %d", n, before)
	}
	// The first slot that comes back is retired: two releases leave one
	// slot free, and the limit 2 holds.
	l.release()
	l.release()
	if err := l.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := l.acquire(short); err == nil {
		t.Errorf("acquire() with 2 of limit 2 in use = nil, want it to block until the context ends")
	}
}
