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

// factColumns are the columns of a record its fact is computed from (with its author's).
var factColumns = []string{"id", "kind", "author_id", "region_code", "occurred_at", "status", "role", "tags"}

// Prepare rebuilds the statistics when a migration asked for it: "rebuild" recounts every
// record, "rebuild_tips" only the tips (migration 32 gave their durations a level). Rebuilding is
// idempotent and takes row locks on MySQL, so instances starting together, or a server already
// taking submissions, do not count a record twice.
func Prepare(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	var rows []State
	if err := db.WithContext(ctx).Where("name IN ?", []string{"rebuild", "rebuild_tips"}).Find(&rows).Error; err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	all := slices.ContainsFunc(rows, func(r State) bool { return r.Name == "rebuild" })
	start := time.Now()
	var n int
	var err error
	if all {
		n, err = Rebuild(ctx, db)
	} else {
		n, err = RebuildTips(ctx, db)
	}
	if err != nil {
		return err
	}
	log.Info("statistics rebuilt from the records", "records", n, "only_tips", !all, "ms", time.Since(start).Milliseconds())
	return db.WithContext(ctx).Where("name IN ?", []string{"rebuild", "rebuild_tips"}).Delete(&State{}).Error
}

// Rebuild recounts every record, a thousand at a time, and each instructor's latest record (from
// the same scan). Records whose fact is already right cost a read and nothing else.
func Rebuild(ctx context.Context, db *gorm.DB) (int, error) {
	latest := map[int64]time.Time{}
	done, err := rebuild(ctx, db, func(tx *gorm.DB, after int64) ([]record.Record, int64, error) {
		var recs []record.Record
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select(factColumns).
			Where("id > ?", after).Order("id").Limit(rebuildBatch).Find(&recs).Error
		if err != nil || len(recs) == 0 {
			return nil, 0, err
		}
		return recs, recs[len(recs)-1].ID, nil
	}, latest)
	if err != nil {
		return done, err
	}
	return done, writeActivity(db.WithContext(ctx), latest)
}

// RebuildTips recounts the tips only, found through their own table (a twentieth of the
// records): what a change to the tips' metrics needs. An instructor's latest record does not
// depend on them.
func RebuildTips(ctx context.Context, db *gorm.DB) (int, error) {
	return rebuild(ctx, db, func(tx *gorm.DB, after int64) ([]record.Record, int64, error) {
		var ids []int64
		if err := tx.Model(&record.Tip{}).Where("record_id > ?", after).Order("record_id").Limit(rebuildBatch).
			Pluck("record_id", &ids).Error; err != nil || len(ids) == 0 {
			return nil, 0, err
		}
		var recs []record.Record
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select(factColumns).
			Where("id IN ?", ids).Order("id").Find(&recs).Error
		return recs, ids[len(ids)-1], err
	}, nil)
}

// rebuild recounts the records next returns, batch after batch in id order, each batch in a
// transaction, until next reads nothing; next answers the last id it read, from which the next
// batch starts. latest (when not nil) collects each author's latest counted record.
func rebuild(ctx context.Context, db *gorm.DB, next func(tx *gorm.DB, after int64) ([]record.Record, int64, error), latest map[int64]time.Time) (int, error) {
	db = db.WithContext(ctx)
	var after int64
	done := 0
	for {
		n, last := 0, int64(0)
		err := db.Transaction(func(tx *gorm.DB) error {
			recs, lastRead, err := next(tx, after)
			if err != nil {
				return err
			}
			n, last = len(recs), lastRead
			if lastRead == 0 {
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
				if latest != nil && r.Status != record.StatusWithdrawn && r.OccurredAt.After(latest[r.AuthorID]) {
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
			return nil
		})
		if err != nil {
			return done, err
		}
		done += n
		if last == 0 {
			return done, nil
		}
		after = last
	}
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
		out[r.ID] = sourceOfRecord(&r)
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
