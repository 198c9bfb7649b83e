package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v7Instructor adds the term of office (seed §五(三): adjusted every 3 years). Dates are calendar
// days in China, stored as midnight UTC; the index serves "terms ending within N days".
type v7Instructor struct {
	TermStart *time.Time `gorm:"type:date"`
	TermEnd   *time.Time `gorm:"type:date;index:idx_instructors_term_end"`
}

func (v7Instructor) TableName() string { return "instructors" }

// v7InstructorHistory is one appointment, renewal, adjustment or roster change of an instructor.
// Rows are only ever added: nothing about an instructor is deleted.
type v7InstructorHistory struct {
	ID                  int64      `gorm:"primaryKey"`
	InstructorID        int64      `gorm:"not null;index:idx_instructor_history_instructor"`
	Action              string     `gorm:"size:24;not null"`
	ReasonCategory      string     `gorm:"size:16;not null;default:''"`
	Note                string     `gorm:"size:500;not null;default:''"`
	FromUnitID          int64      `gorm:"not null;default:0"`
	ToUnitID            int64      `gorm:"not null;default:0"`
	FromStatus          string     `gorm:"size:16;not null;default:''"`
	ToStatus            string     `gorm:"size:16;not null;default:''"`
	TermStart           *time.Time `gorm:"type:date"`
	TermEnd             *time.Time `gorm:"type:date"`
	RelatedInstructorID int64      `gorm:"not null;default:0"`
	NominationID        int64      `gorm:"not null;default:0"`
	ActorID             int64      `gorm:"not null;default:0"`
	ActorRole           string     `gorm:"size:32;not null;default:''"`
	CreatedAt           time.Time  `gorm:"not null"`
}

func (v7InstructorHistory) TableName() string { return "instructor_history" }

// v7Nomination is a candidate (seed §二(四)): recommended by a unit (entered by staff) or
// self-nominated from the mini-program, reviewed against the criteria of seed §二(一), then
// appointed or rejected. A self-nominee's WeChat openid is kept so the nomination can be traced to
// the person who will later bind; it is never shown.
type v7Nomination struct {
	ID              int64  `gorm:"primaryKey"`
	Source          string `gorm:"size:24;not null"`
	Status          string `gorm:"size:16;not null;index:idx_nominations_region_status,priority:2"`
	RegionCode      string `gorm:"size:12;not null;index:idx_nominations_region_status,priority:1"`
	UnitID          int64  `gorm:"not null;default:0"`
	UnitName        string `gorm:"size:100;not null;default:''"`
	Name            string `gorm:"size:50;not null"`
	Gender          string `gorm:"size:8;not null"`
	Ethnicity       string `gorm:"size:2;not null"`
	PhoneEnc        string `gorm:"size:255;not null"`
	PhoneHash       string `gorm:"size:64;not null;index:idx_nominations_phone"`
	IDNumberEnc     string `gorm:"column:id_number_enc;size:255;not null;default:''"`
	PoliticalStatus string `gorm:"size:32;not null;default:''"`
	Position        string `gorm:"size:100;not null;default:''"`
	SourceCategory  string `gorm:"size:40;not null"`
	Statement       string `gorm:"size:1000;not null;default:''"`
	Recommender     string `gorm:"size:100;not null;default:''"`
	OpenID          string `gorm:"column:openid;size:64;not null;default:'';index:idx_nominations_openid"`
	Criteria        string `gorm:"type:text"`
	ReviewNote      string `gorm:"size:500;not null;default:''"`
	ReviewedBy      int64  `gorm:"not null;default:0"`
	ReviewedAt      *time.Time
	RejectReason    string `gorm:"size:500;not null;default:''"`
	DecidedBy       int64  `gorm:"not null;default:0"`
	DecidedAt       *time.Time
	InstructorID    int64     `gorm:"not null;default:0"`
	CreatedBy       int64     `gorm:"not null;default:0"`
	CreatedAt       time.Time `gorm:"not null"`
	UpdatedAt       time.Time `gorm:"not null"`
}

func (v7Nomination) TableName() string { return "nominations" }

