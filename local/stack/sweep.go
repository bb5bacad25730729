package stack

import (
	"context"
	"time"

	"github.com/posluha/posluha/functions/dispatcher"
)

// sweepEvery and sweepAge are the local counterparts of the dispatcher's
// EventBridge schedule in template.yaml.
const (
	sweepEvery = 30 * time.Second
	sweepAge   = 2 * time.Minute
)

// sweep starts, on a ticker, the applications the API stored but could
// not queue (dispatcher.Handler.Sweep).
func (s *Stack) sweep(ctx context.Context, d *dispatcher.Handler) {
	defer s.wg.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r, err := d.Sweep(ctx, dispatcher.SweepOptions{Age: sweepAge})
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("sweep unqueued applications", "step", "sweep", "err", err)
			case r.Started > 0 || r.Failed > 0:
				s.log.Warn("unqueued applications swept", "step", "sweep", "found", r.Found, "started", r.Started, "running", r.Running, "failed", r.Failed)
			}
		}
	}
}
