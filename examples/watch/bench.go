package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"time"
)

// latencies pairs the time each change was made (before the fake's
// AddItem call) with the time the watcher's handler saw its item, for the
// -bench mode.
type latencies struct {
	mu      sync.Mutex
	sent    map[string]time.Time
	arrived map[string]time.Time
}

func newLatencies() *latencies {
	return &latencies{sent: map[string]time.Time{}, arrived: map[string]time.Time{}}
}

func (l *latencies) made(id string, at time.Time) {
	l.mu.Lock()
	l.sent[id] = at
	l.mu.Unlock()
}

func (l *latencies) seen(id string, at time.Time) {
	l.mu.Lock()
	if _, ok := l.arrived[id]; !ok {
		l.arrived[id] = at
	}
	l.mu.Unlock()
}

// report prints the percentiles of the changes that arrived, and how many
// made changes did not arrive before the end.
func (l *latencies) report(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var d []time.Duration
	for id, t0 := range l.sent {
		if t1, ok := l.arrived[id]; ok {
			d = append(d, t1.Sub(t0))
		}
	}
	slices.Sort(d)
	fmt.Fprintf(w, "changes      %d made, %d seen by the handler\n", len(l.sent), len(d))
	if len(d) == 0 {
		return
	}
	pct := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	fmt.Fprintf(w, "latency      p50 %v  p90 %v  p99 %v  max %v (change made -> handler called)\n",
		pct(0.50).Round(100*time.Microsecond), pct(0.90).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), d[len(d)-1].Round(100*time.Microsecond))
}

// heapInuse returns HeapInuse after a garbage collection.
func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// writeHeapProfile writes the heap profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
