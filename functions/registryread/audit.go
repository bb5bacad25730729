package registryread

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/posluha/posluha/functions/internal/dynamo"
)

// Record is one audited registry read. It holds who read, for which
// application and registry, when and with what outcome, never what was read.
type Record struct {
	Time          time.Time `json:"time"`
	Principal     string    `json:"principal"` // the reading function
	ApplicationID string    `json:"applicationId"`
	Service       string    `json:"service"` // the public service the read is for (its purpose)
	Step          string    `json:"step"`    // BPMN element that asked
	Attempt       int       `json:"attempt"`
	Connector     string    `json:"connector"`
	Registry      string    `json:"registry"`
	Outcome       string    `json:"outcome"` // "ok" or the error name
	DurationMS    int64     `json:"durationMs"`
}

// Auditor stores audit records: DynamoAudit in AWS and the local stack,
// MemoryAudit in tests.
type Auditor interface {
	// Record stores r durably before the read's data is released.
	Record(ctx context.Context, r Record) error
}

// MemoryAudit keeps records in memory and writes each to a log as well;
// it serves the local stack and tests.
type MemoryAudit struct {
	log     *slog.Logger
	mu      sync.Mutex
	records []Record
}

var _ Auditor = (*MemoryAudit)(nil)

// NewMemoryAudit returns an auditor that also logs to log (nil: no log).
func NewMemoryAudit(log *slog.Logger) *MemoryAudit {
	return &MemoryAudit{log: log}
}

// Record implements Auditor.
func (a *MemoryAudit) Record(ctx context.Context, r Record) error {
	a.mu.Lock()
	a.records = append(a.records, r)
	a.mu.Unlock()
	if a.log != nil {
		a.log.InfoContext(ctx, "audit", "audit", r)
	}
	return nil
}

// Records returns the records so far.
func (a *MemoryAudit) Records() []Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Record(nil), a.records...)
}

// DynamoAudit stores records in the append-only read audit table, one item
// per read keyed by applicationId and time#step#attempt#connector.
type DynamoAudit struct {
	Table *dynamo.ReadAudit
}

var _ Auditor = (*DynamoAudit)(nil)

// Record implements Auditor.
func (a *DynamoAudit) Record(ctx context.Context, r Record) error {
	return a.Table.Put(ctx, dynamo.ReadRecord(r))
}
