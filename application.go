package posluha

import "time"

// Status is where an application is in its life. The allowed moves are
// submitted → processing ⇄ waiting → done | rejected | failed | cancelled.
type Status string

// Application statuses.
const (
	StatusSubmitted  Status = "submitted"
	StatusProcessing Status = "processing"
	StatusWaiting    Status = "waiting"
	StatusDone       Status = "done"
	StatusRejected   Status = "rejected" // the service said no
	StatusFailed     Status = "failed"   // technical failure, visible to support
	StatusCancelled  Status = "cancelled"
)

// Final reports whether no further status change is expected.
func (s Status) Final() bool {
	switch s {
	case StatusDone, StatusRejected, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusSubmitted, StatusProcessing, StatusWaiting, StatusDone, StatusRejected, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// CanMove reports whether an application may change from s to next.
// Failed applications can be put back to processing by support (redrive).
func (s Status) CanMove(next Status) bool {
	switch s {
	case StatusSubmitted:
		return next == StatusProcessing || next == StatusCancelled || next == StatusFailed || next == StatusRejected
	case StatusProcessing:
		return next == StatusWaiting || next.Final() || next == StatusProcessing
	case StatusWaiting:
		return next == StatusProcessing || next.Final() || next == StatusWaiting
	case StatusFailed:
		return next == StatusProcessing
	}
	return false
}

// StatusChange is one entry of an application's status history.
type StatusChange struct {
	Status Status    `json:"status"`
	Step   string    `json:"step,omitempty"` // BPMN element id
	Time   time.Time `json:"time"`
	Reason string    `json:"reason,omitempty"`
}

// Application is a citizen's request for one public service.
type Application struct {
	ID            string         `json:"applicationId"`
	Service       string         `json:"service"`
	Citizen       string         `json:"citizen"`               // subject of the citizen's token (tax number)
	SubmittedBy   string         `json:"submittedBy,omitempty"` // a partner's client id when it submitted for the citizen; empty when they did
	Status        Status         `json:"status"`
	Step          string         `json:"step,omitempty"`
	Form          map[string]any `json:"form,omitempty"`
	Created       time.Time      `json:"created"`
	Updated       time.Time      `json:"updated"`
	StatusHistory []StatusChange `json:"statusHistory"`
	Documents     []Document     `json:"documents,omitempty"`
	Version       int64          `json:"version"` // optimistic concurrency
}

// Document is a result document of an application (a PDF and its detached
// signatures) stored in S3-compatible storage.
type Document struct {
	Number     string   `json:"number"`
	Key        string   `json:"key"`
	SHA256     string   `json:"sha256"`
	Signatures []string `json:"signatures,omitempty"` // object keys of .p7s files
}
