package stats

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"gorm.io/gorm"
)

// RegionTable is GET /api/v1/stats/regions: the main figures of each region directly under the
// asked one (the cities of the province, the counties of a city, the townships of a county, the
// villages of a township), for ranking them side by side and drilling down. Boundary data for a
// map is not licensed for the project, so the console shows this as a table.
type RegionTable struct {
	Region      RegionRef   `json:"region"`
	From        string      `json:"from"`
	To          string      `json:"to"`
	GeneratedAt time.Time   `json:"generated_at"`
	Items       []RegionRow `json:"items"`
}

// RegionRow is one child region: the roster as it is now, the records of the period, the times to
// acknowledge tips against their deadlines, the mediations' settlement rate, and the instructors
// with no record in InactiveDays days (from now).
type RegionRow struct {
	Region                 RegionRef `json:"region"`
	ActiveInstructors      int64     `json:"active_instructors"`
	InactiveInstructors    int64     `json:"inactive_instructors"`
	Units                  int64     `json:"units"`
	UnitsWithoutInstructor int64     `json:"units_without_instructor"`
	HeavyUnits             int64     `json:"heavy_units"`
	HeavyUnitsWithout      int64     `json:"heavy_units_without_instructor"`
	Records                int64     `json:"records"`
	RecordsPerInstructor   *float64  `json:"records_per_instructor"`
	Tips                   int64     `json:"tips"`
	Acknowledge            Deadline  `json:"acknowledge"`
	Resolve                Duration  `json:"resolve"`
	Mediations             int64     `json:"mediations"`
	SettlementRate         *float64  `json:"settlement_rate"`
	// ByRole and ByTag count the period's records by role and by tag, every code present, so
	// that regions can be compared role by role.
	ByRole []Item `json:"by_role"`
	ByTag  []Item `json:"by_tag"`
}

// Regions answers the table of the asked region's children (the caller's own region by default)
// for a period.
func (s *Service) Regions(ctx context.Context, p *access.Principal, q Query) (RegionTable, error) {
	sc, r, err := s.resolve(ctx, p, q.RegionCode)
	if err != nil {
		return RegionTable{}, err
	}
	period, err := s.ParsePeriod(q.From, q.To)
	if err != nil {
		return RegionTable{}, err
	}
	now := s.clock.Now()
	out := RegionTable{Region: RegionRef{Code: r.Code, Name: r.Name, Level: region.LevelName(r.Level)},
		From: monthString(period.From), To: monthString(period.To), GeneratedAt: clock.Local(now), Items: []RegionRow{}}
	children, err := s.regions.Children(ctx, r.Code)
	if err != nil || len(children) == 0 {
		return out, err
	}
	// Every child of a region has a code of the next level (the division codes have no gaps), so
	// a row's child is the first digits of its region code.
	digits := len(region.Prefix(children[0].Code))
	rows := make(map[string]*RegionRow, len(children))
	for _, c := range children {
		out.Items = append(out.Items, RegionRow{Region: RegionRef{Code: c.Code, Name: c.Name, Level: region.LevelName(c.Level)}})
	}
	for i := range out.Items {
		rows[out.Items[i].Region.Code[:digits]] = &out.Items[i]
	}
	db := s.db.WithContext(ctx)
	recs := map[string]*childRecords{}
	if err := parallel(
		func() error { return s.childInstructors(db, sc, digits, now, rows) },
		func() error { return s.childUnits(db, sc, digits, rows) },
		func() error {
			var err error
			recs, err = s.childRecordCounts(db, sc, period, digits)
			return err
		},
	); err != nil {
		return RegionTable{}, err
	}
	for key, c := range recs {
		row := rows[key]
		if row == nil {
			continue
		}
		row.Records, row.Tips, row.Mediations = c.records, c.tips, c.mediations
		row.ByRole, row.ByTag = items(record.Roles, c.roles, true), items(record.Tags, c.tags, true)
		row.SettlementRate = rate(c.settled, c.mediations)
		row.Acknowledge, row.Resolve = c.times.totals(s.ackDeadline)
	}
	for i := range out.Items {
		row := &out.Items[i]
		if row.ByRole == nil {
			row.ByRole, row.ByTag = items(record.Roles, nil, true), items(record.Tags, nil, true)
		}
		if row.ActiveInstructors > 0 {
			v := float64(int64(float64(row.Records)/float64(row.ActiveInstructors)*100+0.5)) / 100
			row.RecordsPerInstructor = &v
		}
	}
	return out, nil
}

// childKey is the SQL for the first digits of a region column, the key of its child.
// emptySQL counts the units without an instructor in office.
const emptySQL = "COALESCE(SUM(CASE WHEN active_instructors <= 0 THEN 1 ELSE 0 END), 0)"

func childKey(column string, digits int) string {
	return "SUBSTR(" + column + ", 1, " + strconv.Itoa(digits) + ")"
}

