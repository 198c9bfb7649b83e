package app

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/notify"
	"github.com/shiliu/shiliu/server/platform/sweep"
)

// Tables the retention sweep deletes from, as its metric and log name them.
const (
	prunedEvents        = "events"
	prunedNotifications = "notifications"
	prunedAudit         = "audit_log"
)

func newPrunedCounter() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shiliu_retention_deleted_total",
		Help: "Rows deleted by this instance's retention sweep, by table (events, notifications, audit_log).",
	}, []string{"table"})
	for _, t := range []string{prunedEvents, prunedNotifications, prunedAudit} {
		c.WithLabelValues(t)
	}
	return c
}

// prune deletes what the retention configuration lets go: consumed events and final
// notifications (notify.Prune), audit entries (audit.Prune). Each package deletes its own rows
// in short batches that are safe beside other instances doing the same.
func (a *App) prune(ctx context.Context) (map[string]int64, error) {
	r := a.Config.Retention
	now := a.Clock.Now()
	n, err := notify.Prune(ctx, a.DB.DB, now, notify.Retention{Events: r.Events, Notifications: r.Notifications})
	counts := map[string]int64{prunedEvents: n.Events, prunedNotifications: n.Notifications}
	if r.Audit > 0 && ctx.Err() == nil {
		var aerr error
		counts[prunedAudit], aerr = audit.Prune(ctx, a.DB.DB, now.Add(-r.Audit))
		err = errors.Join(err, aerr)
	}
	return counts, err
}

// sweepRetention prunes every retention.interval until ctx ends; 0 disables it on this instance.
func (a *App) sweepRetention(ctx context.Context) {
	sweep.Every(ctx, a.Config.Retention.Interval, func(ctx context.Context) {
		start := time.Now()
		counts, err := a.prune(ctx)
		var total int64
		for table, n := range counts {
			total += n
			if n > 0 && a.pruned != nil {
				a.pruned.WithLabelValues(table).Add(float64(n))
			}
		}
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.ErrorContext(ctx, "retention sweep failed", "err", err, "events", counts[prunedEvents],
				"notifications", counts[prunedNotifications], "audit_log", counts[prunedAudit])
		case total > 0:
			a.Log.InfoContext(ctx, "retention: old rows deleted", "events", counts[prunedEvents],
				"notifications", counts[prunedNotifications], "audit_log", counts[prunedAudit],
				"ms", time.Since(start).Milliseconds())
		}
	})
}
