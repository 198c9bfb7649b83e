package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v36SupportRecord is support a department gave instructors (measures §五(一): 走访慰问、订阅报刊
// and other ways): one record, to one instructor or a group of them (its recipients). region_code
// is the recording department's region; recipient_region the region given as a whole, if it was.
type v36SupportRecord struct {
	ID              int64     `gorm:"primaryKey"`
	RegionCode      string    `gorm:"size:12;not null;index:idx_support_records_region"`
	Kind            string    `gorm:"size:24;not null"`
	GivenOn         time.Time `gorm:"type:date;not null"`
	GivenBy         string    `gorm:"size:100;not null;default:''"`
	Note            string    `gorm:"type:text"`
	RecipientRegion string    `gorm:"size:12;not null;default:''"`
	RecipientCount  int       `gorm:"not null;default:0"`
	CreatedBy       int64     `gorm:"not null;default:0"`
	CreatedAt       time.Time `gorm:"not null"`
	UpdatedAt       time.Time `gorm:"not null"`
}

func (v36SupportRecord) TableName() string { return "support_records" }

// v36SupportRecipient is one instructor a support record reached. Kind and given_on are copied
// from the record and region_code is the instructor's region then, so the yearly counts per
// region read this table alone, in the order of its index.
type v36SupportRecipient struct {
	ID           int64     `gorm:"primaryKey"`
	SupportID    int64     `gorm:"not null;uniqueIndex:uk_support_recipients,priority:1"`
	InstructorID int64     `gorm:"not null;uniqueIndex:uk_support_recipients,priority:2;index:idx_support_recipients_instructor"`
	UnitID       int64     `gorm:"not null;default:0"`
	RegionCode   string    `gorm:"size:12;not null;index:idx_support_recipients_region,priority:1"`
	Kind         string    `gorm:"size:24;not null"`
	GivenOn      time.Time `gorm:"type:date;not null;index:idx_support_recipients_region,priority:2"`
	CreatedAt    time.Time `gorm:"not null"`
}

func (v36SupportRecipient) TableName() string { return "support_recipients" }

// v36Suggestion is an instructor's suggestion to their county (听取意见建议) and the county's answer.
// The unique key on (instructor_id, client_id) stores a phone's retried submission once.
type v36Suggestion struct {
	ID           int64  `gorm:"primaryKey"`
	InstructorID int64  `gorm:"not null;uniqueIndex:uk_suggestions_client,priority:1"`
	ClientID     string `gorm:"size:64;not null;uniqueIndex:uk_suggestions_client,priority:2"`
	AccountID    int64  `gorm:"not null;default:0"`
	UnitID       int64  `gorm:"not null;default:0"`
	RegionCode   string `gorm:"size:12;not null;index:idx_suggestions_region"`
	CountyCode   string `gorm:"size:12;not null;index:idx_suggestions_county,priority:1"`
	Content      string `gorm:"type:text"`
	Status       string `gorm:"size:16;not null;index:idx_suggestions_county,priority:2"`
	Answer       string `gorm:"type:text"`
	AnsweredBy   int64  `gorm:"not null;default:0"`
	AnsweredAt   *time.Time
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null"`
}

func (v36Suggestion) TableName() string { return "suggestions" }

// v36Assessment is an instructor's yearly assessment (年度考核) with the performance card of that
// year as it stood when the grade was given (evidence, JSON).
type v36Assessment struct {
	ID           int64     `gorm:"primaryKey"`
	InstructorID int64     `gorm:"not null;uniqueIndex:uk_assessments,priority:1"`
	Year         int       `gorm:"not null;uniqueIndex:uk_assessments,priority:2;index:idx_assessments_region,priority:2"`
	UnitID       int64     `gorm:"not null;default:0"`
	RegionCode   string    `gorm:"size:12;not null;index:idx_assessments_region,priority:1"`
	Grade        string    `gorm:"size:24;not null"`
	Comment      string    `gorm:"type:text"`
	Evidence     string    `gorm:"type:text"`
	AssessedBy   int64     `gorm:"not null;default:0"`
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null"`
}

func (v36Assessment) TableName() string { return "assessments" }

// v36TrainingSession gains the topics of the measures (民族理论政策、法律法规、创建实务), as codes
// joined by commas.
type v36TrainingSession struct {
	Topics string `gorm:"size:100;not null;default:''"`
}

func (v36TrainingSession) TableName() string { return "training_sessions" }

// v36TrainingReminder marks a reminder written for one offset before one start time of a
// session, so that any number of instances remind once.
type v36TrainingReminder struct {
	SessionID     int64     `gorm:"primaryKey;autoIncrement:false"`
	OffsetMinutes int       `gorm:"primaryKey;autoIncrement:false"`
	StartsAt      time.Time `gorm:"primaryKey"`
	CreatedAt     time.Time `gorm:"not null"`
}

func (v36TrainingReminder) TableName() string { return "training_reminders" }

// v36TrainingTrainee is one instructor trained in one year, by the region they were enrolled in:
// how many different instructors a region trained in a year is a count of these rows, not of a
// year's enrolments. attended counts their sessions; the row stays at 0 when an attendance is
// corrected to absent, and then counts for nobody.
type v36TrainingTrainee struct {
	Year         int    `gorm:"primaryKey;autoIncrement:false;index:idx_training_trainees_region,priority:1"`
	InstructorID int64  `gorm:"primaryKey;autoIncrement:false"`
	RegionCode   string `gorm:"primaryKey;size:12;index:idx_training_trainees_region,priority:2"`
	Attended     int64  `gorm:"not null;default:0"`
}

func (v36TrainingTrainee) TableName() string { return "training_trainees" }

func v36(tx *gorm.DB, _ database.Dialect) error {
	if err := database.CreateTables(tx, &v36SupportRecord{}, &v36SupportRecipient{}, &v36Suggestion{}, &v36Assessment{},
		&v36TrainingReminder{}, &v36TrainingTrainee{}); err != nil {
		return err
	}
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	if m := tx.Migrator(); !m.HasColumn(&v36TrainingSession{}, "Topics") {
		if err := m.AddColumn(&v36TrainingSession{}, "Topics"); err != nil {
			return err
		}
	}
	return v36Trainees(tx)
}

// v36Trainees counts the attendance recorded before this step into training_trainees. The year is
// the session's in Beijing time, computed here rather than in SQL, which the two backends would
// spell differently. A re-run after a crash starts again from nothing.
func v36Trainees(tx *gorm.DB) error {
	if err := tx.Exec("DELETE FROM training_trainees").Error; err != nil {
		return err
	}
	type key struct {
		year int
		id   int64
		code string
	}
	counts := map[key]int64{}
	var order []key
	shanghai := time.FixedZone("CST", 8*3600)
	var last int64
	for {
		var rows []struct {
			ID           int64
			InstructorID int64
			RegionCode   string
			StartsAt     time.Time
		}
		if err := tx.Table("training_enrolments AS e").Joins("JOIN training_sessions AS s ON s.id = e.session_id").
			Select("e.id, e.instructor_id, e.region_code, s.starts_at").
			Where("e.status = ? AND e.id > ?", "attended", last).Order("e.id").Limit(5000).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			k := key{r.StartsAt.In(shanghai).Year(), r.InstructorID, r.RegionCode}
			if counts[k] == 0 {
				order = append(order, k)
			}
			counts[k]++
		}
		last = rows[len(rows)-1].ID
	}
	batch := make([]v36TrainingTrainee, 0, 500)
	for i, k := range order {
		batch = append(batch, v36TrainingTrainee{Year: k.year, InstructorID: k.id, RegionCode: k.code, Attended: counts[k]})
		if len(batch) == cap(batch) || i == len(order)-1 {
			if err := tx.Create(&batch).Error; err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}
