package support

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Store is the projection the console reads: applications by id and the
// indexed lists and counters its pages show. local/console.Projection
// (bbolt, the local stack) and DynamoProjection (AWS) implement it; both
// run the same conformance suite (local/console/storetest_test.go).
//
// Lists return pages in a fixed order with an opaque cursor (Page.Next) to
// pass back as after; limit is clamped to 1..500 (50 when out of range).
type Store interface {
	// Apply folds status events in. It is idempotent and order-safe
	// per application: an event whose Sequence the record has seen is
	// skipped, so redelivery and replay change nothing. Unreadable events
	// are skipped; only storage errors fail. Its signature is the local
	// bus's handler's.
	Apply(ctx context.Context, events []events.CloudWatchEvent) error
	// Get returns one application. Errors: ErrNotFound.
	Get(ctx context.Context, id string) (*App, error)
	// Services lists the services seen, sorted.
	Services(ctx context.Context) ([]string, error)
	// Stats returns a service's counters and its per-minute throughput
	// over the hour before now.
	Stats(ctx context.Context, service string, now time.Time) (*ServiceStats, error)
	// Failed lists FAILED (and, across services, TIMED_OUT) applications,
	// newest failure first; service "" lists every service.
	Failed(ctx context.Context, service string, limit int, after string) (*Page, error)
	// Stuck lists running applications whose steps have not changed since
	// before cutoff, longest stuck first.
	Stuck(ctx context.Context, service string, cutoff time.Time, limit int, after string) (*Page, error)
	// AtStep lists the running applications at a step of a service.
	AtStep(ctx context.Context, service, step string, limit int, after string) (*Page, error)
	// ByCitizen lists a citizen's applications.
	ByCitizen(ctx context.Context, citizen string, limit int, after string) (*Page, error)
	// StatusCounts returns service → execution status → applications.
	StatusCounts(ctx context.Context) (map[string]map[string]int64, error)
	// StepCounts returns service → BPMN element → running applications.
	StepCounts(ctx context.Context) (map[string]map[string]int64, error)
}

// AuditLog is the append-only record of what support saw and did: the
// local file (local/console.Audit) or a DynamoDB table (DynamoAudit).
type AuditLog interface {
	// Append records e (Seq, Prev and Hash are filled in) durably before
	// it returns.
	Append(ctx context.Context, e Entry) (Entry, error)
	// List returns the entries for an application ("" for all), newest
	// first, at most limit (limit <= 0: all).
	List(ctx context.Context, applicationID string, limit int) ([]Entry, error)
}
