package migrations

import (
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v46: on SQLite a new record's full-text entry is no longer written in its submission's
// transaction; the index writer (fulltext.Index.Run) indexes the records above
// record_search_fill.last_id in batches. Until now every change wrote its entry in its own
// transaction, so every record already is indexed: last_id moves to the newest record, or the
// first start would index again every record submitted since migration 44.
func v46(tx *gorm.DB, d database.Dialect) error {
	if d != database.SQLite {
		return nil
	}
	var n int64
	if err := tx.Raw("SELECT COUNT(*) FROM sqlite_master WHERE name = 'record_search_fill'").Scan(&n).Error; err != nil || n == 0 {
		return err
	}
	return tx.Exec("UPDATE record_search_fill SET last_id = (SELECT COALESCE(MAX(id), 0) FROM records) WHERE id = 1").Error
}
