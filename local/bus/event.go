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

	"github.com/posluha/posluha"
)

// Event is an EventBridge event (the aws-lambda-go type, so that a Lambda
// subscribed through an EventBridge rule in AWS decodes the same bytes).
type Event = events.CloudWatchEvent

// Sources and detail types of the events the bus carries (the contract
// lives in the root package: the projection and the task Lambdas' emitter
// use it without linking the bus).
const (
	SourceStates        = posluha.SourceStates
	DetailTypeExecution = posluha.DetailTypeExecutionStatus
	SourcePosluha       = posluha.SourcePosluha
	DetailTypeStep      = posluha.DetailTypeStepChanged
)

// Step statuses of a StepDetail.
const (
	StepEntered = posluha.StepEntered
	StepFailed  = posluha.StepFailed
)

// IncludedDetails is AWS's inputDetails/outputDetails.
type IncludedDetails = posluha.IncludedDetails

// ExecutionDetail is the detail of "Step Functions Execution Status
// Change"; Sequence is the execution's LastEventID at the save.
type ExecutionDetail = posluha.ExecutionStatusDetail

// StepDetail is the detail of "Posluha Step Changed".
type StepDetail = posluha.StepChangedDetail

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
