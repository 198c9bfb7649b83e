package migrations

import (
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v45 creates the full-text indexes of the roster's name search, one of units and one of
// instructors (package fulltext, as v44 does for records), and fills them with the existing
// rows, 5,000 ids a batch, each batch committed with its progress in unit_search_fill and
// instructor_search_fill: a start interrupted mid-way goes on from the last batch. A MariaDB
// without the Mroonga plugin gets none: the name search keeps using LIKE, and the roster's
// index writer creates and fills them at a start once the plugin is there.
func v45(tx *gorm.DB, _ database.Dialect) error {
	for _, src := range []*fulltext.Source{fulltext.Units, fulltext.Instructors} {
		if _, err := src.Ensure(tx); err != nil {
			return err
		}
		if err := src.Fill(tx.Statement.Context, tx, nil); err != nil {
			return err
		}
	}
	return nil
}
