package org_test

import (
	"bytes"
	"context"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/org/internal/testcsv"
)

// BenchmarkImportCSVAndSave100k imports 100,000 users from an Export-Csv file
// and saves the organization with the file store. Besides ns/op and B/op it
// reports peak-heap-MB, the highest live heap seen while it ran (sampled).
func BenchmarkImportCSVAndSave100k(b *testing.B) {
	var csv bytes.Buffer
	if err := testcsv.Write(&csv, 100000); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	store, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: testKey(1)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	stop := samplePeakHeap()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := &org.Organization{Name: "Bench", Email: validOrg().Email}
		res, err := o.ImportCSV(bytes.NewReader(csv.Bytes()))
		if err != nil || len(res.Added) != 100000 {
			b.Fatalf("ImportCSV = %v, %v", res, err)
		}
		saved, err := store.Create(ctx, o)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		store.Delete(ctx, saved.ID)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(stop())/(1<<20), "peak-heap-MB")
}

// BenchmarkLoad100k reads a stored 100,000-user organization back.
func BenchmarkLoad100k(b *testing.B) {
	var csv bytes.Buffer
	testcsv.Write(&csv, 100000)
	store, err := org.OpenFileStore(b.TempDir(), org.FileStoreOptions{Key: testKey(1)})
	if err != nil {
		b.Fatal(err)
	}
	o := &org.Organization{ID: "bench", Name: "Bench"}
	o.ImportCSV(&csv)
	ctx := context.Background()
	if _, err := store.Create(ctx, o); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := store.Get(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// samplePeakHeap samples the live heap every millisecond until the returned
// function is called, which returns the maximum in bytes.
func samplePeakHeap() func() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var (
		mu   sync.Mutex
		peak uint64
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			mu.Lock()
			peak = max(peak, s[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
