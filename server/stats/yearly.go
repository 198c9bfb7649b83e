package stats

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/support"
	"github.com/shiliu/shiliu/server/training"
	"gorm.io/gorm"
)

// The yearly statistics of a region, by the regions one level down: training (how many
// different instructors were trained, not only attendances) and the support given to
// instructors with their suggestions (measures §五(一)(二)).

// YearQuery is a region (the caller's own by default) and a calendar year (this year by default).
type YearQuery struct {
	RegionCode string
	Year       string
}

// TrainingYear is GET /api/v1/stats/training: the training of a year in a region and in each
// region one level down.
type TrainingYear struct {
	Region      RegionRef          `json:"region"`
	Year        int                `json:"year"`
	GeneratedAt time.Time          `json:"generated_at"`
	Total       TrainingYearLine   `json:"total"`
	Regions     []TrainingYearLine `json:"regions"`
}

// TrainingYearLine is one region's training in the year, counted where the instructors were
// when enrolled. Trained counts each instructor once however many sessions they attended (an
// instructor trained in two counties of a city counts once for the city); TrainedRate is over
// the instructors in office now.
type TrainingYearLine struct {
	RegionCode        string   `json:"region_code"`
	RegionName        string   `json:"region_name"`
	Sessions          int64    `json:"sessions"`
	Attendances       int64    `json:"attendances"`
	Trained           int64    `json:"trained"`
	Hours             float64  `json:"hours"`
	ActiveInstructors int64    `json:"active_instructors"`
	TrainedRate       *float64 `json:"trained_rate"`
}

// SupportYear is GET /api/v1/stats/support: support given to the instructors of a region in a
// year and the suggestions they made, in the region and in each region one level down.
type SupportYear struct {
	Region      RegionRef         `json:"region"`
	Year        int               `json:"year"`
	GeneratedAt time.Time         `json:"generated_at"`
	Total       SupportYearLine   `json:"total"`
	Regions     []SupportYearLine `json:"regions"`
}

// SupportYearLine is one region's line: support records reaching its instructors by kind (a
// record reaching several of them counts once), how many different instructors were supported,
// and the suggestions its instructors made in the year, answered or not yet.
type SupportYearLine struct {
	RegionCode        string `json:"region_code"`
	RegionName        string `json:"region_name"`
	VisitCare         int64  `json:"visit_care"`
	Periodicals       int64  `json:"periodicals"`
	Other             int64  `json:"other"`
	Supported         int64  `json:"supported"`
	ActiveInstructors int64  `json:"active_instructors"`
	Suggestions       int64  `json:"suggestions"`
	Answered          int64  `json:"answered"`
	Unanswered        int64  `json:"unanswered"`
}

func (s *Service) parseYear(raw string) (int, error) {
	if raw == "" {
		return s.clock.Now().In(clock.Shanghai).Year(), nil
	}
	y, err := strconv.Atoi(raw)
	if err != nil || y < 2000 || y > 2100 {
		return 0, apperr.Field("year", "年份应为2000到2100之间的整数")
	}
	return y, nil
}

// childDigits is how many leading digits name the regions one level below a scope; a village has
// none below it and stands for itself.
func childDigits(level int) int {
	switch level {
	case region.LevelProvince:
		return 4
	case region.LevelCity:
		return 6
	case region.LevelCounty:
		return 9
	}
	return 12
}

func pad(prefix string) string { return prefix + strings.Repeat("0", 12-len(prefix)) }

// children are the lines of the regions one level below the scope (the scope itself for a
// village), in code order, named.
func (s *Service) children(ctx context.Context, sc scope, r region.Region) ([]RegionRef, error) {
	if sc.level >= region.LevelVillage {
		return []RegionRef{{Code: r.Code, Name: r.Name, Level: region.LevelName(r.Level)}}, nil
	}
	rows, err := s.regions.Children(ctx, r.Code)
	if err != nil {
		return nil, err
	}
	out := make([]RegionRef, 0, len(rows))
	for _, c := range rows {
		if sc.p.CanSeeRegion(c.Code) {
			out = append(out, RegionRef{Code: c.Code, Name: c.Name, Level: region.LevelName(c.Level)})
		}
	}
	return out, nil
}

// activeBy counts the instructors in office of the scope by child region.
func activeBy(db *gorm.DB, sc scope, n int) (map[string]int64, int64, error) {
	var rows []struct {
		K string
		N int64
	}
	if err := db.Table("instructors").Select(childKey("region_code", n)+" AS k, COUNT(*) AS n").
		Scopes(sc.where("region_code")).Where("status = ?", roster.StatusActive).
		Group("k").Scan(&rows).Error; err != nil {
		return nil, 0, err
	}
	out, total := map[string]int64{}, int64(0)
	for _, r := range rows {
		out[pad(r.K)] += r.N
		total += r.N
	}
	return out, total, nil
}

