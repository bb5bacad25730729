package support

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/posluha/posluha"
)

// App is the projection's view of one application's execution.
type App struct {
	ID           string    `json:"applicationId"`
	Service      string    `json:"service"`
	ExecutionARN string    `json:"executionArn"`
	Citizen      string    `json:"citizen,omitempty"`
	Status       string    `json:"status"` // the execution status (RUNNING, SUCCEEDED, FAILED, …)
	Steps        []string  `json:"steps"`  // BPMN elements the running execution is at
	Since        time.Time `json:"since"`  // when Steps (or the final status) last changed
	Started      time.Time `json:"started"`
	Stopped      time.Time `json:"stopped,omitzero"`
	Error        string    `json:"error,omitempty"`
	Cause        string    `json:"cause,omitempty"`
	FailedStep   string    `json:"failedStep,omitempty"`
	FailedState  string    `json:"failedState,omitempty"`
	FailedThread string    `json:"failedThread,omitempty"`
	// FailedInput is the failing step's input: personal data, only in the
	// audited detail answer.
	FailedInput  json.RawMessage `json:"failedInput,omitempty"`
	RedriveCount int             `json:"redriveCount"`
	StatusSeq    int64           `json:"statusSeq"`
	StepsSeq     int64           `json:"stepsSeq"`
	FailSeq      int64           `json:"failSeq,omitempty"`
	// StartCounted: the start is in the throughput already (the step
	// event of the first state may come before the RUNNING status).
	StartCounted bool `json:"startCounted,omitempty"`
}

// Failed reports a failure support works on: FAILED or TIMED_OUT.
func (a *App) Failed() bool { return a.Status == "FAILED" || a.Status == "TIMED_OUT" }

// Clone returns a copy that shares nothing mutable with a (nil: nil).
func (a *App) Clone() *App {
	if a == nil {
		return nil
	}
	c := *a
	c.Steps = slices.Clone(a.Steps)
	return &c
}

// ErrNotFound is returned for an unknown application.
var ErrNotFound = errors.New("console: application not found")

// ServiceStats are a service's live figures.
type ServiceStats struct {
	Service  string           `json:"service"`
	ByStatus map[string]int64 `json:"byStatus"` // execution status → applications
	AtStep   map[string]int64 `json:"atStep"`   // BPMN element → running applications there
	FailedAt map[string]int64 `json:"failedAt"` // BPMN element → failed applications that failed there
	Minutes  []Minute         `json:"minutes"`  // the last hour, oldest first, minutes without activity left out
}

// Minute is the activity of one minute.
type Minute struct {
	Time      time.Time `json:"time"`
	Started   int64     `json:"started"`
	Completed int64     `json:"completed"`
	Failed    int64     `json:"failed"`
}

// Page is one page of a list; Next is the cursor of the following page
// ("" on the last).
type Page struct {
	Apps []*App `json:"applications"`
	Next string `json:"next,omitempty"`
}

// ClampLimit is a list's page size: n in 1..500, else 50.
func ClampLimit(n int) int {
	if n <= 0 || n > 500 {
		return 50
	}
	return n
}

// Counters are the counters a record adds one to, each "kind 0 service 0
// name": s (by status), p (running, by step), f (failed, by the step it
// failed at). A store moves a record's counts by the difference between
// its Counters before and after a change.
func Counters(a *App) []string {
	if a == nil {
		return nil
	}
	cs := []string{"s\x00" + a.Service + "\x00" + a.Status}
	if a.Status == "RUNNING" {
		for _, s := range a.Steps {
			cs = append(cs, "p\x00"+a.Service+"\x00"+s)
		}
	}
	if a.Failed() && a.FailedStep != "" {
		cs = append(cs, "f\x00"+a.Service+"\x00"+a.FailedStep)
	}
	return cs
}

// Kinds of per-minute counters (Bump.Kind).
const (
	KindStarted   = "started"
	KindCompleted = "completed"
	KindFailed    = "failed"
)

// Change is what one event does to one application: Fold computes the
// record after the event from the record before it (nil before: the first
// event seen), and the per-minute counts to add. A nil next means the event
// changes nothing (seen already). Every store applies events through it, so
// that they agree on idempotence and ordering.
type Change struct {
	ID   string
	Fold func(prev *App) (next *App, bumps []Bump)
}

// Bump adds one to a per-minute counter.
type Bump struct {
	Service string
	At      time.Time
	Kind    string // KindStarted, KindCompleted or KindFailed
}

// ChangeOf reads a status event; false for events the projection ignores
// (other detail types, unreadable details): failing on them would make
// EventBridge or the local bus redeliver a poison event forever.
func ChangeOf(e events.CloudWatchEvent) (Change, bool) {
	switch e.DetailType {
	case posluha.DetailTypeExecutionStatus:
		return statusChange(e)
	case posluha.DetailTypeStepChanged:
		return stepChange(e)
	}
	return Change{}, false
}

type inputIdentity struct {
	ApplicationID string `json:"applicationId"`
	Service       string `json:"service"`
	Citizen       struct {
		TaxNumber string `json:"taxNumber"`
	} `json:"citizen"`
}

