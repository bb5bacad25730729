package engine

import (
	"context"
	"errors"
	"time"
)

// Store errors.
var (
	// ErrNotFound: no state machine, execution or token with that key.
	ErrNotFound = errors.New("engine: not found")
	// ErrExists: CreateExecution with an ARN already taken.
	ErrExists = errors.New("engine: already exists")
)

// Machine is a state machine with its published versions. Every
// create/update appends a version; executions run on the version they
// started with.
type Machine struct {
	ARN      string
	Name     string
	Type     string // STANDARD or EXPRESS
	RoleARN  string
	Created  time.Time
	Versions []MachineVersion // Versions[i].Version == i+1
	Deleted  bool
}

// MachineVersion is one published definition.
type MachineVersion struct {
	Version     int
	Definition  string
	RoleARN     string
	Description string
	Created     time.Time
}

// Latest returns the newest version.
func (m *Machine) Latest() MachineVersion { return m.Versions[len(m.Versions)-1] }

// Store persists state machines, executions and their history. The engine
// calls it from several goroutines; implementations must be safe for
// concurrent use. Records returned are the caller's to modify.
//
// Atomicity: CreateExecution and SaveExecution must each be atomic and
// durable before they return — the record, the appended events and the
// indexes derived from the record (WakeAt → DueExecutions/NextWake, Tokens →
// TokenOwner) change together or not at all. That is what makes a crash
// safe: on restart the engine resumes every RUNNING execution from its last
// saved record (ListRunning) and fires timers from DueExecutions.
type Store interface {
	// PutMachine creates or replaces a state machine (atomically).
	PutMachine(ctx context.Context, m *Machine) error
	// GetMachine returns ErrNotFound for an unknown ARN.
	GetMachine(ctx context.Context, arn string) (*Machine, error)
	// ListMachines returns every machine, ordered by ARN.
	ListMachines(ctx context.Context) ([]*Machine, error)
	// DeleteMachine removes a machine; ErrNotFound if absent.
	DeleteMachine(ctx context.Context, arn string) error

	// CreateExecution inserts a new execution with its first events;
	// ErrExists when x.ARN is taken (the check and insert are one step).
	CreateExecution(ctx context.Context, x *Execution, events []Event) error
	// SaveExecution replaces the record and appends events (ids continue
	// the history); ErrNotFound if the execution was never created.
	SaveExecution(ctx context.Context, x *Execution, events []Event) error
	// GetExecution returns ErrNotFound for an unknown ARN.
	GetExecution(ctx context.Context, arn string) (*Execution, error)
	// ListExecutions returns one page of the executions of a machine (of
	// all machines for ""), newest first: up to limit of them (every one
	// for limit <= 0) that come after the execution whose ARN is after (""
	// starts at the newest). next is the ARN to pass as after for the
	// following page, "" after the last. A store reads only the page, not
	// every record; Root may be nil in the returned records. ErrNotFound
	// if after is not in the list.
	ListExecutions(ctx context.Context, machineARN, after string, limit int) (xs []*Execution, next string, err error)
	// ListRunning returns the ARNs of RUNNING executions (restart recovery).
	// It may leave out those saved with Parked set: their timers come back
	// through DueExecutions and their tokens through TokenOwner, so with 1M
	// parked executions a restart only runs the ones that were mid-pass.
	ListRunning(ctx context.Context) ([]string, error)
	// History returns an execution's events in id order.
	History(ctx context.Context, arn string) ([]Event, error)
	// TokenOwner returns the execution waiting for a task token, or ErrNotFound.
	TokenOwner(ctx context.Context, token string) (string, error)
	// DueExecutions returns up to limit executions with 0 < WakeAt <= now.
	DueExecutions(ctx context.Context, now time.Time, limit int) ([]string, error)
	// NextWake returns the earliest WakeAt over all executions.
	NextWake(ctx context.Context) (time.Time, bool, error)
}

// Observer is an optional interface of a Store: the engine saves a running
// execution only where a crash could otherwise lose an effect or a timer
// (see the package doc), and tells a Store that implements Observer about
// the root thread's other transitions, so that it can publish them (the
// status bus's live step counts) without a write.
type Observer interface {
	// Observe sees x right after its root thread moved to a new state that
	// was not saved. x is the interpreter's record: read it during the
	// call, never keep or change it. Nothing is durable: after a crash the
	// transition runs, and is observed, again.
	Observe(ctx context.Context, x *Execution)
}
