package engine

import (
	"time"

	"github.com/posluha/posluha/query/value"
)

// Execution statuses, as DescribeExecution reports them.
const (
	StatusRunning        = "RUNNING"
	StatusSucceeded      = "SUCCEEDED"
	StatusFailed         = "FAILED"
	StatusTimedOut       = "TIMED_OUT"
	StatusAborted        = "ABORTED"
	StatusPendingRedrive = "PENDING_REDRIVE"
)

// Execution is the persisted record of one execution: what Describe shows
// plus the interpreter's position (Root). Stores keep it as one unit and
// replace it atomically together with the events appended since the last
// save (see Store.SaveExecution).
type Execution struct {
	ARN          string
	Name         string
	MachineARN   string // the state machine (unqualified)
	Version      int    // the machine version the execution runs on
	Express      bool
	Status       string
	Input        Value
	Output       Value
	HasOutput    bool
	Error        string
	Cause        string
	HasError     bool // FAILED with an error name (a Fail state may have none)
	HasCause     bool
	StartTime    time.Time
	StopTime     time.Time
	Deadline     time.Time // TimeoutSeconds of the machine; zero if none
	RedriveCount int
	RedriveTime  time.Time
	Salt         string // random, makes task tokens unguessable
	ParentToken  string // task token of the parent's startExecution.sync task
	TraceHeader  string
	Root         *Thread
	LastEventID  int64

	// WakeAt is the earliest instant a timer of this execution fires (a
	// Wait, a retry interval, a task timeout or heartbeat); zero if none.
	// Stores index it (Store.DueExecutions). Recomputed before every save.
	WakeAt time.Time
	// Tokens are the task tokens this execution waits for. Stores index
	// them (Store.TokenOwner). Recomputed before every save.
	Tokens []string
	// Parked is true when the last pass ended with every thread waiting (for
	// a timer or a token): nothing to do until one fires. A restart need
	// not run parked executions (see Store.ListRunning).
	Parked bool
}

// Thread is the position of one line of control: the whole execution, a
// Parallel branch or a Map iteration.
type Thread struct {
	ID          string // "0" for the root, parent ID + "." + index below
	State       string // current state; the last one once Done
	Input       Value  // raw input of the current state
	Entered     int64  // id of the current state's StateEntered event; 0 before entering
	EnteredTime time.Time
	Last        int64 // id of this thread's latest event (previousEventId of the next)
	Steps       int   // states this thread has entered (makes task tokens unique)
	Phase       string
	Retries     []int // attempts so far, per retrier of the current state
	RetryCount  int   // retries of the current state ($$.State.RetryCount)
	WaitUntil   time.Time
	Task        *TaskRun
	Children    []*Thread // Parallel branches or Map iterations
	MaxConc     int       // Map: concurrency bound in force
	TolCount    int       // Map: tolerated failures (-1 = not set)
	TolPercent  float64   // Map: tolerated failure percentage (-1 = not set)
	Vars        *value.Object
	Index       int  // branch or iteration index
	Started     bool // the iteration/branch has emitted its start event
	Done        bool
	Failed      bool
	Aborted     bool
	Output      Value
	Error       string
	Cause       string
	NoError     bool // failed without an error name (a Fail state without Error)
	NoCause     bool
	Quiet       bool // a distributed Map iteration: its events are not in the parent's history

	grp *group // siblings' shared stop flag while running (not persisted)
}

// Phases of a thread within its current state.
const (
	phaseNew      = ""         // not entered yet
	phaseEntered  = "entered"  // entered, nothing pending
	phaseWait     = "wait"     // Wait state until WaitUntil
	phaseRetry    = "retry"    // retry interval until WaitUntil
	phaseTask     = "task"     // parked on Task.Token
	phaseChildren = "children" // Parallel/Map children in progress
)

// TaskRun is a Task parked on a token (waitForTaskToken, .sync).
type TaskRun struct {
	Token       string
	Resource    string
	Lambda      bool // report as LambdaFunction* events
	Deadline    time.Time
	Heartbeat   time.Duration
	HeartbeatAt time.Time
	Done        bool
	Result      Value
	Failed      bool
	Error       string
	Cause       string
}

// Value wraps a JSON value of the data model so that records round-trip
// through encoding/json with object key order kept.
type Value struct{ V any }

// MarshalJSON writes the value.
func (v Value) MarshalJSON() ([]byte, error) { return value.Marshal(v.V), nil }

// UnmarshalJSON reads the value in order.
func (v *Value) UnmarshalJSON(b []byte) error {
	x, err := value.Parse(b)
	if err != nil {
		return err
	}
	v.V = x
	return nil
}

// Event is one history event. Details holds the event's fields as values
// (input and output as JSON values, not yet strings); AWS renders them with
// the detail key named by DetailsKey.
type Event struct {
	ID         int64
	PreviousID int64
	Time       time.Time
	Type       string
	Details    *value.Object
}

// MarshalJSON encodes the event for a store (AppendEvent).
func (e Event) MarshalJSON() ([]byte, error) { return AppendEvent(nil, &e), nil }

// UnmarshalJSON decodes a stored event (DecodeEvent).
func (e *Event) UnmarshalJSON(b []byte) error {
	d, err := DecodeEvent(b)
	if err != nil {
		return err
	}
	*e = d
	return nil
}

// clone copies the record's structure (values are immutable and shared).
func (x *Execution) clone() *Execution {
	c := *x
	c.Root = x.Root.clone()
	c.Tokens = append([]string(nil), x.Tokens...)
	return &c
}

func (t *Thread) clone() *Thread {
	if t == nil {
		return nil
	}
	c := *t
	c.Retries = append([]int(nil), t.Retries...)
	if t.Task != nil {
		tr := *t.Task
		c.Task = &tr
	}
	if t.Children != nil {
		c.Children = make([]*Thread, len(t.Children))
		for i, ch := range t.Children {
			c.Children[i] = ch.clone()
		}
	}
	return &c
}

// index recomputes WakeAt and Tokens from the thread tree.
func (x *Execution) index() {
	x.WakeAt = time.Time{}
	x.Tokens = x.Tokens[:0]
	if x.Status != StatusRunning {
		return
	}
	if !x.Deadline.IsZero() {
		x.WakeAt = x.Deadline
	}
	var walk func(t *Thread)
	walk = func(t *Thread) {
		if t == nil || t.Done || t.Aborted {
			return
		}
		wake := func(at time.Time) {
			if !at.IsZero() && (x.WakeAt.IsZero() || at.Before(x.WakeAt)) {
				x.WakeAt = at
			}
		}
		switch t.Phase {
		case phaseWait, phaseRetry:
			wake(t.WaitUntil)
		case phaseTask:
			if t.Task != nil {
				if t.Task.Done {
					wake(time.Unix(0, 1)) // completed while parked: run as soon as possible
				} else {
					x.Tokens = append(x.Tokens, t.Task.Token)
					wake(t.Task.Deadline)
					wake(t.Task.HeartbeatAt)
				}
			}
		case phaseChildren:
			for _, c := range t.Children {
				walk(c)
			}
		}
	}
	walk(x.Root)
}

// findToken returns the thread parked on token.
func (t *Thread) findToken(token string) *Thread {
	if t == nil || t.Done || t.Aborted {
		return nil
	}
	if t.Phase == phaseTask && t.Task != nil && t.Task.Token == token {
		return t
	}
	for _, c := range t.Children {
		if f := c.findToken(token); f != nil {
			return f
		}
	}
	return nil
}
