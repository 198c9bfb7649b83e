package migrations

import (
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v44 creates the Chinese full-text index of records (package fulltext: Mroonga on MariaDB,
// InnoDB FULLTEXT with the ngram parser on MySQL 8, FTS5 on SQLite) and fills it with the
// existing records, 5,000 ids a batch, each batch committed with its progress in
// record_search_fill: a start interrupted mid-way goes on from the last batch at the next start.
// A MariaDB without the Mroonga plugin gets no index: keyword search keeps using LIKE, and the
// server says so at start (the sweep creates and fills the index once the plugin is there).
//
// Unlike the other steps this one calls a live package: the index's tables and their filling
// are the package's own, kept in one place for the migration, the repair at start and the
// benchmark's seed.
func v44(tx *gorm.DB, _ database.Dialect) error {
	if _, err := fulltext.Ensure(tx); err != nil {
		return err
	}
	return fulltext.Fill(tx.Statement.Context, tx, nil)
}
