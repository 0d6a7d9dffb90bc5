package ews_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"testing"

	"github.com/sccsync/scc/ews"
)

// allocatedBy returns the bytes the process allocated while f ran.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestResponseBodyMemory: reading a response costs about its size (or the
// limit, for one that is too large), not a buffer that doubles past it.
func TestResponseBodyMemory(t *testing.T) {
	const limit = 4 << 20
	tests := []struct {
		name          string
		size          int
		contentLength bool
		wantTooLarge  bool
		budget        int // bytes the call may allocate
	}{
		{"over the limit, chunked", 6 << 20, false, true, limit * 5 / 4},
		{"under the limit, chunked", 3 << 20, false, false, 3 << 20 * 9 / 4},
		{"under the limit, Content-Length", 3 << 20, true, false, 3 << 20 * 5 / 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An HTML page: the client reads it whole, and never parses it.
			page := make([]byte, tt.size)
			for i := range page {
				page[i] = 'x'
			}
			copy(page, "<html><title>Sign in</title>")
			f := newFakeEWS(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "text/html")
				if tt.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(len(page)))
				}
				for off := 0; off < len(page); off += 64 << 10 {
					w.Write(page[off:min(off+64<<10, len(page))])
				}
			})
			c := newClient(t, f, ews.WithMaxResponseBytes(limit), ews.WithRetryPolicy(ews.NoRetries()))
			// Warm the connection up so that its buffers are not counted.
			c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
			var err error
			got := allocatedBy(func() {
				_, err = c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
			})
			var he *ews.HTTPError
			if !errors.As(err, &he) || errors.Is(err, ews.ErrResponseTooLarge) != tt.wantTooLarge {
				t.Fatalf("Folder(%d byte page) = %v, want an *HTTPError (too large: %v)", tt.size, err, tt.wantTooLarge)
			}
			t.Logf("a %d MiB body allocated %.1f MiB", tt.size>>20, float64(got)/(1<<20))
			if got > uint64(tt.budget) {
				t.Errorf("Folder(%d byte page) allocated %d bytes, want at most %d", tt.size, got, tt.budget)
			}
		})
	}
}
