package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v39Unit flags a unit where ethnic work is heavy (民族工作任务较重, measures §二(二)), where
// instructors are to be selected first, with the reason and who flagged it when.
// The index serves the statistics of flagged units (few of them) without touching the covering
// indexes of the other unit counts.
type v39Unit struct {
	Heavy             bool   `gorm:"not null;default:false;index:idx_units_heavy,priority:1"`
	RegionCode        string `gorm:"size:12;index:idx_units_heavy,priority:2"`
	ActiveInstructors int    `gorm:"index:idx_units_heavy,priority:3"`
	HeavyReason       string `gorm:"size:200;not null;default:''"`
	HeavyAt           *time.Time
	HeavyBy           int64 `gorm:"not null;default:0"`
}

func (v39Unit) TableName() string { return "units" }

// v39FilingStaleness is, for a county whose roster differs from its last accepted filing, since
// when it has differed and what it was last reminded of: one reminder per change of the roster,
// at most one per filing.remind_every.
type v39FilingStaleness struct {
	RegionCode       string    `gorm:"primaryKey;size:12"`
	AcceptedFilingID int64     `gorm:"not null"`
	RosterHash       string    `gorm:"size:64;not null"`
	StaleSince       time.Time `gorm:"not null"`
	RemindedHash     string    `gorm:"size:64;not null;default:''"`
	RemindedAt       *time.Time
	UpdatedAt        time.Time `gorm:"not null"`
}

func (v39FilingStaleness) TableName() string { return "filing_staleness" }

func v39(tx *gorm.DB, _ database.Dialect) error {
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	for _, c := range []string{"Heavy", "HeavyReason", "HeavyAt", "HeavyBy"} {
		if !m.HasColumn(&v39Unit{}, c) {
			if err := m.AddColumn(&v39Unit{}, c); err != nil {
				return err
			}
		}
	}
	if !m.HasIndex(&v39Unit{}, "idx_units_heavy") {
		if err := m.CreateIndex(&v39Unit{}, "idx_units_heavy"); err != nil {
			return err
		}
	}
	return database.CreateTables(tx, &v39FilingStaleness{})
}
