package scctest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadBody: the body comes back whole whatever length was declared,
// in one allocation when the declaration is right, with the reader's
// error when it fails.
func TestReadBody(t *testing.T) {
	body := strings.Repeat("<x/>", 1000) // 4000 bytes
	for _, tc := range []struct {
		name     string
		declared int64
	}{
		{"exact", 4000}, {"none", -1}, {"short", 10}, {"long", 9000}, {"over the limit", 1 << 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readBody(iotest.OneByteReader(strings.NewReader(body)), tc.declared, 1<<20)
			if err != nil || string(got) != body {
				t.Fatalf("readBody() = %d bytes, %v; want the %d bytes", len(got), err, len(body))
			}
		})
	}
	data := []byte(body)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := readBody(bytes.NewReader(data), 4000, 1<<20); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 { // the buffer, and the bytes.Reader's escape
		t.Errorf("readBody() with the right length made %v allocations, want at most 2", allocs)
	}
	boom := errors.New("connection reset")
	if _, err := readBody(io.MultiReader(strings.NewReader("<x"), iotest.ErrReader(boom)), 100, 1<<20); !errors.Is(err, boom) {
		t.Errorf("readBody(failing reader) error = %v, want %v", err, boom)
	}
}
