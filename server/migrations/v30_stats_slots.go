package migrations

import (
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v30Count is the monthly aggregate with each cell spread over slots (a record counts in the
// slot of its id): concurrent submissions of one county no longer queue on the county's and the
// city's row. Readers sum, as they did across regions. The existing counts move to slot 0.
type v30Count struct {
	Grain      int    `gorm:"primaryKey;autoIncrement:false"`
	RegionCode string `gorm:"primaryKey;size:12"`
	Month      int    `gorm:"primaryKey;autoIncrement:false"`
	Metric     string `gorm:"primaryKey;size:64"`
	Slot       int    `gorm:"primaryKey;autoIncrement:false"`
	N          int64  `gorm:"not null;default:0"`
}

func (v30Count) TableName() string { return "stats_monthly_v30" }

// v30Table is stats_monthly itself, before or after the step.
type v30Table struct {
	Slot int
}

func (v30Table) TableName() string { return "stats_monthly" }

// v30 rebuilds stats_monthly with the slot in its primary key (SQLite cannot change a primary
// key in place). MySQL commits each DDL statement at once, so every step checks where a crashed
// run stopped: the copy exists, the old table is gone, the rename is done.
func v30(tx *gorm.DB, _ database.Dialect) error {
	m := tx.Migrator()
	if m.HasTable(&v30Table{}) && m.HasColumn(&v30Table{}, "Slot") {
		return v30Index(tx)
	}
	if m.HasTable(&v30Table{}) {
		// A copy a crash left half made is made again. (Plain SQL: the MySQL migrator's
		// DropTable asks for a pool, and the migration runs on one pinned connection.)
		if err := tx.Exec("DROP TABLE IF EXISTS stats_monthly_v30").Error; err != nil {
			return err
		}
		if err := m.CreateTable(&v30Count{}); err != nil {
			return err
		}
		if err := tx.Exec("INSERT INTO stats_monthly_v30 (grain, region_code, month, metric, slot, n) " +
			"SELECT grain, region_code, month, metric, 0, n FROM stats_monthly").Error; err != nil {
			return err
		}
		if err := tx.Exec("DROP TABLE stats_monthly").Error; err != nil {
			return err
		}
	}
	if err := m.RenameTable(&v30Count{}, &v30Table{}); err != nil {
		return err
	}
	return v30Index(tx)
}

// v30Index is the province queries' covering index of v10, on the new table (dropping the old
// table dropped it).
func v30Index(tx *gorm.DB) error {
	if tx.Migrator().HasIndex(&v30Table{}, "idx_stats_monthly_month") {
		return nil
	}
	return tx.Exec("CREATE INDEX idx_stats_monthly_month ON stats_monthly (grain, month, region_code, metric, n)").Error
}
