package filing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/sweep"
	"github.com/shiliu/shiliu/server/roster"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Staleness is a county whose roster differs from its last accepted filing: since when the sweep
// has seen it differ, and the state of the roster it last reminded the county of. A county is
// reminded once per change of its roster, never more often than Options.RemindEvery.
type Staleness struct {
	RegionCode       string
	AcceptedFilingID int64
	RosterHash       string
	StaleSince       time.Time
	RemindedHash     string
	RemindedAt       *time.Time
	UpdatedAt        time.Time
}

func (Staleness) TableName() string { return "filing_staleness" }

// Overview states of a filing region.
const (
	StateNever    = "never"    // never filed
	StatePending  = "pending"  // its latest filing awaits the level above
	StateReturned = "returned" // its latest filing was returned
	StateChanged  = "changed"  // accepted, but the roster changed since
	StateCurrent  = "current"  // accepted, and the roster is as filed
)

var States = []roster.Code{
	{Code: StateNever, Label: "未备案"},
	{Code: StatePending, Label: "待接收"},
	{Code: StateReturned, Label: "已退回"},
	{Code: StateChanged, Label: "名册有变动未重新备案"},
	{Code: StateCurrent, Label: "已备案"},
}

// line is what a filing compares of one instructor (the fields of Diff): an instructor whose line
// differs, or who is on one side only, is a change.
func line(id int64, name, gender, eth, phoneHash, pol, pos, src string, unitID int64, unitName, code string, start, end *time.Time) string {
	return strings.Join([]string{strconv.FormatInt(id, 10), name, gender, eth, phoneHash, pol, pos, src,
		strconv.FormatInt(unitID, 10), unitName, code, roster.FormatDate(start), roster.FormatDate(end)}, "\x1f")
}

func rowLine(r Row) string {
	return line(r.InstructorID, r.Name, r.Gender, r.Ethnicity, r.PhoneHash, r.PoliticalStatus, r.Position, r.SourceCategory,
		r.UnitID, r.UnitName, r.RegionCode, r.TermStart, r.TermEnd)
}

func snapLine(r roster.SnapshotRow) string {
	return line(r.InstructorID, r.Name, r.Gender, r.Ethnicity, r.PhoneHash, r.PoliticalStatus, r.Position, r.SourceCategory,
		r.UnitID, r.UnitName, r.RegionCode, r.TermStart, r.TermEnd)
}

// fingerprint is the hash of a roster's lines, in any order.
func fingerprint(lines []string) string {
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// countyOf is the county a region code lies in.
func countyOf(code string) string {
	if len(code) != 12 {
		return code
	}
	return code[:6] + "000000"
}

// currentPrints are the fingerprints of the rosters in office of the counties under root, read at
// once (a county with nobody in office has the fingerprint of an empty roster).
func (s *Service) currentPrints(ctx context.Context, db *gorm.DB, root string, counties []string) (map[string]string, error) {
	rows, err := s.roster.ActiveFacts(ctx, db, root)
	if err != nil {
		return nil, err
	}
	lines := map[string][]string{}
	for _, r := range rows {
		c := countyOf(r.RegionCode)
		lines[c] = append(lines[c], snapLine(r))
	}
	out := make(map[string]string, len(counties))
	for _, c := range counties {
		out[c] = fingerprint(lines[c])
	}
	return out, nil
}

// filedPrints are the fingerprints of filings, by filing id.
func filedPrints(db *gorm.DB, ids []int64) (map[int64]string, error) {
	lines := map[int64][]string{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var rows []Row
		if err := db.Where("filing_id IN ?", ids[:n]).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			lines[r.FilingID] = append(lines[r.FilingID], rowLine(r))
		}
		ids = ids[n:]
	}
	out := make(map[int64]string, len(lines))
	for id, l := range lines {
		out[id] = fingerprint(l)
	}
	return out, nil
}

