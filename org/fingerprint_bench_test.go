package org_test

import (
	"testing"

	"github.com/sccsync/scc/org"
)

// BenchmarkFingerprint measures what one password guess costs against each
// recipe (and what a save pays to mark renewals).
func BenchmarkFingerprint(b *testing.B) {
	c := validOrg().Email
	b.Run("store-less PBKDF2", func(b *testing.B) {
		for b.Loop() {
			_ = c.Fingerprint()
		}
	})
	s := org.NewMemoryStore()
	b.Run("store-keyed HMAC", func(b *testing.B) {
		for b.Loop() {
			_ = s.ConfigFingerprint(c)
		}
	})
}
