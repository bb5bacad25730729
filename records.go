package posluha

import (
	"context"
	"time"
)

// Applications stores applications (DynamoDB table "applications" in AWS,
// the local DynamoDB-compatible endpoint on-prem).
type Applications interface {
	// Create stores a new application in status submitted.
	// Errors: Application.Conflict when the id exists, or when the service
	// allows one open application per citizen and this citizen has one
	// (the message names the open application's id).
	Create(ctx context.Context, a *Application, oneOpen bool) error
	// Get returns Application.NotFound for an unknown id.
	Get(ctx context.Context, id string) (*Application, error)
	// ListByCitizen returns a citizen's applications, newest first, a page
	// at a time; next is "" on the last page.
	ListByCitizen(ctx context.Context, citizen string, limit int, after string) (apps []*Application, next string, err error)
	// Update reads the application, applies f and writes it back if f
	// returns nil and nobody changed it meanwhile (optimistic concurrency on
	// Version, retried a few times). A final status releases the
	// one-open-application lock. Errors: Application.NotFound, f's error.
	Update(ctx context.Context, id string, f func(*Application) error) (*Application, error)
	// ListSubmitted returns applications still in status submitted that
	// were created before `before`, oldest first, at most limit (default
	// 100). An application the API stored but could not hand to the queue
	// stays submitted; the dispatcher's sweeper finds it here. The query
	// costs the number of such applications, not the table's size.
	ListSubmitted(ctx context.Context, before time.Time, limit int) ([]*Application, error)
	// MarkStarted records that the application's execution exists, so
	// that ListSubmitted no longer returns it while its process has not
	// changed its status yet (a payout stays submitted until it is paid).
	// The status is left alone. Errors: Application.NotFound.
	MarkStarted(ctx context.Context, id string) error
}

// Move changes a's status, appending to its history. A repeated move to the
// status and step it already has is a no-op (retries and redrives repeat
// steps). Errors: Application.Conflict when the move is not allowed.
func (a *Application) Move(c StatusChange) error {
	if a.Status == c.Status && a.Step == c.Step && len(a.StatusHistory) > 0 {
		return nil
	}
	if !a.Status.CanMove(c.Status) {
		return Errorf(ErrApplicationConflict, "application %s is %s and cannot become %s", a.ID, a.Status, c.Status)
	}
	a.Status, a.Step, a.Updated = c.Status, c.Step, c.Time
	a.StatusHistory = append(a.StatusHistory, c)
	return nil
}

// Open reports whether the application still counts against the
// one-open-application rule.
func (a *Application) Open() bool { return !a.Status.Final() }

// Notification is a message to a citizen: kept in the in-app inbox, and sent
// by push or e-mail through the outbox.
type Notification struct {
	ID            string    `json:"id"` // idempotency: applicationId/step, so a retried task notifies once
	Citizen       string    `json:"citizen"`
	ApplicationID string    `json:"applicationId,omitempty"`
	Template      string    `json:"template"`
	Title         Text      `json:"title"`
	Body          Text      `json:"body"`
	Time          time.Time `json:"time"`
	Read          bool      `json:"read,omitempty"`
}

// Notifications is the citizens' inbox.
type Notifications interface {
	// Add stores n unless a notification with its ID exists (then no-op).
	Add(ctx context.Context, n *Notification) error
	// List returns a citizen's notifications, newest first.
	List(ctx context.Context, citizen string, limit int) ([]*Notification, error)
}

// Await is a task token parked by a BPMN user task, receive task or
// message catch event (eventwrite action "await"), found again by its
// correlation key when the answer comes.
type Await struct {
	Key           string    `json:"key"` // correlation key
	ApplicationID string    `json:"applicationId"`
	Step          string    `json:"step"`
	Token         string    `json:"taskToken"`
	Created       time.Time `json:"created"`
}

// Awaits stores parked task tokens.
type Awaits interface {
	// Put stores a; a repeated Put for the same key replaces the token (the
	// task was retried and has a new one).
	Put(ctx context.Context, a *Await) error
	// Take returns and deletes the await for key, so that one answer
	// completes one task. Errors: Application.NotFound when nothing waits.
	Take(ctx context.Context, key string) (*Await, error)
}

// Effects remembers the outcome of every external write by its
// idempotency key (applicationId/step), so that a retry or a redrive
// returns the first outcome instead of writing again.
type Effects interface {
	// Get returns the recorded result and true, or false when the write
	// has not been made.
	Get(ctx context.Context, key string) (result []byte, ok bool, err error)
	// Put records the result of a write; the first Put for a key wins.
	Put(ctx context.Context, key string, result []byte) error
}
