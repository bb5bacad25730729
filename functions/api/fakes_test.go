package api_test

import (
	"context"
	"sync"
	"time"

	"github.com/posluha/posluha/functions/api"
)

// Queue is a func-field fake of api.Queue that also records what was sent.
type Queue struct {
	SendFunc func(ctx context.Context, id string, body []byte) error
	mu       sync.Mutex
	Sent     map[string][][]byte
}

var _ api.Queue = (*Queue)(nil)

func (q *Queue) Send(ctx context.Context, id string, body []byte) error {
	if q.SendFunc != nil {
		if err := q.SendFunc(ctx, id, body); err != nil {
			return err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Sent == nil {
		q.Sent = map[string][][]byte{}
	}
	q.Sent[id] = append(q.Sent[id], body)
	return nil
}

func (q *Queue) count(id string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.Sent[id])
}

// Executions is a func-field fake of api.Executions.
type Executions struct {
	StopFunc            func(ctx context.Context, service, id, cause string) error
	SendTaskSuccessFunc func(ctx context.Context, token, output string) error
}

var _ api.Executions = (*Executions)(nil)

func (e *Executions) Stop(ctx context.Context, service, id, cause string) error {
	if e.StopFunc == nil {
		return nil
	}
	return e.StopFunc(ctx, service, id, cause)
}

func (e *Executions) SendTaskSuccess(ctx context.Context, token, output string) error {
	if e.SendTaskSuccessFunc == nil {
		return nil
	}
	return e.SendTaskSuccessFunc(ctx, token, output)
}

// Signatures is a func-field fake of api.Signatures.
type Signatures struct {
	SignerFunc func(ctx context.Context, requestID string) (string, string, error)
	SubmitFunc func(ctx context.Context, requestID string, cms []byte) error
}

func (s *Signatures) Signer(ctx context.Context, requestID string) (string, string, error) {
	return s.SignerFunc(ctx, requestID)
}

func (s *Signatures) Submit(ctx context.Context, requestID string, cms []byte) error {
	return s.SubmitFunc(ctx, requestID, cms)
}

// Documents is a func-field fake of api.Documents.
type Documents struct {
	LinkFunc func(ctx context.Context, key string, ttl time.Duration) (string, error)
}

func (d *Documents) Link(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return d.LinkFunc(ctx, key, ttl)
}
