package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v11Record declares the indexes the record lists need at a million rows (docs/performance.md).
// A list first asks for the ids of its page (record.Service.List) and each of these answers
// that from the index alone, every InnoDB index ending in the primary key:
//   - region subtree then date, and date then region: a county's month a year ago, the
//     province's last month, exports with from/to (the optimizer takes the narrower range);
//   - one kind in a region subtree: a county's tips, a tip export;
//   - one kind and status in a subtree: a county's tips waiting for acknowledgement;
//   - an instructor's own records of one kind, in id order without a sort.
//
// Three of them extend the single-column region, date and kind-status indexes, which go.
type v11Record struct {
	Kind       string    `gorm:"size:16;index:idx_records_kind_region,priority:1;index:idx_records_kind_status_region,priority:1;index:idx_records_author_kind,priority:2"`
	Status     string    `gorm:"size:16;index:idx_records_kind_status_region,priority:2"`
	AuthorID   int64     `gorm:"index:idx_records_author_kind,priority:1"`
	RegionCode string    `gorm:"size:12;index:idx_records_region_occurred,priority:1;index:idx_records_occurred_region,priority:2;index:idx_records_kind_region,priority:2;index:idx_records_kind_status_region,priority:3"`
	OccurredAt time.Time `gorm:"index:idx_records_region_occurred,priority:2;index:idx_records_occurred_region,priority:1;index:idx_records_kind_region,priority:3"`
}

func (v11Record) TableName() string { return "records" }

func v11(tx *gorm.DB, _ database.Dialect) error {
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	for _, name := range []string{"idx_records_region_occurred", "idx_records_occurred_region", "idx_records_kind_region", "idx_records_kind_status_region", "idx_records_author_kind"} {
		if !m.HasIndex(&v11Record{}, name) {
			if err := m.CreateIndex(&v11Record{}, name); err != nil {
				return err
			}
		}
	}
	for _, name := range []string{"idx_records_region", "idx_records_occurred", "idx_records_kind_status"} {
		if m.HasIndex(&v11Record{}, name) {
			if err := m.DropIndex(&v11Record{}, name); err != nil {
				return err
			}
		}
	}
	return nil
}
