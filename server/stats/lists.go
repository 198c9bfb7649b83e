package stats

import (
	"context"
	"slices"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"gorm.io/gorm"
)

// UnitsWithoutInstructor lists the units of a region subtree (the caller's by default) with no
// instructor in office, newest first; heavy narrows to the units flagged (or not) as where ethnic
// work is heavy.
func (s *Service) UnitsWithoutInstructor(ctx context.Context, p *access.Principal, regionCode string, heavy *bool, page paging.Page) ([]UnitRef, string, error) {
	sc, _, err := s.resolve(ctx, p, regionCode)
	if err != nil {
		return nil, "", err
	}
	return s.unitsWithout(ctx, s.db.WithContext(ctx), sc, heavy, page)
}

func (s *Service) unitsWithout(ctx context.Context, db *gorm.DB, sc scope, heavy *bool, page paging.Page) ([]UnitRef, string, error) {
	var rows []roster.Unit
	q := db.Select("id", "name", "kind", "region_code", "heavy", "heavy_reason").Scopes(sc.where("region_code"), page.Apply("id")).
		Where("active_instructors <= 0")
	if heavy != nil {
		q = q.Where("heavy = ?", *heavy)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(page, rows, func(u roster.Unit) int64 { return u.ID })
	codes := make([]string, len(rows))
	for i, u := range rows {
		codes[i] = u.RegionCode
	}
	names, err := regionNames(db, codes)
	if err != nil {
		return nil, "", err
	}
	out := make([]UnitRef, len(rows))
	for i, u := range rows {
		out[i] = UnitRef{ID: u.ID, Name: u.Name, Kind: u.Kind, KindName: roster.Label(roster.UnitKinds, u.Kind),
			RegionCode: u.RegionCode, RegionName: names[u.RegionCode], Heavy: u.Heavy, HeavyReason: u.HeavyReason}
	}
	return out, next, nil
}

// InactiveInstructors lists the instructors in office in a region subtree (the caller's by
// default) with no record in the last InactiveDays days, newest first.
func (s *Service) InactiveInstructors(ctx context.Context, p *access.Principal, regionCode string, page paging.Page) ([]InstructorRef, string, error) {
	sc, _, err := s.resolve(ctx, p, regionCode)
	if err != nil {
		return nil, "", err
	}
	since := s.clock.Now().AddDate(0, 0, -InactiveDays)
	return s.inactiveList(ctx, s.db.WithContext(ctx), sc, since, page)
}

type inactiveRow struct {
	ID           int64
	Name         string
	UnitID       int64
	UnitName     *string
	RegionCode   string
	TermStart    *time.Time
	LastRecordAt dbTime
}

func (s *Service) inactiveList(ctx context.Context, db *gorm.DB, sc scope, since time.Time, page paging.Page) ([]InstructorRef, string, error) {
	var rows []inactiveRow
	// Ordered by id with a limit, MariaDB would walk the primary key over all the province's
	// instructors to find the few without records: the province reads just those through the
	// activity index, a smaller region its own instructors through the region index.
	index := "idx_instructors_stats"
	if sc.level == region.LevelProvince {
		index = "idx_instructors_activity"
	}
	if err := hinted(db, "instructors AS i", index, true).Select("i.id, i.name, i.unit_id, u.name AS unit_name, i.region_code, i.term_start, i.last_record_at").
		Joins("LEFT JOIN units AS u ON u.id = i.unit_id").
		Scopes(inactiveSince(sc, since), page.Apply("i.id")).Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(page, rows, func(r inactiveRow) int64 { return r.ID })
	codes := make([]string, len(rows))
	for i, r := range rows {
		codes[i] = r.RegionCode
	}
	names, err := regionNames(db, codes)
	if err != nil {
		return nil, "", err
	}
	out := make([]InstructorRef, len(rows))
	for i, r := range rows {
		unit := ""
		if r.UnitName != nil {
			unit = *r.UnitName
		}
		out[i] = InstructorRef{ID: r.ID, Name: r.Name, UnitID: r.UnitID, UnitName: unit, RegionCode: r.RegionCode,
			RegionName: names[r.RegionCode], TermStart: roster.FormatDate(r.TermStart),
			LastRecordAt: clock.LocalPtr(r.LastRecordAt.ptr())}
	}
	return out, next, nil
}

// regionNames names the regions of a list in a few queries: a workbook lists tens of thousands of
// instructors in as many villages, one query each would take half a minute.
func regionNames(db *gorm.DB, codes []string) (map[string]string, error) {
	out := map[string]string{}
	codes = slices.Compact(slices.Sorted(slices.Values(codes)))
	for chunk := range slices.Chunk(codes, 1000) {
		var rows []region.Region
		if err := db.Session(&gorm.Session{NewDB: true}).Select("code", "name").Where("code IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.Code] = r.Name
		}
	}
	return out, nil
}
