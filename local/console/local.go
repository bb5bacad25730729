package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/posluha/posluha/local/bus"
	"github.com/posluha/posluha/local/engine"
)

// Local is the console's durable parts for the local stack: the status
// bus outbox, the projection subscribed to it and the audit log, each a
// file in one directory.
type Local struct {
	Bus        *bus.Bus
	Projection *Projection
	Audit      *Audit

	fresh bool // the projection file was created by this OpenLocal
	feed  *bus.Feed
}

// OpenLocal opens (or creates) bus.db, console.db and audit.jsonl in dir
// and subscribes the projection to the bus. Wrap the engine's store with
// Feed, then Start before the engine starts, so that the executions it
// resumes are seen.
func OpenLocal(dir string, log *slog.Logger) (_ *Local, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("console directory: %w", err)
	}
	l := &Local{}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.Bus, err = bus.Open(filepath.Join(dir, "bus.db"), bus.Options{Logger: log}); err != nil {
		return nil, err
	}
	projPath := filepath.Join(dir, "console.db")
	if _, serr := os.Stat(projPath); errors.Is(serr, os.ErrNotExist) {
		l.fresh = true
	}
	if l.Projection, err = OpenProjection(projPath, ProjectionOptions{}); err != nil {
		return nil, err
	}
	if l.Audit, err = OpenAudit(filepath.Join(dir, "audit.jsonl")); err != nil {
		return nil, err
	}
	l.Bus.Subscribe("console", l.Projection.Apply)
	return l, nil
}

// Feed wraps the engine's store so that its saves publish to the bus.
func (l *Local) Feed(inner engine.Store) *bus.Feed {
	l.feed = bus.NewFeed(inner, l.Bus)
	return l.feed
}

// Start recovers and starts the bus. A projection created by this
// OpenLocal first catches up from the engine's store (Feed.Replay), so
// that a console added to a stack with executions shows them.
func (l *Local) Start(ctx context.Context) error {
	if l.fresh && l.feed != nil {
		if _, err := l.feed.Replay(ctx, l.Projection.Apply, 1000); err != nil {
			return fmt.Errorf("console projection: %w", err)
		}
		l.fresh = false
	}
	return l.Bus.Start(ctx)
}

// Close closes the bus (undelivered events stay for the next start), the
// projection and the audit log.
func (l *Local) Close() error {
	var errs []error
	if l.Bus != nil {
		errs = append(errs, l.Bus.Close())
	}
	if l.Projection != nil {
		errs = append(errs, l.Projection.Close())
	}
	if l.Audit != nil {
		errs = append(errs, l.Audit.Close())
	}
	return errors.Join(errs...)
}
