// Package sweep runs the periodic jobs of an instance: overdue tips, meeting reminders, scheduled
// bulletins, orphan uploads, retention. Every instance runs them; each job is written to be safe
// when several run at once.
package sweep

import (
	"context"
	"log/slog"
	"time"
)

// Every calls run each interval until ctx ends, the first time one interval after the start (a
// restart loop cannot turn into a burst); an interval <= 0 disables the job on this instance. A
// run that outlasts the interval delays the next one rather than overlapping it.
func Every(ctx context.Context, every time.Duration, run func(context.Context)) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Both cases can be ready at once (a tick during a run that ended with the shutdown)
			// and select picks either: no job starts after ctx has ended.
			if ctx.Err() != nil {
				return
			}
			run(ctx)
		}
	}
}

// Counting runs job on the schedule of Every and logs what it did: a failure as an error (unless
// ctx ended), a run that did something at info with its count, a run with nothing to do not at all.
func Counting(ctx context.Context, log *slog.Logger, every time.Duration, name string, job func(context.Context) (int, error)) {
	Every(ctx, every, func(ctx context.Context) {
		n, err := job(ctx)
		switch {
		case err != nil:
			if ctx.Err() == nil { // not the shutdown cutting it short
				log.ErrorContext(ctx, "sweep failed", "sweep", name, "count", n, "err", err)
			}
		case n > 0:
			log.InfoContext(ctx, "sweep done", "sweep", name, "count", n)
		}
	})
}
