// Package bus is the local stack's EventBridge-shaped status bus. The feed
// (Feed, a decorator around engine.Store) compares each execution record
// the engine saves with the previous one — status and the current state of
// every thread — and publishes what changed as EventBridge events in the
// shape AWS uses:
//
//   - "Step Functions Execution Status Change" (source aws.states) with
//     detail {executionArn, stateMachineArn, name, status, startDate,
//     stopDate, input, output, error, cause, redrive…}, as Step Functions
//     sends it to EventBridge;
//   - "Posluha Step Changed" (source posluha) with detail {applicationId,
//     service, step (the BPMN element id from the state's Comment), state,
//     status, steps…}: what the support console draws on the diagram.
//
// # Delivery
//
// Events are written to a bbolt outbox before the engine's save and
// released to subscribers once the save succeeded (a write-ahead outbox).
// An entry whose save failed is dropped. After a crash, entries left
// unreleased are checked against the store: the execution's LastEventID
// tells whether the save they belong to happened. Delivery is
// at-least-once and in save order per execution; subscribers must be
// idempotent (Sequence orders an execution's events; ID is stable across
// redeliveries).
//
// The engine needs no change: the stack passes the Feed as the engine's
// Store.
package bus

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Event is an EventBridge event (the aws-lambda-go type, so that a Lambda
// subscribed through an EventBridge rule in AWS decodes the same bytes).
type Event = events.CloudWatchEvent

// Sources and detail types of the events the bus carries.
const (
	SourceStates        = "aws.states"
	DetailTypeExecution = "Step Functions Execution Status Change"
	SourcePosluha       = "posluha"
	DetailTypeStep      = "Posluha Step Changed"
)

// Step statuses of a StepDetail.
const (
	StepEntered = "ENTERED" // a thread of the execution is now at the step
	StepFailed  = "FAILED"  // the execution failed (or timed out) at the step
)

// IncludedDetails is AWS's inputDetails/outputDetails.
type IncludedDetails struct {
	Included bool `json:"included"`
}

// ExecutionDetail is the detail of "Step Functions Execution Status
// Change", field for field as AWS sends it (dates in epoch milliseconds,
// input and output as JSON text, absent values as null). Sequence is ours:
// the execution's LastEventID at the save, so that consumers can order and
// deduplicate; AWS consumers ignore it.
type ExecutionDetail struct {
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

// StepDetail is the detail of "Posluha Step Changed": one thread of an
// application's execution entered a step, or the execution failed at it.
type StepDetail struct {
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
	Input    json.RawMessage `json:"input,omitempty"`
	Error    string          `json:"error,omitempty"`
	Cause    string          `json:"cause,omitempty"`
	Time     time.Time       `json:"time"`
	Sequence int64           `json:"sequence"`
}

// eventID is stable for the same change, so a redelivered event keeps its
// id (EventBridge ids are unique per put; ours are unique per change).
func eventID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	s := hex.EncodeToString(h.Sum(nil)[:16])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func newEvent(source, detailType, region, account string, at time.Time, resources []string, detail any, idParts ...string) (Event, error) {
	b, err := json.Marshal(detail)
	if err != nil {
		return Event{}, err
	}
	return Event{
		Version: "0", ID: eventID(append([]string{detailType}, idParts...)...), DetailType: detailType,
		Source: source, AccountID: account, Time: at.UTC(), Region: region, Resources: resources, Detail: b,
	}, nil
}

// DecodeExecution reads an execution status event's detail.
func DecodeExecution(e Event) (*ExecutionDetail, error) {
	var d ExecutionDetail
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DecodeStep reads a step event's detail.
func DecodeStep(e Event) (*StepDetail, error) {
	var d StepDetail
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