func (s *Service) childInstructors(db *gorm.DB, sc scope, digits int, now time.Time, rows map[string]*RegionRow) error {
	var got []struct {
		Child            string
		Active, Inactive int64
	}
	since := now.AddDate(0, 0, -InactiveDays)
	if err := db.Table("instructors").Scopes(sc.where("region_code")).Where("status = ?", roster.StatusActive).
		Select(childKey("region_code", digits)+" AS child, COUNT(*) AS active, "+
			"COALESCE(SUM(CASE WHEN last_record_at IS NULL OR last_record_at < ? THEN 1 ELSE 0 END), 0) AS inactive", since).
		Group("child").Scan(&got).Error; err != nil {
		return err
	}
	for _, g := range got {
		if row := rows[g.Child]; row != nil {
			row.ActiveInstructors, row.InactiveInstructors = g.Active, g.Inactive
		}
	}
	return nil
}

func (s *Service) childUnits(db *gorm.DB, sc scope, digits int, rows map[string]*RegionRow) error {
	var got []struct {
		Child        string
		Units, Empty int64
	}
	if err := db.Table("units").Scopes(sc.where("region_code")).
		Select(childKey("region_code", digits) + " AS child, COUNT(*) AS units, " + emptySQL + " AS empty").
		Group("child").Scan(&got).Error; err != nil {
		return err
	}
	for _, g := range got {
		if row := rows[g.Child]; row != nil {
			row.Units, row.UnitsWithoutInstructor = g.Units, g.Empty
		}
	}
	// The flagged units, few, through their own index.
	got = nil
	if err := hinted(db, "units", "idx_units_heavy", sc.level == region.LevelProvince).Scopes(sc.where("region_code")).
		Where("heavy = ?", true).
		Select(childKey("region_code", digits) + " AS child, COUNT(*) AS units, " + emptySQL + " AS empty").
		Group("child").Scan(&got).Error; err != nil {
		return err
	}
	for _, g := range got {
		if row := rows[g.Child]; row != nil {
			row.HeavyUnits, row.HeavyUnitsWithout = g.Units, g.Empty
		}
	}
	return nil
}

// childRecords is what the records of the period count for in one child region.
type childRecords struct {
	records, tips, mediations, settled int64
	times                              *times
	roles, tags                        map[string]int64
}

// childRecordCounts counts the period's records per child region with the rules of the overview:
// the cities of the province and the counties of a city from their cells of the monthly
// aggregate; below a county from the records themselves (as the overview of a township does).
func (s *Service) childRecordCounts(db *gorm.DB, sc scope, period Period, digits int) (map[string]*childRecords, error) {
	type cell struct {
		Child  string
		Metric string
		N      int64
	}
	var cells []cell
	if sc.level <= region.LevelCity {
		// A child of the province is a city, one of a city a county: each a region of the grain below.
		grain := GrainCity
		if sc.level == region.LevelCity {
			grain = GrainCounty
		}
		if err := db.Model(&Count{}).Select(childKey("region_code", digits)+" AS child, metric, SUM(n) AS n").
			Where("grain = ? AND month >= ? AND month <= ?", grain, period.From, period.To).Scopes(sc.where("region_code")).
			Group("child, metric").Scan(&cells).Error; err != nil {
			return nil, err
		}
	} else {
		var recs []record.Record
		if err := db.Select(factColumns).Scopes(sc.where("region_code")).
			Where("occurred_at >= ? AND occurred_at < ? AND status <> ?", period.Start(), period.End(), record.StatusWithdrawn).
			Find(&recs).Error; err != nil {
			return nil, err
		}
		srcs, err := sources(db, recs)
		if err != nil {
			return nil, err
		}
		counts := map[[2]string]int64{}
		for _, r := range recs {
			for _, m := range strings.Fields(factOf(r.ID, srcs[r.ID]).Metrics) {
				counts[[2]string{r.RegionCode[:digits], m}]++
			}
		}
		for k, n := range counts {
			cells = append(cells, cell{Child: k[0], Metric: k[1], N: n})
		}
	}
	out := map[string]*childRecords{}
	for _, c := range cells {
		cr := out[c.Child]
		if cr == nil {
			cr = &childRecords{times: newTimes(), roles: map[string]int64{}, tags: map[string]int64{}}
			out[c.Child] = cr
		}
		switch {
		case strings.HasPrefix(c.Metric, metricRole):
			cr.roles[strings.TrimPrefix(c.Metric, metricRole)] += c.N
		case strings.HasPrefix(c.Metric, metricTag):
			cr.tags[strings.TrimPrefix(c.Metric, metricTag)] += c.N
		case strings.HasPrefix(c.Metric, metricRecords):
			cr.records += c.N
			if c.Metric == metricRecords+"mediation" {
				cr.mediations += c.N
			}
		case c.Metric == metricDuplicate:
		case strings.HasPrefix(c.Metric, metricTip):
			cr.tips += c.N
		case c.Metric == metricOutcome+record.OutcomeSettled:
			cr.settled += c.N
		case strings.HasPrefix(c.Metric, metricAck), strings.HasPrefix(c.Metric, metricResolve):
			cr.times.add(c.Metric, c.N)
		}
	}
	return out, nil
}