// daysSince counts calendar days in Beijing from t to now.
func daysSince(t, now time.Time) int {
	a, b := t.In(clock.Shanghai), now.In(clock.Shanghai)
	da := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// DueReminders reminds each county whose roster has differed from its last accepted filing for
// Options.RemindAfter, once per state of the roster and at most once per Options.RemindEvery; a
// county with a filing awaiting a decision has filed already and is not reminded. It returns the
// reminders it wrote. Any number of instances may sweep at once: the reminder is claimed by a
// conditional update.
func (s *Service) DueReminders(ctx context.Context) (int, error) {
	db := s.db.WithContext(ctx)
	var accepted []Filing
	sub := db.Model(&Filing{}).Select("MAX(id)").Where("level = ? AND status = ?", LevelCounty, StatusAccepted).Group("region_code")
	if err := db.Where("id IN (?)", sub).Order("region_code").Find(&accepted).Error; err != nil {
		return 0, err
	}
	var pending []string
	if err := db.Model(&Filing{}).Where("level = ? AND status = ?", LevelCounty, StatusSubmitted).Pluck("region_code", &pending).Error; err != nil {
		return 0, err
	}
	waiting := map[string]bool{}
	for _, c := range pending {
		waiting[c] = true
	}
	done := 0
	for _, f := range accepted {
		if waiting[f.RegionCode] {
			continue
		}
		ok, err := s.check(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return done, nil
			}
			return done, fmt.Errorf("filing staleness of %s: %w", f.RegionCode, err)
		}
		if ok {
			done++
		}
	}
	return done, nil
}

// check compares a county's roster with its last accepted filing f, keeps its staleness and
// reminds it when due.
func (s *Service) check(ctx context.Context, f Filing) (bool, error) {
	db := s.db.WithContext(ctx)
	cur, err := s.currentPrints(ctx, db, f.RegionCode, []string{f.RegionCode})
	if err != nil {
		return false, err
	}
	filed, err := filedPrints(db, []int64{f.ID})
	if err != nil {
		return false, err
	}
	hash, was := cur[f.RegionCode], filed[f.ID]
	if was == "" {
		was = fingerprint(nil)
	}
	if hash == was {
		return false, db.Where("region_code = ?", f.RegionCode).Delete(&Staleness{}).Error
	}
	now := s.clock.Now()
	written := false
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		written = false
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Staleness{RegionCode: f.RegionCode, AcceptedFilingID: f.ID,
			RosterHash: hash, StaleSince: now, UpdatedAt: now}).Error; err != nil {
			return err
		}
		var st Staleness
		if err := tx.Where("region_code = ?", f.RegionCode).Take(&st).Error; err != nil {
			return err
		}
		switch {
		case st.AcceptedFilingID != f.ID:
			// Filed and accepted again since: the staleness counts from now.
			res := tx.Model(&Staleness{}).Where("region_code = ? AND accepted_filing_id = ?", f.RegionCode, st.AcceptedFilingID).
				Updates(map[string]any{"accepted_filing_id": f.ID, "roster_hash": hash, "stale_since": now,
					"reminded_hash": "", "reminded_at": nil, "updated_at": now})
			return res.Error
		case st.RosterHash != hash:
			if err := tx.Model(&Staleness{}).Where("region_code = ?", f.RegionCode).
				Updates(map[string]any{"roster_hash": hash, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		if now.Sub(st.StaleSince) < s.opt.RemindAfter || st.RemindedHash == hash ||
			(st.RemindedAt != nil && now.Sub(*st.RemindedAt) < s.opt.RemindEvery) {
			return nil
		}
		res := tx.Model(&Staleness{}).Where("region_code = ? AND accepted_filing_id = ? AND reminded_hash = ?", f.RegionCode, f.ID, st.RemindedHash).
			Updates(map[string]any{"reminded_hash": hash, "reminded_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		written = true
		return outbox.Write(tx, outbox.Entry{SubjectType: subjectType, SubjectID: f.ID, RegionCode: f.RegionCode, At: now,
			Payload: outbox.FilingStale{CountyCode: f.RegionCode, AcceptedFilingID: f.ID,
				AcceptedOn: clock.Local(f.FiledAt).Format("2006-01-02"), StaleSince: clock.Local(st.StaleSince).Format("2006-01-02"),
				Days: daysSince(f.FiledAt, now)}})
	})
	return written, err
}

// Sweep runs DueReminders every interval until ctx ends; a zero interval disables it.
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	sweep.Counting(ctx, s.log, every, "filing reminders written", s.DueReminders)
}
