//go:build !unix

package impersonation

import "time"

// processCPU is 0 where the CPU time of the process is not read.
func processCPU() time.Duration { return 0 }
