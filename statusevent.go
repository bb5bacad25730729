package posluha

import (
	"encoding/json"
	"time"
)

// Status events are the contract between what publishes where executions
// are (Step Functions in AWS, the local bus's feed) and what reads it (the
// support console's projection): the EventBridge sources, detail types
// and detail shapes both sides encode and decode.
const (
	// SourceStates and DetailTypeExecutionStatus are what Step Functions
	// sends to EventBridge on every execution status change.
	SourceStates              = "aws.states"
	DetailTypeExecutionStatus = "Step Functions Execution Status Change"
	// SourcePosluha and DetailTypeStepChanged are ours: an application's
	// execution is at a BPMN element (put by the task Lambdas in AWS, by
	// the bus's feed locally).
	SourcePosluha         = "posluha"
	DetailTypeStepChanged = "Posluha Step Changed"
)

// Step statuses of a StepChangedDetail.
const (
	StepEntered = "ENTERED" // a thread of the execution is now at the step
	StepFailed  = "FAILED"  // the execution failed (or timed out) at the step
)

// IncludedDetails is Step Functions' inputDetails/outputDetails.
type IncludedDetails struct {
	Included bool `json:"included"`
}

// ExecutionStatusDetail is the detail of "Step Functions Execution Status
// Change", field for field as AWS sends it (dates in epoch milliseconds,
// input and output as JSON text, absent values as null). Sequence is ours:
// the local engine's LastEventID at the save, so that consumers can order
// and deduplicate; AWS sends none (0), and consumers derive an order from
// the dates instead.
type ExecutionStatusDetail struct {
	ExecutionARN        string           `json:"executionArn"`
	StateMachineARN     string           `json:"stateMachineArn"`
	Name                string           `json:"name"`
	Status              string           `json:"status"`
	StartDate           int64            `json:"startDate"`
	StopDate            *int64           `json:"stopDate"`
	Input               string           `json:"input"`
	InputDetails        IncludedDetails  `json:"inputDetails"`
	Output              *string          `json:"output"`
	OutputDetails       *IncludedDetails `json:"outputDetails"`
	Error               *string          `json:"error"`
	Cause               *string          `json:"cause"`
	RedriveCount        int              `json:"redriveCount"`
	RedriveDate         *int64           `json:"redriveDate"`
	RedriveStatus       string           `json:"redriveStatus"`
	RedriveStatusReason string           `json:"redriveStatusReason"`
	Sequence            int64            `json:"sequence"`
}

// StepChangedDetail is the detail of "Posluha Step Changed": one thread of
// an application's execution entered a step, or the execution failed at
// it. A task Lambda knows less than the local engine: it leaves State and
// Thread empty and Steps is its one step.
type StepChangedDetail struct {
	ApplicationID string `json:"applicationId"`
	Service       string `json:"service"`
	ExecutionARN  string `json:"executionArn"`
	Step          string `json:"step"`   // BPMN element id
	State         string `json:"state"`  // ASL state name
	Status        string `json:"status"` // StepEntered or StepFailed
	Thread        string `json:"thread"` // engine thread id ("0" root, "0.1" a branch…)
	// Steps are all the steps the application is at after this change
	// (Parallel branches and Map iterations may be at several), so that a
	// consumer can replace its view instead of adding up deltas.
	Steps []string `json:"steps"`
	// Input, Error and Cause come with StepFailed: what support needs to
	// fix and resend. Input is personal data.
	Input json.RawMessage `json:"input,omitempty"`
	Error string          `json:"error,omitempty"`
	Cause string          `json:"cause,omitempty"`
	Time  time.Time       `json:"time"`
	// Sequence orders an application's step events: the engine's event
	// id locally, the time in Unix nanoseconds from a task Lambda.
	Sequence int64 `json:"sequence"`
}