func statusChange(e events.CloudWatchEvent) (Change, bool) {
	var d posluha.ExecutionStatusDetail
	if err := json.Unmarshal(e.Detail, &d); err != nil || d.Name == "" {
		return Change{}, false // unreadable: see ChangeOf
	}
	var in inputIdentity
	_ = json.Unmarshal([]byte(d.Input), &in) // any input: the fallbacks below apply
	// Index keys hold these; bound what an odd input can put there.
	if len(in.ApplicationID) > 200 {
		in.ApplicationID = ""
	}
	if len(in.Service) > 80 {
		in.Service = ""
	}
	if len(in.Citizen.TaxNumber) > 64 {
		in.Citizen.TaxNumber = ""
	}
	id := cmpOr(in.ApplicationID, d.Name)
	if len(id) > 200 {
		return Change{}, false
	}
	fromAWS := d.Sequence == 0
	if fromAWS {
		d.Sequence = awsSequence(&d)
	}
	return Change{ID: id, Fold: func(prev *App) (*App, []Bump) {
		if prev != nil && d.Sequence <= prev.StatusSeq {
			return nil, nil // seen already
		}
		var bumps []Bump
		next := prev.Clone()
		if next == nil {
			next = &App{ID: id, Steps: []string{}}
		}
		next.ExecutionARN, next.Citizen = d.ExecutionARN, cmpOr(in.Citizen.TaxNumber, next.Citizen)
		next.Service = cmpOr(in.Service, next.Service, d.StateMachineARN[strings.LastIndexByte(d.StateMachineARN, ':')+1:])
		next.Status, next.StatusSeq, next.RedriveCount = d.Status, d.Sequence, d.RedriveCount
		next.Started = time.UnixMilli(d.StartDate).UTC()
		next.Error, next.Cause = deref(d.Error), deref(d.Cause)
		now := e.Time
		switch {
		case d.Status == "RUNNING":
			next.Stopped = time.Time{}
			if d.RedriveCount == 0 && !next.StartCounted {
				next.StartCounted = true
				bumps = append(bumps, Bump{next.Service, now, KindStarted})
			}
		default:
			if d.StopDate != nil {
				now = time.UnixMilli(*d.StopDate).UTC()
			}
			next.Stopped = now
			next.Since = now
			if fromAWS && next.Failed() && len(next.Steps) > 0 {
				// AWS sends no step failure event: the step the
				// application was at is the one that failed.
				next.FailedStep = next.Steps[0]
			}
			next.Steps, next.StepsSeq = []string{}, max(next.StepsSeq, d.Sequence)
			kind := KindCompleted
			if next.Failed() {
				kind = KindFailed
			}
			if d.Status != "ABORTED" {
				bumps = append(bumps, Bump{next.Service, now, kind})
			}
		}
		if next.Since.IsZero() {
			next.Since = now
		}
		return next, bumps
	}}, true
}

// awsSequence orders the status events Step Functions sends in AWS, which
// carry no sequence (ours is the local engine's event id): by the time of
// the change in Unix nanoseconds (start or redrive for RUNNING, stop
// otherwise), a stop sorting after a start of the same millisecond. Step
// events put by the task Lambdas (functions/internal/stepevents) carry
// their Unix-nanosecond time as sequence, so that a terminal status, which
// sets StepsSeq, also hides step events that happened before it.
func awsSequence(d *posluha.ExecutionStatusDetail) int64 {
	const perMilli = int64(time.Millisecond)
	switch {
	case d.Status != "RUNNING" && d.StopDate != nil:
		return *d.StopDate*perMilli + perMilli - 1
	case d.Status == "RUNNING" && d.RedriveDate != nil:
		return *d.RedriveDate * perMilli
	}
	return d.StartDate * perMilli
}

func stepChange(e events.CloudWatchEvent) (Change, bool) {
	var d posluha.StepChangedDetail
	if err := json.Unmarshal(e.Detail, &d); err != nil || d.ApplicationID == "" || len(d.ApplicationID) > 200 || len(d.Service) > 80 || len(d.Step) > 256 {
		return Change{}, false // unreadable: see ChangeOf
	}
	return Change{ID: d.ApplicationID, Fold: func(prev *App) (*App, []Bump) {
		next := prev.Clone()
		if next == nil {
			next = &App{ID: d.ApplicationID, Service: d.Service, ExecutionARN: d.ExecutionARN, Status: "RUNNING", Started: d.Time, Steps: []string{}}
		}
		switch d.Status {
		case posluha.StepFailed:
			if d.Sequence <= next.FailSeq {
				return nil, nil
			}
			next.FailSeq = d.Sequence
			next.FailedStep, next.FailedState, next.FailedThread = d.Step, d.State, d.Thread
			next.FailedInput, next.Error, next.Cause = d.Input, d.Error, d.Cause
		default:
			if d.Sequence <= next.StepsSeq {
				return nil, nil
			}
			next.StepsSeq = d.Sequence
			if !slices.Equal(next.Steps, d.Steps) {
				next.Steps = slices.Clone(d.Steps)
				next.Since = d.Time
			}
		}
		return next, nil
	}}, true
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
