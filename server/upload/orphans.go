package upload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shiliu/shiliu/server/platform/sweep"
)

// orphanBatch is how many orphans one sweep round looks at.
const orphanBatch = 100

// DeleteOrphans deletes the uploads never attached to an owner (a record, task, task report or
// bulletin) that were uploaded more than olderThan ago: the phone gave up on them. Each row goes
// by a delete that holds only while the upload is still unattached, so an attach committing at
// the same moment keeps its upload (and a submission that loses the race fails on its
// attachments instead of pointing at a deleted file); the file goes only after its row did.
// Several instances may sweep at once: each row is deleted by one of them, and only that one
// removes the file. It returns how many uploads it deleted.
func (s *Service) DeleteOrphans(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := s.clock.Now().Add(-olderThan)
	deleted := 0
	var fileErrs []error
	for {
		// Unattached uploads are few (fresh ones and orphans), and the owner index holds exactly
		// them under owner_kind = '' and owner_id IS NULL, in id order.
		var rows []Upload
		if err := s.db.WithContext(ctx).Select("id", "storage_key").
			Where("owner_kind = '' AND owner_id IS NULL AND created_at < ?", cutoff).
			Order("id").Limit(orphanBatch).Find(&rows).Error; err != nil {
			return deleted, errors.Join(append(fileErrs, err)...)
		}
		round := 0
		for _, u := range rows {
			res := s.db.WithContext(ctx).Where("id = ? AND owner_id IS NULL", u.ID).Delete(&Upload{})
			if res.Error != nil {
				return deleted, errors.Join(append(fileErrs, res.Error)...)
			}
			if res.RowsAffected == 0 {
				continue // attached meanwhile, or another instance deleted it
			}
			round++
			deleted++
			s.metrics.orphans.Inc()
			// The row is gone for good: the file must go even if the sweep is being stopped.
			if err := s.store.Delete(context.WithoutCancel(ctx), u.StorageKey); err != nil {
				fileErrs = append(fileErrs, fmt.Errorf("delete file of orphan upload %d: %w", u.ID, err))
			}
		}
		if len(rows) < orphanBatch || round == 0 {
			return deleted, errors.Join(fileErrs...)
		}
	}
}

// Sweep deletes orphan uploads, and resumable uploads abandoned past their expiry, every interval
// until ctx ends; every <= 0 disables it (then another instance must run it).
func (s *Service) Sweep(ctx context.Context, every, orphanAfter time.Duration) {
	if orphanAfter <= 0 {
		return
	}
	sweep.Counting(ctx, s.log, every, "orphan uploads deleted (never attached) and abandoned partial uploads", func(ctx context.Context) (int, error) {
		n, err := s.DeleteOrphans(ctx, orphanAfter)
		m, perr := s.DeleteExpiredPartials(ctx)
		return n + m, errors.Join(err, perr)
	})
}

// metrics are the uploads' Prometheus series; they count from NewService and are exported once
// registered (Collectors).
type metrics struct {
	orphans prometheus.Counter
}

func newMetrics() metrics {
	return metrics{orphans: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "shiliu_uploads_orphans_deleted_total", Help: "Uploads deleted by the sweep because no record or other owner took them in time.",
	})}
}

// Collectors are the series to register: orphans deleted, and uploads being received now
// against the cap.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		s.metrics.orphans,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shiliu_uploads_in_flight", Help: "Uploads this instance is receiving now (at most uploads.max_concurrent).",
		}, func() float64 { return float64(s.InFlight()) }),
	}
}