// Training answers the training statistics of a year.
func (s *Service) Training(ctx context.Context, p *access.Principal, q YearQuery) (TrainingYear, error) {
	sc, r, err := s.resolve(ctx, p, q.RegionCode)
	if err != nil {
		return TrainingYear{}, err
	}
	year, err := s.parseYear(q.Year)
	if err != nil {
		return TrainingYear{}, err
	}
	kids, err := s.children(ctx, sc, r)
	if err != nil {
		return TrainingYear{}, err
	}
	n := childDigits(sc.level)
	db := s.db.WithContext(ctx)
	from := time.Date(year, 1, 1, 0, 0, 0, 0, clock.Shanghai).UTC()
	to := time.Date(year+1, 1, 1, 0, 0, 0, 0, clock.Shanghai).UTC()
	lines := map[string]*TrainingYearLine{}
	for _, k := range kids {
		lines[k.Code] = &TrainingYearLine{RegionCode: k.Code, RegionName: k.Name}
	}
	out := TrainingYear{Region: RegionRef{Code: r.Code, Name: r.Name, Level: region.LevelName(r.Level)}, Year: year,
		GeneratedAt: clock.Local(s.clock.Now()), Total: TrainingYearLine{RegionCode: r.Code, RegionName: r.Name}}

	// Different instructors and their attendances: the rows of the year's trainees.
	trainees := func() *gorm.DB {
		return db.Table("training_trainees").Scopes(sc.where("region_code")).Where("year = ? AND attended > 0", year)
	}
	var byKid []struct {
		K           string
		Trained     int64
		Attendances int64
	}
	if err := trainees().Select(childKey("region_code", n) + " AS k, COUNT(DISTINCT instructor_id) AS trained, SUM(attended) AS attendances").
		Group("k").Scan(&byKid).Error; err != nil {
		return out, err
	}
	for _, x := range byKid {
		if l := lines[pad(x.K)]; l != nil {
			l.Trained, l.Attendances = x.Trained, x.Attendances
		}
		out.Total.Attendances += x.Attendances
	}
	if err := trainees().Select("COUNT(DISTINCT instructor_id)").Scan(&out.Total.Trained).Error; err != nil {
		return out, err
	}

	// Sessions and hours: the per-county tallies for the regions of a county and above, the
	// enrolments themselves below.
	var hrs []struct {
		K        string
		Sessions int64
		Tenths   int64
	}
	var total struct {
		Sessions int64
		Tenths   int64
	}
	var base func() *gorm.DB
	var key, sessions, tenths string
	if n <= 6 {
		base = func() *gorm.DB {
			return db.Table("training_tallies AS e").Joins("JOIN training_sessions AS s ON s.id = e.session_id").
				Where("e.attended > 0").Scopes(sc.where("e.county_code"))
		}
		key, sessions, tenths = childKey("e.county_code", n), "COUNT(DISTINCT s.id)", "COALESCE(SUM(e.tenths + e.whole * s.hours_tenths), 0)"
	} else {
		base = func() *gorm.DB {
			return db.Table("training_enrolments AS e").Joins("JOIN training_sessions AS s ON s.id = e.session_id").
				Where("e.status = ?", training.StatusAttended).Scopes(sc.where("e.region_code"))
		}
		key, sessions, tenths = childKey("e.region_code", n), "COUNT(DISTINCT s.id)", "COALESCE(SUM(COALESCE(e.hours_tenths, s.hours_tenths)), 0)"
	}
	inYear := func(q *gorm.DB) *gorm.DB { return q.Where("s.starts_at >= ? AND s.starts_at < ?", from, to) }
	if err := base().Scopes(inYear).Select(key + " AS k, " + sessions + " AS sessions, " + tenths + " AS tenths").
		Group("k").Scan(&hrs).Error; err != nil {
		return out, err
	}
	for _, x := range hrs {
		if l := lines[pad(x.K)]; l != nil {
			l.Sessions, l.Hours = x.Sessions, float64(x.Tenths)/10
		}
	}
	if err := base().Scopes(inYear).Select(sessions + " AS sessions, " + tenths + " AS tenths").Scan(&total).Error; err != nil {
		return out, err
	}
	out.Total.Sessions, out.Total.Hours = total.Sessions, float64(total.Tenths)/10

	active, all, err := activeBy(db, sc, n)
	if err != nil {
		return out, err
	}
	out.Total.ActiveInstructors = all
	out.Total.TrainedRate = rate(out.Total.Trained, all)
	out.Regions = make([]TrainingYearLine, 0, len(kids))
	for _, k := range kids {
		l := lines[k.Code]
		l.ActiveInstructors = active[k.Code]
		l.TrainedRate = rate(l.Trained, l.ActiveInstructors)
		out.Regions = append(out.Regions, *l)
	}
	return out, nil
}

