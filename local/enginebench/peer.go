package enginebench

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed peer.mjs
var peerScript []byte

// ErrNoPeer means node or aws-local-stepfunctions is not installed (make
// deps installs both).
var ErrNoPeer = errors.New("enginebench: node or aws-local-stepfunctions not found")

// peerModule is the package's ES module entry, relative to a node_modules
// directory.
const peerModule = "aws-local-stepfunctions/build/main.node.esm.js"

// FindPeerModule looks for node_modules/aws-local-stepfunctions in dir and
// its parents (tests run in the package directory, the module root has
// node_modules).
func FindPeerModule(dir string) (string, error) {
	for {
		p := filepath.Join(dir, "node_modules", peerModule)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoPeer
		}
		dir = parent
	}
}

// Peer is one long-lived node process running aws-local-stepfunctions.
type Peer struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Reader
	dir     string
	stderr  *strings.Builder
	Version string // node's version
}

// StartPeer starts node with peer.mjs; module is the path FindPeerModule
// returns.
func StartPeer(ctx context.Context, module string) (*Peer, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoPeer, err)
	}
	ver, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	dir, err := os.MkdirTemp("", "enginebench-peer")
	if err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "peer.mjs")
	if err := os.WriteFile(script, peerScript, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.CommandContext(ctx, node, script, module)
	in, err := cmd.StdinPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := &Peer{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20), dir: dir, stderr: &strings.Builder{},
		Version: strings.TrimSpace(string(ver))}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start node: %w", err)
	}
	return p, nil
}

type peerJob struct {
	Definition  string  `json:"definition"`
	Input       string  `json:"input"`
	Concurrency int     `json:"concurrency"`
	WarmupMs    float64 `json:"warmupMs"`
	DurationMs  float64 `json:"durationMs"`
	Runs        int     `json:"runs,omitempty"`
}

type peerAnswer struct {
	Runs      int             `json:"runs"`
	ElapsedMs float64         `json:"elapsedMs"`
	CPUMs     float64         `json:"cpuMs"`
	Output    json.RawMessage `json:"output"`
	Error     string          `json:"error"`
}

// Measure runs w in node according to p.
func (p *Peer) Measure(w Workload, pl Plan) (Result, error) {
	job, err := json.Marshal(peerJob{Definition: w.Definition, Input: w.Input, Concurrency: pl.Concurrency,
		WarmupMs: float64(pl.Warmup) / float64(time.Millisecond), DurationMs: float64(pl.Duration) / float64(time.Millisecond), Runs: pl.Runs})
	if err != nil {
		return Result{}, err
	}
	if _, err := p.in.Write(append(job, '\n')); err != nil {
		return Result{}, fmt.Errorf("peer: %w (stderr: %s)", err, p.stderr)
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return Result{}, fmt.Errorf("peer: %w (stderr: %s)", err, p.stderr)
	}
	var a peerAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		return Result{}, fmt.Errorf("peer answer %q: %w", line, err)
	}
	if a.Error != "" {
		return Result{}, fmt.Errorf("peer %s: %s", w.Name, a.Error)
	}
	return Result{Runs: a.Runs, Elapsed: time.Duration(a.ElapsedMs * float64(time.Millisecond)),
		CPU: time.Duration(a.CPUMs * float64(time.Millisecond)), Output: string(a.Output)}, nil
}

// Close ends the node process.
func (p *Peer) Close() error {
	p.in.Close()
	err := p.cmd.Wait()
	os.RemoveAll(p.dir)
	return err
}
