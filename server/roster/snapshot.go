package roster

import (
	"context"
	"time"

	"github.com/shiliu/shiliu/server/platform/secret"
	"gorm.io/gorm"
)

// SnapshotRow is an instructor in office as a filing records them: what the roster list shows,
// the phone masked, with unit and term. The phone's keyed hash lets two filings tell a changed
// number without either holding it.
type SnapshotRow struct {
	InstructorID    int64
	Name            string
	Gender          string
	Ethnicity       string
	PhoneMasked     string
	PhoneHash       string
	PoliticalStatus string
	Position        string
	SourceCategory  string
	Status          string
	UnitID          int64
	UnitName        string
	UnitKind        string
	RegionCode      string
	TermStart       *time.Time
	TermEnd         *time.Time
}

// ActiveIn lists the instructors in office in a region's subtree, by id, read inside tx (a
// filing's transaction, so the snapshot and its count agree).
func (s *Service) ActiveIn(ctx context.Context, tx *gorm.DB, regionCode string) ([]SnapshotRow, error) {
	return s.activeIn(ctx, tx, regionCode, true)
}

// ActiveFacts is ActiveIn without the masked phones (PhoneHash tells a changed number): what a
// comparison with a filing needs, without decrypting every phone of a province.
func (s *Service) ActiveFacts(ctx context.Context, db *gorm.DB, regionCode string) ([]SnapshotRow, error) {
	return s.activeIn(ctx, db, regionCode, false)
}

func (s *Service) activeIn(ctx context.Context, tx *gorm.DB, regionCode string, phones bool) ([]SnapshotRow, error) {
	var out []SnapshotRow
	var after int64
	for {
		var rows []Instructor
		if err := tx.WithContext(ctx).Scopes(subtree(regionCode)).Where("status = ? AND id > ?", StatusActive, after).
			Order("id").Limit(1000).Find(&rows).Error; err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return out, nil
		}
		unitIDs := make([]int64, 0, len(rows))
		for _, r := range rows {
			unitIDs = append(unitIDs, r.UnitID)
		}
		var units []Unit
		if err := tx.WithContext(ctx).Select("id", "name", "kind").Where("id IN ?", unitIDs).Find(&units).Error; err != nil {
			return nil, err
		}
		byID := make(map[int64]Unit, len(units))
		for _, u := range units {
			byID[u.ID] = u
		}
		for _, r := range rows {
			masked := ""
			if phones {
				phone, err := s.box.Decrypt(r.PhoneEnc)
				if err != nil {
					return nil, err
				}
				masked = secret.MaskPhone(phone)
			}
			u := byID[r.UnitID]
			out = append(out, SnapshotRow{
				InstructorID: r.ID, Name: r.Name, Gender: r.Gender, Ethnicity: r.Ethnicity,
				PhoneMasked: masked, PhoneHash: r.PhoneHash, PoliticalStatus: r.PoliticalStatus,
				Position: r.Position, SourceCategory: r.SourceCategory, Status: r.Status,
				UnitID: r.UnitID, UnitName: u.Name, UnitKind: u.Kind, RegionCode: r.RegionCode,
				TermStart: r.TermStart, TermEnd: r.TermEnd,
			})
		}
		after = rows[len(rows)-1].ID
	}
}

// UnscopedUnitByID loads a unit without scope: a self-nominee, who has no account yet, names the
// unit they want to serve in.
func (s *Service) UnscopedUnitByID(ctx context.Context, id int64) (Unit, bool, error) {
	var rows []Unit
	err := s.db.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return Unit{}, false, err
	}
	return rows[0], true, nil
}

// UnscopedUnitByName finds the unit of a region with this name, whoever asks: the caller checks
// that the region is theirs.
func (s *Service) UnscopedUnitByName(ctx context.Context, regionCode, name string) (Unit, bool, error) {
	var rows []Unit
	err := s.db.WithContext(ctx).Where("region_code = ? AND name = ?", regionCode, name).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return Unit{}, false, err
	}
	return rows[0], true, nil
}
