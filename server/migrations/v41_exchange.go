package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v41Bulletin adds what a correction and a withdrawal leave on a bulletin: its version (1 until
// corrected), the last correction's time and note, the withdrawal's time, author and reason, and
// the experience share a draft was made from.
type v41Bulletin struct {
	Version        int `gorm:"not null;default:1"`
	CorrectedAt    *time.Time
	CorrectionNote string `gorm:"size:500;not null;default:''"`
	WithdrawnAt    *time.Time
	WithdrawnBy    int64  `gorm:"not null;default:0"`
	WithdrawReason string `gorm:"size:500;not null;default:''"`
	SourceShareID  int64  `gorm:"not null;default:0"`
}

func (v41Bulletin) TableName() string { return "bulletins" }

// v41BulletinVersion is a bulletin's text as it was before a correction replaced it; the current
// text stays on the bulletin. note is the correction that made this version (empty for the first).
type v41BulletinVersion struct {
	ID         int64     `gorm:"primaryKey"`
	BulletinID int64     `gorm:"not null;uniqueIndex:uk_bulletin_versions,priority:1"`
	Version    int       `gorm:"not null;uniqueIndex:uk_bulletin_versions,priority:2"`
	Title      string    `gorm:"size:60;not null"`
	Body       string    `gorm:"type:mediumtext"`
	Note       string    `gorm:"size:500;not null;default:''"`
	CreatedBy  int64     `gorm:"not null;default:0"`
	CreatedAt  time.Time `gorm:"not null"`
}

func (v41BulletinVersion) TableName() string { return "bulletin_versions" }

// v41Share is an instructor's experience shared with the instructors of their county or city
// (audience_code), seen by them once the region's staff approved it.
type v41Share struct {
	ID           int64  `gorm:"primaryKey"`
	InstructorID int64  `gorm:"not null;uniqueIndex:uk_shares_client,priority:1"`
	ClientID     string `gorm:"size:36;not null;uniqueIndex:uk_shares_client,priority:2"`
	AccountID    int64  `gorm:"not null;default:0"`
	UnitID       int64  `gorm:"not null;default:0"`
	RegionCode   string `gorm:"size:12;not null;index:idx_shares_region"`
	Audience     string `gorm:"size:16;not null"`
	AudienceCode string `gorm:"size:12;not null;index:idx_shares_audience,priority:1"`
	Status       string `gorm:"size:16;not null;index:idx_shares_audience,priority:2"`
	Title        string `gorm:"size:60;not null"`
	Text         string `gorm:"type:text"`
	RejectReason string `gorm:"size:500;not null;default:''"`
	ReviewedBy   int64  `gorm:"not null;default:0"`
	ReviewedAt   *time.Time
	BulletinID   int64     `gorm:"not null;default:0"`
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null"`
}

func (v41Share) TableName() string { return "shares" }

func v41(tx *gorm.DB, _ database.Dialect) error {
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	for _, c := range []string{"Version", "CorrectedAt", "CorrectionNote", "WithdrawnAt", "WithdrawnBy", "WithdrawReason", "SourceShareID"} {
		if !m.HasColumn(&v41Bulletin{}, c) {
			if err := m.AddColumn(&v41Bulletin{}, c); err != nil {
				return err
			}
		}
	}
	return database.CreateTables(tx, &v41BulletinVersion{}, &v41Share{})
}
