package training

import (
	"fmt"

	"gorm.io/gorm"
)

// Tally is the attendance of one session by the county its instructors were enrolled in
// (migration 13). RecordAttendance keeps it in the transaction that records an attendance, so
// the statistics of a province, city or county sum a few rows per session instead of a year's
// enrolments; the session's hours are applied at query time because they can still change.
type Tally struct {
	SessionID  int64  `gorm:"primaryKey;autoIncrement:false"`
	CountyCode string `gorm:"primaryKey"`
	Attended   int64  // enrolments attended
	Whole      int64  // of which credited the whole session's hours
	Tenths     int64  // tenths of hours credited to the others, each their own
}

func (Tally) TableName() string { return "training_tallies" }

// contribution is what one enrolment adds to its session's tally.
func contribution(status string, hoursTenths *int) (attended, whole, tenths int64) {
	if status != StatusAttended {
		return 0, 0, 0
	}
	if hoursTenths == nil {
		return 1, 1, 0
	}
	return 1, 0, int64(*hoursTenths)
}

// Trainee is one instructor trained in one year, by the region they were enrolled in (migration
// 36): how many different instructors a region trained in a year counts these rows, where
// Attended > 0, instead of reading the year's enrolments.
type Trainee struct {
	Year         int    `gorm:"primaryKey;autoIncrement:false"`
	InstructorID int64  `gorm:"primaryKey;autoIncrement:false"`
	RegionCode   string `gorm:"primaryKey"`
	Attended     int64
}

func (Trainee) TableName() string { return "training_trainees" }

// tally moves an enrolment's contribution from what it was to what it is now, in the session's
// tally and in the instructor's row of the year. The caller holds the enrolment's row lock, so
// concurrent recordings of one enrolment count once each.
func tally(tx *gorm.DB, e Enrolment, year int, status string, hoursTenths *int) error {
	a0, w0, t0 := contribution(e.Status, e.HoursTenths)
	a1, w1, t1 := contribution(status, hoursTenths)
	da, dw, dt := a1-a0, w1-w0, t1-t0
	if da == 0 && dw == 0 && dt == 0 {
		return nil
	}
	if da != 0 {
		trainee := "ON CONFLICT (year, instructor_id, region_code) DO UPDATE SET attended = training_trainees.attended + excluded.attended"
		if tx.Dialector.Name() == "mysql" {
			trainee = "ON DUPLICATE KEY UPDATE attended = attended + VALUES(attended)"
		}
		if err := tx.Exec("INSERT INTO training_trainees (year, instructor_id, region_code, attended) VALUES (?, ?, ?, ?) "+trainee,
			year, e.InstructorID, e.RegionCode, da).Error; err != nil {
			return fmt.Errorf("training: tally trainee: %w", err)
		}
	}
	upsert := "ON CONFLICT (session_id, county_code) DO UPDATE SET attended = training_tallies.attended + excluded.attended, " +
		"whole = training_tallies.whole + excluded.whole, tenths = training_tallies.tenths + excluded.tenths"
	if tx.Dialector.Name() == "mysql" {
		upsert = "ON DUPLICATE KEY UPDATE attended = attended + VALUES(attended), whole = whole + VALUES(whole), " +
			"tenths = tenths + VALUES(tenths)"
	}
	if err := tx.Exec("INSERT INTO training_tallies (session_id, county_code, attended, whole, tenths) VALUES (?, ?, ?, ?, ?) "+upsert,
		e.SessionID, CountyOf(e.RegionCode), da, dw, dt).Error; err != nil {
		return fmt.Errorf("training: tally attendance: %w", err)
	}
	return nil
}

// CountyOf is the county an enrolment's region belongs to, as the tally keys it.
func CountyOf(regionCode string) string {
	if len(regionCode) < 6 {
		return regionCode
	}
	return regionCode[:6] + "000000"
}
