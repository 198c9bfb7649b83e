package migrations

import (
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v22 brings the copies of an instructor's region back in step with the roster. Before it, a
// transfer to a unit in another county moved the instructor but not their account (whose region
// goes into their tokens, their audit entries and their uploads) nor their files not yet
// attached, so the old county kept reading them. From now on the roster tells both of every
// move in the same transaction; this step mends what earlier moves left behind. Access tokens
// carrying the old region live minutes, and a refresh re-reads the account.
func v22(tx *gorm.DB, _ database.Dialect) error {
	if err := tx.Exec(`UPDATE accounts SET region_code =
		(SELECT i.region_code FROM instructors i WHERE i.id = accounts.instructor_id)
		WHERE instructor_id IS NOT NULL AND EXISTS
		(SELECT 1 FROM instructors i WHERE i.id = accounts.instructor_id AND i.region_code <> accounts.region_code)`).Error; err != nil {
		return err
	}
	return tx.Exec(`UPDATE uploads SET region_code =
		(SELECT i.region_code FROM instructors i WHERE i.id = uploads.instructor_id)
		WHERE owner_id IS NULL AND instructor_id IS NOT NULL AND EXISTS
		(SELECT 1 FROM instructors i WHERE i.id = uploads.instructor_id AND i.region_code <> uploads.region_code)`).Error
}
