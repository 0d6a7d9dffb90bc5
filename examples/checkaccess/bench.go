package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
)

// benchmark runs the check over a generated organization and prints wall
// time against the ideal (users × latency / concurrency) and memory.
func benchmark(ctx context.Context, o *org.Organization, f flags, opts []impersonation.Option, w io.Writer) (int, error) {
	runtime.GC()
	before := heapBytes()
	peak := newPeakSampler()
	start := time.Now()
	rep, err := impersonation.Check(ctx, o, opts...)
	wall := time.Since(start)
	heapPeak := peak.stop()
	if rep == nil {
		return 2, err
	}
	n := len(o.Users)
	fmt.Fprintf(w, "users        %d\n", n)
	fmt.Fprintf(w, "concurrency  %d\n", f.concurrency)
	fmt.Fprintf(w, "latency      %s per request (injected by the fake)\n", f.latency)
	fmt.Fprintf(w, "wall time    %s\n", wall.Round(time.Millisecond))
	if f.latency > 0 {
		ideal := time.Duration(n) * f.latency / time.Duration(f.concurrency)
		fmt.Fprintf(w, "ideal time   %s (users × latency / concurrency); wall is %+.1f%%\n",
			ideal.Round(time.Millisecond), 100*(float64(wall)/float64(ideal)-1))
	}
	fmt.Fprintf(w, "throughput   %.0f users/s\n", float64(n)/wall.Seconds())
	fmt.Fprintf(w, "live heap    %.1f MB before the check (the fake's mailboxes), peak %.1f MB during it (+%.1f MB)\n", mb(before), mb(heapPeak), mb(heapPeak)-mb(before))
	if rss, ok := maxRSS(); ok {
		fmt.Fprintf(w, "peak RSS     %.1f MB (whole process: checker and fake server with %d mailboxes)\n", mb(rss), n)
	}
	fmt.Fprintf(w, "results      %v\n", rep.Counts)
	if err != nil {
		return 1, err
	}
	return 0, nil
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// heapMetric is the live heap as of the last GC: what the program keeps,
// without the garbage the collector has not yet reclaimed.
const heapMetric = "/gc/heap/live:bytes"

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// peakSampler samples the live heap every 10ms (it changes at each GC).
type peakSampler struct {
	quit chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func newPeakSampler() *peakSampler {
	p := &peakSampler{quit: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if h := heapBytes(); h > p.peak {
				p.peak = h
			}
			select {
			case <-p.quit:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakSampler) stop() uint64 {
	close(p.quit)
	p.wg.Wait()
	return p.peak
}
