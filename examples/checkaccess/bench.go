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
	st := benchStatsOf(rep, wall, f.latency, f.concurrency)
	fmt.Fprintf(w, "users        %d\n", rep.Total)
	if st.checked != rep.Total {
		reason := ""
		if rep.Stopped != nil {
			reason = ": " + rep.Stopped.Reason
		}
		fmt.Fprintf(w, "checked      %d (%d not checked%s)\n", st.checked, rep.Total-st.checked, reason)
	}
	fmt.Fprintf(w, "concurrency  %d\n", f.concurrency)
	fmt.Fprintf(w, "latency      %s per request (injected by the fake)\n", f.latency)
	fmt.Fprintf(w, "wall time    %s\n", wall.Round(time.Millisecond))
	if st.ideal > 0 {
		fmt.Fprintf(w, "ideal time   %s (checked users × latency / concurrency); wall is %+.1f%%\n",
			st.ideal.Round(time.Millisecond), 100*(float64(wall)/float64(st.ideal)-1))
	}
	fmt.Fprintf(w, "throughput   %.0f users/s (checked users only)\n", st.throughput)
	fmt.Fprintf(w, "live heap    %.1f MB before the check (the fake's mailboxes), peak %.1f MB during it (+%.1f MB)\n", mb(before), mb(heapPeak), mb(heapPeak)-mb(before))
	if rss, ok := maxRSS(); ok {
		fmt.Fprintf(w, "peak RSS     %.1f MB (whole process: checker and fake server with %d mailboxes)\n", mb(rss), rep.Total)
	}
	fmt.Fprintf(w, "results      %v\n", rep.Counts)
	if err != nil {
		return 1, err
	}
	return 0, nil
}

// benchStats are the figures of a benchmark run, over the users that were
// checked: users not checked (a cancel, a stop) took no request and must
// not inflate the throughput or the ideal time.
type benchStats struct {
	checked    int
	throughput float64       // checked users per second of wall time
	ideal      time.Duration // checked × latency / concurrency; 0 without latency
}

func benchStatsOf(rep *impersonation.Report, wall, latency time.Duration, concurrency int) benchStats {
	st := benchStats{checked: rep.Total - rep.Counts[impersonation.StatusNotChecked]}
	if wall > 0 {
		st.throughput = float64(st.checked) / wall.Seconds()
	}
	if latency > 0 && concurrency > 0 {
		st.ideal = time.Duration(st.checked) * latency / time.Duration(concurrency)
	}
	return st
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
