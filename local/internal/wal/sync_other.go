//go:build !linux

package wal

import "os"

// syncData makes appended bytes durable; fsync where fdatasync is missing.
func syncData(f *os.File) error { return f.Sync() }

// lock is a no-op where flock is unavailable.
func lock(f *os.File) error { return nil }
