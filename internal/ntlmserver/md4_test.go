package ntlmserver

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestMD4 checks the test suite of RFC 1320 appendix A.5.
func TestMD4(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "31d6cfe0d16ae931b73c59d7e0c089c0"},
		{"a", "bde52cb31de33e46245e05fbdbd6fb24"},
		{"abc", "a448017aaf21d8525fc10ae87aa6729d"},
		{"message digest", "d9130a8164549fe818874806e1c7014b"},
		{"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"},
		{strings.Repeat("1234567890", 8), "e33b4ddc9c38f2199c3e7b164fcc0536"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sum := md4([]byte(tt.in))
			if got := hex.EncodeToString(sum[:]); got != tt.want {
				t.Errorf("md4(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestMD4Lengths exercises every padding boundary around one and two blocks
// against an independent check: the digest must differ for each length and
// never panic.
func TestMD4Lengths(t *testing.T) {
	seen := map[[16]byte]int{}
	for n := 0; n <= 130; n++ {
		sum := md4(make([]byte, n))
		if prev, ok := seen[sum]; ok {
			t.Fatalf("md4 of %d and %d zero bytes collide", prev, n)
		}
		seen[sum] = n
	}
}
