package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/stack"
)

func runMain(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb}
	if err := m.ParseFlags(context.Background(), args); err != nil {
		return errb.String(), err
	}
	err := m.Run(context.Background())
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return out.String() + errb.String(), err
}

// TestBackupRestore archives a stopped stack's data directory and restores
// it elsewhere: the execution it ran is there; a running stack is refused.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	cfg := stack.Config{DataDir: data, Addr: "127.0.0.1:0", RegistriesAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", OIDCAddr: "127.0.0.1:0", StateMachines: t.TempDir()}
	s, err := stack.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Engine.CreateMachine(ctx, engine.CreateMachineInput{Name: "hello", Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	x, err := s.Engine.StartExecution(ctx, engine.StartInput{MachineARN: m.ARN, Name: "app-1", Input: `{"a":1}`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Engine.Await(ctx, x.ARN); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "backup.tar.gz")
	if out, err := runMain(t, "backup", "--data", data, "--file", archive); err == nil || !strings.Contains(err.Error(), "stop") {
		t.Fatalf("backup of a running stack: %v %s", err, out)
	}
	s.Close()
	if out, err := runMain(t, "backup", "--data", data, "--file", archive); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if out, err := runMain(t, "restore", "--data", restored, "--file", archive); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	if _, err := runMain(t, "restore", "--data", restored, "--file", archive); err == nil {
		t.Fatal("restore over live data was allowed")
	}
	cfg.DataDir = restored
	s, err = stack.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Engine.DescribeExecution(ctx, x.ARN)
	if err != nil || got.Status != engine.StatusSucceeded {
		t.Fatalf("restored execution: %+v, %v", got, err)
	}
}
