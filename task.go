package posluha

import (
	"strconv"
	"strings"
	"unicode"
)

// TaskRequest is the payload every Task state compiled from BPMN sends to a
// Lambda (the "Payload" of arn:aws:states:::lambda:invoke). The compiler
// emits it, the functions decode it, the local engine passes it through.
type TaskRequest struct {
	ApplicationID  string         `json:"applicationId"`
	Service        string         `json:"service"`
	Step           string         `json:"step"`    // BPMN element id
	Attempt        int            `json:"attempt"` // 0 on the first try, from $states.context.State.RetryCount
	Action         string         `json:"action,omitempty"`
	Connector      string         `json:"connector,omitempty"`
	Arguments      map[string]any `json:"arguments,omitempty"`
	TaskToken      string         `json:"taskToken,omitempty"` // callback tasks only
	CorrelationKey string         `json:"correlationKey,omitempty"`
}

// IdempotencyKey identifies one external effect of one application step, so
// a retry or a redrive never repeats a payment or a registry record.
func (r *TaskRequest) IdempotencyKey() string {
	return r.ApplicationID + "/" + r.Step
}

// Validate reports a Task.Invalid error when a field every task needs is
// missing.
func (r *TaskRequest) Validate() error {
	switch {
	case r.ApplicationID == "":
		return Errorf(ErrTaskInvalid, "applicationId is required")
	case r.Step == "":
		return Errorf(ErrTaskInvalid, "step is required")
	case r.Attempt < 0:
		return Errorf(ErrTaskInvalid, "attempt must not be negative, got %s", strconv.Itoa(r.Attempt))
	}
	return nil
}

// Task types analysts put in zeebe:taskDefinition type.
const (
	TaskRegistryRead = "registry.read"
	TaskEventWrite   = "event.write"
	TaskDocumentSign = "document.sign"
	TaskDocumentPDF  = "document.pdf"
	// CustomTaskPrefix starts a custom task type: custom.<name> runs functions/<name>.
	CustomTaskPrefix = "custom."
)

// Actions of the eventwrite function.
const (
	ActionAwait  = "await"  // park on a task token until someone answers
	ActionStatus = "status" // set the application status
	ActionNotify = "notify" // send the citizen a notification
	ActionWrite  = "write"  // write to another system through a connector
)

// SubstitutionName returns the DefinitionSubstitutions key that holds the
// ARN of the Lambda in functions/<function>: registryread →
// RegistryReadFunctionArn, a custom "tax-check" → TaxCheckFunctionArn.
func SubstitutionName(function string) string {
	switch function {
	case "registryread":
		return "RegistryReadFunctionArn"
	case "eventwrite":
		return "EventWriteFunctionArn"
	case "pdfgen":
		return "PdfGenFunctionArn"
	}
	return PascalName(function) + "FunctionArn"
}

// StateMachineSubstitution returns the DefinitionSubstitutions key that
// holds the ARN of the state machine compiled from the BPMN process with
// the given id (a callActivity's target): benefit-payment →
// BenefitPaymentStateMachineArn.
func StateMachineSubstitution(processID string) string {
	return PascalName(processID) + "StateMachineArn"
}

// PascalName turns an id into a CloudFormation-safe PascalCase name: ASCII
// letters and digits are kept, anything else separates words.
func PascalName(id string) string {
	var b strings.Builder
	upper := true
	for _, r := range id {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "Process"
	}
	return b.String()
}

// FunctionForTaskType returns the function (folder under functions/) that
// runs a BPMN task type, or "" for an unknown type.
func FunctionForTaskType(taskType string) string {
	switch taskType {
	case TaskRegistryRead:
		return "registryread"
	case TaskEventWrite:
		return "eventwrite"
	case TaskDocumentSign:
		return "sign"
	case TaskDocumentPDF:
		return "pdfgen"
	}
	if name, ok := strings.CutPrefix(taskType, CustomTaskPrefix); ok && name != "" {
		return name
	}
	return ""
}

// LocalFunctionARN is the ARN the local stack substitutes for a function.
func LocalFunctionARN(function string) string {
	return "arn:aws:lambda:local:000000000000:function:" + function
}
