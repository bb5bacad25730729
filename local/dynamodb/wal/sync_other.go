//go:build !linux

package wal

import "os"

// syncData makes appended bytes durable; fsync where fdatasync is missing.
func syncData(f *os.File) error { return f.Sync() }
