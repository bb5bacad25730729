package load

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfile starts a CPU profile into cpu (when set) and returns the
// function that stops it and writes the allocation profile into mem and
// the profile of where goroutines waited (sync primitives, channels) into
// block.
// The allocation profile counts from the start of the process; pprof's
// -diff_base or -sample_index=alloc_space over a long burst makes the
// sign-in before it negligible.
func startProfile(cpu, mem, block string) (func() error, error) {
	if block != "" {
		// Every blocking event longer than 10 µs: latency under a burst is
		// mostly waiting (locks, fsync, the queue's batches), which a CPU
		// profile does not show.
		runtime.SetBlockProfileRate(10000)
	}
	var f *os.File
	if cpu != "" {
		var err error
		if f, err = os.Create(cpu); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
	}
	return func() error {
		if f != nil {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
		}
		if block != "" {
			runtime.SetBlockProfileRate(0)
			b, err := os.Create(block)
			if err != nil {
				return fmt.Errorf("block profile: %w", err)
			}
			if err := pprof.Lookup("block").WriteTo(b, 0); err != nil {
				b.Close()
				return fmt.Errorf("block profile: %w", err)
			}
			if err := b.Close(); err != nil {
				return fmt.Errorf("block profile: %w", err)
			}
		}
		if mem == "" {
			return nil
		}
		m, err := os.Create(mem)
		if err != nil {
			return fmt.Errorf("allocation profile: %w", err)
		}
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(m, 0); err != nil {
			m.Close()
			return fmt.Errorf("allocation profile: %w", err)
		}
		return m.Close()
	}, nil
}
