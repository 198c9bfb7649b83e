package stats

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/shiliu/shiliu/server/record"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// State marks work the statistics owe: the migration that creates the aggregate leaves a
// "rebuild" row, and the first server to start counts the records that were there before.
type State struct {
	Name  string `gorm:"primaryKey"`
	Value string
}

func (State) TableName() string { return "stats_state" }

const rebuildBatch = 1000

// Prepare rebuilds the statistics when a migration asked for it. Rebuilding is idempotent and
// takes row locks on MySQL, so instances starting together, or a server already taking
// submissions, do not count a record twice.
func Prepare(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	var rows []State
	if err := db.WithContext(ctx).Where("name = ?", "rebuild").Find(&rows).Error; err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	start := time.Now()
	n, err := Rebuild(ctx, db)
	if err != nil {
		return err
	}
	log.Info("statistics rebuilt from the records", "records", n, "ms", time.Since(start).Milliseconds())
	return db.WithContext(ctx).Where("name = ?", "rebuild").Delete(&State{}).Error
}

// Rebuild recounts every record, a thousand at a time, and each instructor's latest record (from
// the same scan). Records whose fact is already right cost a read and nothing else.
func Rebuild(ctx context.Context, db *gorm.DB) (int, error) {
	db = db.WithContext(ctx)
	var after int64
	done := 0
	latest := map[int64]time.Time{}
	for {
		n := 0
		err := db.Transaction(func(tx *gorm.DB) error {
			var recs []record.Record
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id", "kind", "author_id", "region_code", "occurred_at", "status").
				Where("id > ?", after).Order("id").Limit(rebuildBatch).Find(&recs).Error; err != nil {
				return err
			}
			n = len(recs)
			if n == 0 {
				return nil
			}
			ids := make([]int64, n)
			for i, r := range recs {
				ids[i] = r.ID
			}
			srcs, err := sources(tx, recs)
			if err != nil {
				return err
			}
			var old []Fact
			if err := tx.Where("record_id IN ?", ids).Find(&old).Error; err != nil {
				return err
			}
			oldOf := map[int64]Fact{}
			for _, f := range old {
				oldOf[f.RecordID] = f
			}
			dl := deltas{}
			var changed []Fact
			for _, r := range recs {
				if r.Status != record.StatusWithdrawn && r.OccurredAt.After(latest[r.AuthorID]) {
					latest[r.AuthorID] = r.OccurredAt
				}
				now := factOf(r.ID, srcs[r.ID])
				if f, ok := oldOf[r.ID]; ok {
					if f.same(now) {
						continue
					}
					dl.add(f, -1)
				}
				dl.add(now, 1)
				changed = append(changed, now)
			}
			if err := dl.apply(tx); err != nil {
				return err
			}
			if len(changed) > 0 {
				if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(changed, 200).Error; err != nil {
					return err
				}
			}
			after = recs[n-1].ID
			return nil
		})
		if err != nil {
			return done, err
		}
		done += n
		if n < rebuildBatch {
			break
		}
	}
	return done, writeActivity(db, latest)
}

// writeActivity records each instructor's latest record, never moving one back: a submission
// during the rebuild may have set a later one.
func writeActivity(db *gorm.DB, latest map[int64]time.Time) error {
	ids := slices.Sorted(maps.Keys(latest))
	for chunk := range slices.Chunk(ids, 500) {
		if err := db.Transaction(func(tx *gorm.DB) error {
			for _, id := range chunk {
				if err := moveActivity(tx, id, latest[id]); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// sources reads what the facts of these records are computed from: the records and their tip
// and mediation fields, a thousand at a time.
func sources(db *gorm.DB, recs []record.Record) (map[int64]source, error) {
	out := make(map[int64]source, len(recs))
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
		out[r.ID] = source{Kind: r.Kind, RegionCode: r.RegionCode, Status: r.Status, OccurredAt: r.OccurredAt}
	}
	for chunk := range slices.Chunk(ids, rebuildBatch) {
		var tips []record.Tip
		if err := db.Session(&gorm.Session{NewDB: true}).Where("record_id IN ?", chunk).Find(&tips).Error; err != nil {
			return nil, err
		}
		for i := range tips {
			src := out[tips[i].RecordID]
			src.Tip = &tips[i]
			out[tips[i].RecordID] = src
		}
		var meds []record.Mediation
		if err := db.Session(&gorm.Session{NewDB: true}).Select("record_id", "outcome").Where("record_id IN ?", chunk).Find(&meds).Error; err != nil {
			return nil, err
		}
		for _, m := range meds {
			src := out[m.RecordID]
			src.Outcome = m.Outcome
			out[m.RecordID] = src
		}
	}
	return out, nil
}
