package migrations

import (
	"strings"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v33 lets a county's lists and an instructor's own list read their page from an index already
// in the list's order (id, newest first), whatever the mix and age of the records.
//
// A county's records lie under many township and village codes, so its region condition is a
// range, and no index can give "kind = ? AND region_code in a range ORDER BY id" in id order:
// the database either sorts every match or walks the primary key down from the newest record
// and filters, reading every newer record of other kinds or counties first (a county whose tips
// are older than its newest 230,000 visits took seconds for a page of tips). county_code, the
// county-level prefix of region_code computed by the database, turns the range into an equality:
// each index below is its list's equality filters followed by id. The county leads: with kind
// first, SQLite's statistics made a skip-scan over the four kinds, then a sort of the county's
// 400,000 records, look cheaper than the all-kinds index for a busy county's list of all kinds.
//
//   - county_code, id: a county's records of all kinds;
//   - county_code, kind, id: one kind in a county (the tip inbox, each kind's county list);
//   - county_code, kind, status, id: one kind and status in a county (tips waiting for
//     acknowledgement, tips in handling);
//   - author_id, id: an instructor's own records of all kinds (with one kind the v11 index
//     author_id, kind already ends in the primary key).
//
// The column is virtual: computed on read, stored only in the indexes, and never written by the
// application, so inserts and the write path stay as they are.
var v33Indexes = []struct{ name, columns string }{
	{"idx_records_county", "county_code, id"},
	{"idx_records_county_kind", "county_code, kind, id"},
	{"idx_records_county_kind_status", "county_code, kind, status, id"},
	{"idx_records_author", "author_id, id"},
}

func v33(tx *gorm.DB, d database.Dialect) error {
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	var have int64
	if d == database.MySQL {
		if err := tx.Raw("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'records' AND COLUMN_NAME = 'county_code'").Scan(&have).Error; err != nil {
			return err
		}
		if have == 0 {
			if err := tx.Exec("ALTER TABLE records ADD COLUMN county_code VARCHAR(6) AS (LEFT(region_code, 6)) VIRTUAL").Error; err != nil {
				return err
			}
		}
		// One ALTER builds every missing index in one pass over the table, online.
		var add []string
		for _, ix := range v33Indexes {
			if !tx.Migrator().HasIndex("records", ix.name) {
				add = append(add, "ADD INDEX "+ix.name+" ("+ix.columns+")")
			}
		}
		if len(add) == 0 {
			return nil
		}
		return tx.Exec("ALTER TABLE records " + strings.Join(add, ", ")).Error
	}
	// SQLite hides generated columns from table_info; table_xinfo lists them.
	if err := tx.Raw("SELECT COUNT(*) FROM pragma_table_xinfo('records') WHERE name = 'county_code'").Scan(&have).Error; err != nil {
		return err
	}
	if have == 0 {
		// SQLite adds generated columns to an existing table only as VIRTUAL.
		if err := tx.Exec("ALTER TABLE records ADD COLUMN county_code TEXT GENERATED ALWAYS AS (substr(region_code, 1, 6)) VIRTUAL").Error; err != nil {
			return err
		}
	}
	for _, ix := range v33Indexes {
		if err := tx.Exec("CREATE INDEX IF NOT EXISTS " + ix.name + " ON records (" + ix.columns + ")").Error; err != nil {
			return err
		}
	}
	return nil
}
