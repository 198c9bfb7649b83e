package migrations

import (
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v13TrainingTally is the attendance of one training session by the county its instructors were
// enrolled in, kept by the training service with each attendance it records. A province's year
// is hundreds of thousands of enrolments; the statistics of a province, city or county sum these
// rows instead (a session's hours are joined at query time: a session's hours can still change).
type v13TrainingTally struct {
	SessionID  int64  `gorm:"primaryKey;autoIncrement:false"`
	CountyCode string `gorm:"primaryKey;size:12;index:idx_training_tallies_county,priority:1"`
	Attended   int64  `gorm:"not null;default:0"` // enrolments attended
	Whole      int64  `gorm:"not null;default:0"` // of which credited the session's hours
	Tenths     int64  `gorm:"not null;default:0"` // tenths of hours of the others, their own
}

func (v13TrainingTally) TableName() string { return "training_tallies" }

func v13(tx *gorm.DB, d database.Dialect) error {
	if err := database.CreateTables(tx, &v13TrainingTally{}); err != nil {
		return err
	}
	county := "SUBSTR(region_code, 1, 6) || '000000'"
	if d == database.MySQL {
		county = "CONCAT(SUBSTRING(region_code, 1, 6), '000000')"
	}
	// Attendance recorded before this step. A re-run after a crash starts again from nothing.
	if err := tx.Exec("DELETE FROM training_tallies").Error; err != nil {
		return err
	}
	return tx.Exec("INSERT INTO training_tallies (session_id, county_code, attended, whole, tenths) "+
		"SELECT session_id, "+county+", COUNT(*), COUNT(*) - COUNT(hours_tenths), COALESCE(SUM(hours_tenths), 0) "+
		"FROM training_enrolments WHERE status = ? GROUP BY session_id, "+county, "attended").Error
}
