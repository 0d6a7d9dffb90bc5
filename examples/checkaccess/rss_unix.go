//go:build unix

package main

import (
	"runtime"
	"syscall"
)

// maxRSS is the process's peak resident set size.
func maxRSS() (uint64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return uint64(ru.Maxrss), true // bytes
	}
	return uint64(ru.Maxrss) * 1024, true // kilobytes
}
