//go:build unix

package load

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (user + system). On
// a shared machine it is a steadier measure of cost than the rate, which
// depends on what else runs.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
