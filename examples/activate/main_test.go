package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), t.TempDir(), &out); err != nil {
		t.Fatalf("run() error = %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"Activate: 10 activated, 0 renewed, 3 failed",
		"Activate again: 0 activated, 0 renewed, 0 failed, 0 need renewal, 13 unchanged",
		"Renew: 0 activated, 10 renewed, 3 failed, 0 need renewal, 0 unchanged, 0 not checked, 0 skipped",
		"10 of 13 users active",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
