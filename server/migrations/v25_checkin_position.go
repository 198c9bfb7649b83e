package migrations

import (
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v25Invitee keeps the position a location check-in reported and its accuracy, so that staff
// see where the phone said it was, not only the distance: a position copied from the venue's
// coordinates stands out.
type v25Invitee struct {
	CheckinLatitude  *float64
	CheckinLongitude *float64
	CheckinAccuracy  *int
}

func (v25Invitee) TableName() string { return "meeting_invitees" }

func v25(tx *gorm.DB, _ database.Dialect) error {
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	for _, c := range []string{"CheckinLatitude", "CheckinLongitude", "CheckinAccuracy"} {
		if !m.HasColumn(&v25Invitee{}, c) {
			if err := m.AddColumn(&v25Invitee{}, c); err != nil {
				return err
			}
		}
	}
	return nil
}
