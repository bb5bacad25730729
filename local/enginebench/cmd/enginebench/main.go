// Command enginebench compares the local engine with aws-local-stepfunctions
// in one run and prints a Markdown table (see package enginebench).
//
//	go run ./local/enginebench/cmd/enginebench -duration 3s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/posluha/posluha/local/enginebench"
)

func main() {
	duration := flag.Duration("duration", 2*time.Second, "counted time per measurement")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "uncounted warm-up per measurement")
	noBolt := flag.Bool("nobolt", false, "skip the durable store")
	repeat := flag.Int("repeat", 3, "measurements per cell (median kept)")
	flag.Parse()
	if err := run(*duration, *warmup, *noBolt, *repeat); err != nil {
		fmt.Fprintln(os.Stderr, "enginebench:", err)
		os.Exit(1)
	}
}

func run(duration, warmup time.Duration, noBolt bool, repeat int) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	module, err := enginebench.FindPeerModule(wd)
	if err != nil {
		return err
	}
	_, err = enginebench.Compare(context.Background(), enginebench.Options{
		Duration: duration, Warmup: warmup, Module: module, NoBolt: noBolt, Repeat: repeat, Progress: os.Stderr,
	}, os.Stdout)
	return err
}
