//go:build !unix

package main

func maxRSS() (uint64, bool) { return 0, false }