// Support answers the support and suggestion statistics of a year.
func (s *Service) Support(ctx context.Context, p *access.Principal, q YearQuery) (SupportYear, error) {
	sc, r, err := s.resolve(ctx, p, q.RegionCode)
	if err != nil {
		return SupportYear{}, err
	}
	year, err := s.parseYear(q.Year)
	if err != nil {
		return SupportYear{}, err
	}
	kids, err := s.children(ctx, sc, r)
	if err != nil {
		return SupportYear{}, err
	}
	n := childDigits(sc.level)
	db := s.db.WithContext(ctx)
	lines := map[string]*SupportYearLine{}
	for _, k := range kids {
		lines[k.Code] = &SupportYearLine{RegionCode: k.Code, RegionName: k.Name}
	}
	out := SupportYear{Region: RegionRef{Code: r.Code, Name: r.Name, Level: region.LevelName(r.Level)}, Year: year,
		GeneratedAt: clock.Local(s.clock.Now()), Total: SupportYearLine{RegionCode: r.Code, RegionName: r.Name}}
	put := func(l *SupportYearLine, kind string, n int64) {
		switch kind {
		case support.KindVisitCare:
			l.VisitCare = n
		case support.KindPeriodicals:
			l.Periodicals = n
		case support.KindOther:
			l.Other = n
		}
	}

	// Support days are calendar days, stored at midnight UTC.
	dayFrom := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	given := func() *gorm.DB {
		return db.Table("support_recipients").Scopes(sc.where("region_code")).
			Where("given_on >= ? AND given_on < ?", dayFrom, dayFrom.AddDate(1, 0, 0))
	}
	var byKind []struct {
		K    string
		Kind string
		N    int64
	}
	if err := given().Select(childKey("region_code", n) + " AS k, kind, COUNT(DISTINCT support_id) AS n").
		Group("k, kind").Scan(&byKind).Error; err != nil {
		return out, err
	}
	for _, x := range byKind {
		if l := lines[pad(x.K)]; l != nil {
			put(l, x.Kind, x.N)
		}
	}
	var totals []struct {
		Kind string
		N    int64
	}
	if err := given().Select("kind, COUNT(DISTINCT support_id) AS n").Group("kind").Scan(&totals).Error; err != nil {
		return out, err
	}
	for _, x := range totals {
		put(&out.Total, x.Kind, x.N)
	}
	var people []struct {
		K string
		N int64
	}
	if err := given().Select(childKey("region_code", n) + " AS k, COUNT(DISTINCT instructor_id) AS n").
		Group("k").Scan(&people).Error; err != nil {
		return out, err
	}
	for _, x := range people {
		if l := lines[pad(x.K)]; l != nil {
			l.Supported = x.N
		}
	}
	if err := given().Select("COUNT(DISTINCT instructor_id)").Scan(&out.Total.Supported).Error; err != nil {
		return out, err
	}

	// Suggestions made in the year (Beijing time), by their state now.
	from := time.Date(year, 1, 1, 0, 0, 0, 0, clock.Shanghai).UTC()
	var sugg []struct {
		K      string
		Status string
		N      int64
	}
	if err := db.Table("suggestions").Scopes(sc.where("region_code")).
		Where("created_at >= ? AND created_at < ?", from, from.AddDate(1, 0, 0)).
		Select(childKey("region_code", n) + " AS k, status, COUNT(*) AS n").Group("k, status").Scan(&sugg).Error; err != nil {
		return out, err
	}
	count := func(l *SupportYearLine, status string, n int64) {
		l.Suggestions += n
		if status == support.StatusAnswered {
			l.Answered += n
		} else {
			l.Unanswered += n
		}
	}
	for _, x := range sugg {
		if l := lines[pad(x.K)]; l != nil {
			count(l, x.Status, x.N)
		}
		count(&out.Total, x.Status, x.N)
	}

	active, all, err := activeBy(db, sc, n)
	if err != nil {
		return out, err
	}
	out.Total.ActiveInstructors = all
	out.Regions = make([]SupportYearLine, 0, len(kids))
	for _, k := range kids {
		l := lines[k.Code]
		l.ActiveInstructors = active[k.Code]
		out.Regions = append(out.Regions, *l)
	}
	return out, nil
}
