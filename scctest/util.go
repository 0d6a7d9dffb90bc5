package scctest

import "strconv"

func itoa(i int) string { return strconv.Itoa(i) }

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// atoiNonNeg parses a non-negative int; bad reports a malformed value.
func atoiNonNeg(s string) (v int, bad bool) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, true
	}
	return v, false
}