// v7Filing is a roster filed to the level above (备案): a county's to its city, a city's to the
// province. Its rows never change; only its status does. pending_region is the filer's region
// while the filing awaits a decision and NULL after: the unique key allows one pending filing per
// region however many requests race.
type v7Filing struct {
	ID              int64     `gorm:"primaryKey"`
	Level           string    `gorm:"size:8;not null"`
	RegionCode      string    `gorm:"size:12;not null;index:idx_filings_region"`
	ParentCode      string    `gorm:"size:12;not null;index:idx_filings_parent"`
	Status          string    `gorm:"size:16;not null"`
	PendingRegion   *string   `gorm:"size:12;uniqueIndex:uk_filings_pending"`
	InstructorCount int       `gorm:"not null;default:0"`
	UnitCount       int       `gorm:"not null;default:0"`
	Note            string    `gorm:"size:500;not null;default:''"`
	FiledBy         int64     `gorm:"not null;default:0"`
	FiledAt         time.Time `gorm:"not null"`
	DecidedBy       int64     `gorm:"not null;default:0"`
	DecidedAt       *time.Time
	ReturnReason    string `gorm:"size:500;not null;default:''"`
}

func (v7Filing) TableName() string { return "filings" }

// v7FilingRow is one instructor in a filing as they were when filed. The phone is kept masked
// (the receiving levels read the live record for more) with its keyed hash, so a changed number
// still shows in the difference between filings.
type v7FilingRow struct {
	ID              int64      `gorm:"primaryKey"`
	FilingID        int64      `gorm:"not null;index:idx_filing_rows_filing"`
	PartFilingID    int64      `gorm:"not null;default:0"`
	InstructorID    int64      `gorm:"not null"`
	Name            string     `gorm:"size:50;not null"`
	Gender          string     `gorm:"size:8;not null"`
	Ethnicity       string     `gorm:"size:2;not null"`
	PhoneMasked     string     `gorm:"size:16;not null;default:''"`
	PhoneHash       string     `gorm:"size:64;not null;default:''"`
	PoliticalStatus string     `gorm:"size:32;not null;default:''"`
	Position        string     `gorm:"size:100;not null;default:''"`
	SourceCategory  string     `gorm:"size:40;not null;default:''"`
	Status          string     `gorm:"size:16;not null"`
	UnitID          int64      `gorm:"not null"`
	UnitName        string     `gorm:"size:100;not null"`
	UnitKind        string     `gorm:"size:32;not null"`
	RegionCode      string     `gorm:"size:12;not null"`
	TermStart       *time.Time `gorm:"type:date"`
	TermEnd         *time.Time `gorm:"type:date"`
}

func (v7FilingRow) TableName() string { return "filing_rows" }

// v7FilingPart names the county filings a city filing consists of.
type v7FilingPart struct {
	ID              int64     `gorm:"primaryKey"`
	FilingID        int64     `gorm:"not null;uniqueIndex:uk_filing_parts,priority:1"`
	PartFilingID    int64     `gorm:"not null;uniqueIndex:uk_filing_parts,priority:2"`
	RegionCode      string    `gorm:"size:12;not null"`
	InstructorCount int       `gorm:"not null;default:0"`
	FiledAt         time.Time `gorm:"not null"`
}

func (v7FilingPart) TableName() string { return "filing_parts" }

func v7(tx *gorm.DB, _ database.Dialect) error {
	if err := database.CreateTables(tx, &v7InstructorHistory{}, &v7Nomination{}, &v7Filing{}, &v7FilingRow{}, &v7FilingPart{}); err != nil {
		return err
	}
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	for _, col := range []string{"TermStart", "TermEnd"} {
		if !m.HasColumn(&v7Instructor{}, col) {
			if err := m.AddColumn(&v7Instructor{}, col); err != nil {
				return err
			}
		}
	}
	if !m.HasIndex(&v7Instructor{}, "idx_instructors_term_end") {
		if err := m.CreateIndex(&v7Instructor{}, "idx_instructors_term_end"); err != nil {
			return err
		}
	}
	return v7BackfillTerms(tx)
}

// v7BackfillTerms gives instructors appointed before terms were recorded a term starting on the
// day they were entered (in China), so the renewal round sees them.
func v7BackfillTerms(tx *gorm.DB) error {
	cst := time.FixedZone("CST", 8*3600)
	type row struct {
		ID        int64
		CreatedAt time.Time
	}
	for {
		var rows []row
		if err := tx.Table("instructors").Select("id", "created_at").Where("term_start IS NULL").
			Order("id").Limit(500).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			d := r.CreatedAt.In(cst)
			start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
			end := start.AddDate(3, 0, 0)
			if err := tx.Table("instructors").Where("id = ?", r.ID).
				Updates(map[string]any{"term_start": start, "term_end": end}).Error; err != nil {
				return err
			}
		}
	}
}
