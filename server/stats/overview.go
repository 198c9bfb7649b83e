package stats

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/meeting"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/training"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Item is one value of a dimension with its Chinese name and count.
type Item struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	Count int64  `json:"count"`
}

// RegionRef names a region.
type RegionRef struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level string `json:"level"`
}

// Overview is GET /api/v1/stats/overview.
type Overview struct {
	Region      RegionRef   `json:"region"`
	From        string      `json:"from"`
	To          string      `json:"to"`
	GeneratedAt time.Time   `json:"generated_at"`
	Instructors Instructors `json:"instructors"`
	Units       Units       `json:"units"`
	Records     Records     `json:"records"`
	Tips        Tips        `json:"tips"`
	Mediations  Mediations  `json:"mediations"`
	Meetings    Meetings    `json:"meetings"`
	// Training is never nil now that package training keeps attendance; the contract allows null
	// so that a deployment without training data could say so.
	Training *Training `json:"training"`
	Inactive Inactive  `json:"inactive_instructors"`
}

// Instructors is the roster of the region as it is now: every instructor by status; those in
// office by unit kind, ethnicity and source category.
type Instructors struct {
	Total            int64  `json:"total"`
	Active           int64  `json:"active"`
	ByStatus         []Item `json:"by_status"`
	ByUnitKind       []Item `json:"by_unit_kind"`
	ByEthnicity      []Item `json:"by_ethnicity"`
	BySourceCategory []Item `json:"by_source_category"`
}

// Units counts the units of the region by kind, and those without an instructor in office;
// Heavy and HeavyWithoutInstructor count the units flagged as where ethnic work is heavy
// (measures §二(二): instructors are selected there first), in all and without an instructor.
type Units struct {
	Total                   int64     `json:"total"`
	ByKind                  []Item    `json:"by_kind"`
	WithoutInstructor       int64     `json:"without_instructor"`
	WithoutInstructorSample []UnitRef `json:"without_instructor_sample"`
	Heavy                   int64     `json:"heavy"`
	HeavyWithoutInstructor  int64     `json:"heavy_without_instructor"`
}

// Records counts the records that happened in the period (withdrawn ones do not count).
type Records struct {
	Total  int64  `json:"total"`
	ByKind []Item `json:"by_kind"`
	// ByRole counts them by the role of the five (§三) they served, every role present: a role
	// with none is one the region's instructors neglect. ByTag counts them by brand and duty
	// tag, every tag present; a record with several tags counts under each.
	ByRole  []Item       `json:"by_role"`
	ByTag   []Item       `json:"by_tag"`
	ByMonth []MonthCount `json:"by_month"`
}

// MonthCount is one month of the period: records by kind code, every kind present.
type MonthCount struct {
	Month  string           `json:"month"`
	Total  int64            `json:"total"`
	ByKind map[string]int64 `json:"by_kind"`
}

// Tips counts the tips that happened in the period by level and current state; a tip marked as
// a duplicate of another counts once, as a duplicate.
type Tips struct {
	Total       int64        `json:"total"`
	Duplicates  int64        `json:"duplicates"`
	ByLevel     []LevelCount `json:"by_level"`
	ByState     []Item       `json:"by_state"`
	Acknowledge Deadline     `json:"acknowledge"`
	Resolve     Duration     `json:"resolve"`
}

// LevelCount is the tips of one level, by state, with their times to acknowledge against the
// level's deadline and their times to resolve (which no deadline bounds).
type LevelCount struct {
	Code        string   `json:"code"`
	Label       string   `json:"label"`
	Count       int64    `json:"count"`
	ByState     []Item   `json:"by_state"`
	Acknowledge Deadline `json:"acknowledge"`
	Resolve     Duration `json:"resolve"`
}

// Duration is how many tips were acknowledged (resolved) and the median time it took from
// submission, in minutes (to the resolution of the buckets, see median.go).
type Duration struct {
	Count         int64    `json:"count"`
	MedianMinutes *float64 `json:"median_minutes"`
}

// Deadline is the time to acknowledge measured against the acknowledge deadline: how many tips
// were acknowledged within it and after it (late ones escalated by themselves first). For one
// level DeadlineMinutes is that level's deadline; across levels it is nil and the counts are
// summed over the levels.
type Deadline struct {
	Count           int64    `json:"count"`
	MedianMinutes   *float64 `json:"median_minutes"`
	DeadlineMinutes *float64 `json:"deadline_minutes"`
	WithinDeadline  int64    `json:"within_deadline"`
	OverDeadline    int64    `json:"over_deadline"`
}

// Mediations counts mediation records by their current outcome. Every mediation has one, so the
// settlement rate is settled over all.
type Mediations struct {
	Total             int64    `json:"total"`
	ByOutcome         []Item   `json:"by_outcome"`
	Settled           int64    `json:"settled"`
	PartlySettled     int64    `json:"partly_settled"`
	SettlementRate    *float64 `json:"settlement_rate"`
	PartlySettledRate *float64 `json:"partly_settled_rate"`
}

// Meetings is the attendance of the meetings held in the period (not cancelled, already begun).
type Meetings struct {
	Meetings       int64    `json:"meetings"`
	Invitees       int64    `json:"invitees"`
	CheckedIn      int64    `json:"checked_in"`
	AttendanceRate *float64 `json:"attendance_rate"`
}

// Training is the hours credited for sessions that began in the period to instructors of the
// region: Attendances counts an instructor once per session attended, and the average is over
// the instructors in office. How many different instructors attended is counted per calendar
// year instead (TrainingYear, from the trainees the training service keeps): a period of months
// has no such rows.
type Training struct {
	Sessions          int64    `json:"sessions"`
	Attendances       int64    `json:"attendances"`
	TotalHours        float64  `json:"total_hours"`
	ActiveInstructors int64    `json:"active_instructors"`
	AverageHours      *float64 `json:"average_hours"`
}

// Inactive is the instructors in office with no record in the last Days days (counted from now,
// not from the period).
type Inactive struct {
	Days   int             `json:"days"`
	Since  time.Time       `json:"since"`
	Count  int64           `json:"count"`
	Sample []InstructorRef `json:"sample"`
}

// UnitRef is a unit in a list.
type UnitRef struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	KindName    string `json:"kind_name"`
	RegionCode  string `json:"region_code"`
	RegionName  string `json:"region_name"`
	Heavy       bool   `json:"heavy"`
	HeavyReason string `json:"heavy_reason,omitempty"`
}

// InstructorRef is an instructor in a list, with their latest record.
type InstructorRef struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	UnitID       int64      `json:"unit_id"`
	UnitName     string     `json:"unit_name"`
	RegionCode   string     `json:"region_code"`
	RegionName   string     `json:"region_name"`
	TermStart    string     `json:"term_start,omitempty"`
	LastRecordAt *time.Time `json:"last_record_at"`
}

// items lists counts in the order of a code list; codes the list does not know follow, named by
// their code. withZero keeps the list's codes that have no count.
func items(list []roster.Code, counts map[string]int64, withZero bool) []Item {
	out := []Item{}
	seen := map[string]bool{}
	for _, c := range list {
		seen[c.Code] = true
		if n := counts[c.Code]; n != 0 || withZero {
			out = append(out, Item{Code: c.Code, Label: c.Label, Count: n})
		}
	}
	var rest []string
	for code, n := range counts {
		if !seen[code] && n != 0 {
			rest = append(rest, code)
		}
	}
	slices.Sort(rest)
	for _, code := range rest {
		out = append(out, Item{Code: code, Label: code, Count: counts[code]})
	}
	return out
}

func kindCodes() []roster.Code {
	var out []roster.Code
	for _, k := range record.Kinds() {
		out = append(out, roster.Code{Code: k.Name, Label: k.Label})
	}
	return out
}

func tipStates() []roster.Code {
	k, _ := record.KindByName("tip")
	return k.AllStatuses()
}

// Query is what the overview is asked for: a region (the caller's own by default) and a period
// of months ("2025-01"; by default this year so far).
type Query struct {
	RegionCode string
	From, To   string
}

// Overview answers the statistics of a region subtree for a period.
func (s *Service) Overview(ctx context.Context, p *access.Principal, q Query) (Overview, error) {
	sc, r, err := s.resolve(ctx, p, q.RegionCode)
	if err != nil {
		return Overview{}, err
	}
	period, err := s.ParsePeriod(q.From, q.To)
	if err != nil {
		return Overview{}, err
	}
	return s.overview(ctx, sc, r, period)
}

func (s *Service) overview(ctx context.Context, sc scope, r region.Region, period Period) (Overview, error) {
	now := s.clock.Now()
	out := Overview{
		Region: RegionRef{Code: r.Code, Name: r.Name, Level: region.LevelName(r.Level)},
		From:   monthString(period.From), To: monthString(period.To), GeneratedAt: clock.Local(now),
	}
	db := s.db.WithContext(ctx)
	// The parts read different tables and fill different fields: they run side by side, each on a
	// connection of its own.
	if err := parallel(
		func() error { return s.instructors(db, sc, &out.Instructors) },
		func() error { return s.units(ctx, db, sc, &out) },
		func() error { return s.records(db, sc, period, &out) },
		func() error { return s.meetings(db, sc, period, now, &out.Meetings) },
		func() error { return s.training(db, sc, period, &out) },
		func() error { return s.inactive(ctx, db, sc, now, &out.Inactive) },
	); err != nil {
		return Overview{}, err
	}
	if out.Training != nil {
		out.Training.ActiveInstructors = out.Instructors.Active
		if out.Instructors.Active > 0 {
			v := float64(int64(out.Training.TotalHours/float64(out.Instructors.Active)*100+0.5)) / 100
			out.Training.AverageHours = &v
		}
	}
	return out, nil
}

func (s *Service) instructors(db *gorm.DB, sc scope, out *Instructors) error {
	var rows []struct {
		Status, Ethnicity, SourceCategory string
		N                                 int64
	}
	if err := hinted(db, "instructors", "idx_instructors_groups", sc.level == region.LevelProvince).
		Select("status, ethnicity, source_category, COUNT(*) AS n").
		Scopes(sc.where("region_code")).Group("status, ethnicity, source_category").Scan(&rows).Error; err != nil {
		return err
	}
	status, eth, src := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, r := range rows {
		out.Total += r.N
		status[r.Status] += r.N
		if r.Status == roster.StatusActive {
			out.Active += r.N
			eth[r.Ethnicity] += r.N
			src[r.SourceCategory] += r.N
		}
	}
	out.ByStatus = items(roster.InstructorStatuses, status, true)
	out.ByEthnicity = items(roster.Ethnicities, eth, false)
	out.BySourceCategory = items(roster.SourceCategories, src, true)
	return nil
}

// units counts units by kind and the instructors in office by the kind of their unit, from the
// count each unit keeps of its instructors in office.
func (s *Service) units(ctx context.Context, db *gorm.DB, sc scope, ov *Overview) error {
	out := &ov.Units
	var rows []struct {
		Kind        string
		Units       int64
		Instructors int64
		Empty       int64
	}
	if err := hinted(db, "units", "idx_units_groups", sc.level == region.LevelProvince).
		Select("kind, COUNT(*) AS units, COALESCE(SUM(active_instructors), 0) AS instructors, " +
			"COALESCE(SUM(CASE WHEN active_instructors <= 0 THEN 1 ELSE 0 END), 0) AS empty").
		Scopes(sc.where("region_code")).Group("kind").Scan(&rows).Error; err != nil {
		return err
	}
	units, active := map[string]int64{}, map[string]int64{}
	for _, r := range rows {
		out.Total += r.Units
		out.WithoutInstructor += r.Empty
		units[r.Kind] = r.Units
		active[r.Kind] = r.Instructors
	}
	out.ByKind = items(roster.UnitKinds, units, true)
	ov.Instructors.ByUnitKind = items(roster.UnitKinds, active, true)
	var heavy struct{ Units, Empty int64 }
	if err := hinted(db, "units", "idx_units_heavy", sc.level == region.LevelProvince).
		Select("COUNT(*) AS units, "+emptySQL+" AS empty").
		Where("heavy = ?", true).Scopes(sc.where("region_code")).Scan(&heavy).Error; err != nil {
		return err
	}
	out.Heavy, out.HeavyWithoutInstructor = heavy.Units, heavy.Empty
	sample, _, err := s.unitsWithout(ctx, db, sc, nil, paging.Page{Limit: SampleSize})
	out.WithoutInstructorSample = sample
	return err
}

// records counts the records of the period by kind and month, tips and mediations.
func (s *Service) records(db *gorm.DB, sc scope, period Period, out *Overview) error {
	rows, err := s.recordCounts(db, sc, period)
	if err != nil {
		return err
	}
	byMonth := map[int]map[string]int64{}
	kinds := map[string]int64{}
	levels := map[string]map[string]int64{}
	states := map[string]int64{}
	outcomes := map[string]int64{}
	roles, tags := map[string]int64{}, map[string]int64{}
	t := newTimes()
	tips := &out.Tips
	for _, r := range rows {
		switch {
		case strings.HasPrefix(r.Metric, metricRole):
			roles[strings.TrimPrefix(r.Metric, metricRole)] += r.N
		case strings.HasPrefix(r.Metric, metricTag):
			tags[strings.TrimPrefix(r.Metric, metricTag)] += r.N
		case strings.HasPrefix(r.Metric, metricRecords):
			k := strings.TrimPrefix(r.Metric, metricRecords)
			if byMonth[r.Month] == nil {
				byMonth[r.Month] = map[string]int64{}
			}
			byMonth[r.Month][k] += r.N
			kinds[k] += r.N
		case r.Metric == metricDuplicate:
			tips.Duplicates += r.N
		case strings.HasPrefix(r.Metric, metricTip):
			level, state, _ := strings.Cut(strings.TrimPrefix(r.Metric, metricTip), ":")
			if levels[level] == nil {
				levels[level] = map[string]int64{}
			}
			levels[level][state] += r.N
			states[state] += r.N
			tips.Total += r.N
		case strings.HasPrefix(r.Metric, metricAck), strings.HasPrefix(r.Metric, metricResolve):
			t.add(r.Metric, r.N)
		case strings.HasPrefix(r.Metric, metricOutcome):
			outcomes[strings.TrimPrefix(r.Metric, metricOutcome)] += r.N
		}
	}
	kindList := kindCodes()
	rec := &out.Records
	rec.ByKind = items(kindList, kinds, true)
	rec.ByRole = items(record.Roles, roles, true)
	rec.ByTag = items(record.Tags, tags, true)
	for _, it := range rec.ByKind {
		rec.Total += it.Count
	}
	rec.ByMonth = []MonthCount{}
	for _, m := range period.Months() {
		mc := MonthCount{Month: monthString(m), ByKind: map[string]int64{}}
		for _, k := range kindList {
			mc.ByKind[k.Code] = byMonth[m][k.Code]
			mc.Total += byMonth[m][k.Code]
		}
		rec.ByMonth = append(rec.ByMonth, mc)
	}

	stateList := tipStates()
	tips.ByState = items(stateList, states, true)
	tips.ByLevel = []LevelCount{}
	for _, lv := range items(record.TipLevels, sumLevels(levels), true) {
		tips.ByLevel = append(tips.ByLevel, LevelCount{Code: lv.Code, Label: lv.Label, Count: lv.Count,
			ByState: items(stateList, levels[lv.Code], true), Acknowledge: t.acknowledge(lv.Code, s.ackDeadline(lv.Code)),
			Resolve: t.resolve(lv.Code)})
	}
	tips.Acknowledge, tips.Resolve = t.totals(s.ackDeadline)

	med := &out.Mediations
	med.ByOutcome = items(record.Outcomes, outcomes, true)
	for _, it := range med.ByOutcome {
		med.Total += it.Count
	}
	med.Settled, med.PartlySettled = outcomes[record.OutcomeSettled], outcomes["partly_settled"]
	med.SettlementRate = rate(med.Settled, med.Total)
	med.PartlySettledRate = rate(med.PartlySettled, med.Total)
	return nil
}

func sumLevels(levels map[string]map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for lv, states := range levels {
		for _, n := range states {
			out[lv] += n
		}
	}
	return out
}

// MeetingCount is the attendance of a meeting that has ended. The meeting package refuses every
// change after the end (invitees, cancellation, answers, check-in), so it is counted once, by the
// first overview that needs it, instead of at every overview: a province's year is over a
// million invitations.
type MeetingCount struct {
	MeetingID  int64 `gorm:"primaryKey;autoIncrement:false"`
	RegionCode string
	StartsAt   time.Time
	EndsAt     time.Time
	Invitees   int64
	CheckedIn  int64
}

func (MeetingCount) TableName() string { return "stats_meetings" }

// meetingSettle is how long after its end a meeting is counted for good: check-ins by an instance
// whose clock is behind have landed by then.
const meetingSettle = time.Hour

// meetings is the attendance of the meetings that began in the period. Meetings belong to
// counties: for a county or above they are the meetings held in the subtree; for a township or
// village, the invitations of its instructors.
func (s *Service) meetings(db *gorm.DB, sc scope, period Period, now time.Time, out *Meetings) error {
	end := period.End()
	if now.Before(end) {
		end = now
	}
	held := func(q *gorm.DB) *gorm.DB {
		return q.Where("m.status = ? AND m.starts_at >= ? AND m.starts_at < ?", meeting.StatusScheduled, period.Start(), end)
	}
	var row struct {
		Meetings, Invitees, CheckedIn int64
	}
	if sc.level > region.LevelCounty {
		if err := db.Table("meeting_invitees AS mi").Joins("JOIN meetings AS m ON m.id = mi.meeting_id").
			Joins("JOIN instructors AS i ON i.id = mi.instructor_id").Scopes(held, sc.where("i.region_code")).
			Select("COUNT(DISTINCT m.id) AS meetings, COUNT(*) AS invitees, COUNT(mi.checked_in_at) AS checked_in").
			Scan(&row).Error; err != nil {
			return err
		}
		*out = Meetings{Meetings: row.Meetings, Invitees: row.Invitees, CheckedIn: row.CheckedIn, AttendanceRate: rate(row.CheckedIn, row.Invitees)}
		return nil
	}
	settled := now.Add(-meetingSettle)
	// Count the meetings that ended for good and are not counted yet.
	var fresh []MeetingCount
	if err := db.Table("meetings AS m").Scopes(held, sc.where("m.region_code")).
		Joins("LEFT JOIN stats_meetings AS c ON c.meeting_id = m.id").
		Joins("LEFT JOIN meeting_invitees AS mi ON mi.meeting_id = m.id").
		Where("m.ends_at < ? AND c.meeting_id IS NULL", settled).
		Select("m.id AS meeting_id, m.region_code, m.starts_at, m.ends_at, COUNT(mi.id) AS invitees, COUNT(mi.checked_in_at) AS checked_in").
		Group("m.id, m.region_code, m.starts_at, m.ends_at").Scan(&fresh).Error; err != nil {
		return err
	}
	if len(fresh) > 0 {
		if err := db.Session(&gorm.Session{NewDB: true}).Clauses(clause.OnConflict{DoNothing: true}).
			CreateInBatches(fresh, 500).Error; err != nil {
			return err
		}
	}
	if err := db.Table("stats_meetings AS m").Scopes(sc.where("m.region_code")).
		Where("m.starts_at >= ? AND m.starts_at < ? AND m.ends_at < ?", period.Start(), end, settled).
		Select("COUNT(*) AS meetings, COALESCE(SUM(m.invitees), 0) AS invitees, COALESCE(SUM(m.checked_in), 0) AS checked_in").
		Scan(&row).Error; err != nil {
		return err
	}
	// And those still open to check-in, or just ended (by this instance's clock: a meeting kept by
	// an instance whose clock is ahead is counted here, not twice).
	var live struct {
		Meetings, Invitees, CheckedIn int64
	}
	if err := db.Table("meetings AS m").Scopes(held, sc.where("m.region_code")).
		Joins("LEFT JOIN meeting_invitees AS mi ON mi.meeting_id = m.id").Where("m.ends_at >= ?", settled).
		Select("COUNT(DISTINCT m.id) AS meetings, COUNT(mi.id) AS invitees, COUNT(mi.checked_in_at) AS checked_in").
		Scan(&live).Error; err != nil {
		return err
	}
	out.Meetings, out.Invitees, out.CheckedIn = row.Meetings+live.Meetings, row.Invitees+live.Invitees, row.CheckedIn+live.CheckedIn
	out.AttendanceRate = rate(out.CheckedIn, out.Invitees)
	return nil
}

// training sums the hours credited to instructors of the region (where they were when enrolled)
// for sessions that began in the period: a recorded part of a session, or the whole of it. A
// province, city or county sums the tallies the training service keeps per session and county;
// a township or village reads its own enrolments.
func (s *Service) training(db *gorm.DB, sc scope, period Period, out *Overview) error {
	var row struct {
		Sessions, Attendances, Tenths int64
	}
	var q *gorm.DB
	if sc.level <= region.LevelCounty {
		q = db.Table("training_tallies AS e").Joins("JOIN training_sessions AS s ON s.id = e.session_id").
			Select("COUNT(DISTINCT s.id) AS sessions, COALESCE(SUM(e.attended), 0) AS attendances, " +
				"COALESCE(SUM(e.tenths + e.whole * s.hours_tenths), 0) AS tenths").
			Where("e.attended > 0").Scopes(sc.where("e.county_code"))
	} else {
		// MySQL would rather start from the sessions, which reads every enrolment of the period:
		// STRAIGHT_JOIN keeps the order.
		q = db.Table("training_sessions AS s").Joins("JOIN training_enrolments AS e ON e.session_id = s.id")
		if db.Dialector.Name() == "mysql" {
			q = db.Table("training_enrolments AS e STRAIGHT_JOIN training_sessions AS s ON e.session_id = s.id")
		}
		q = q.Select("COUNT(DISTINCT s.id) AS sessions, COUNT(*) AS attendances, "+
			"COALESCE(SUM(COALESCE(e.hours_tenths, s.hours_tenths)), 0) AS tenths").
			Where("e.status = ?", training.StatusAttended).Scopes(sc.where("e.region_code"))
	}
	if err := q.Where("s.starts_at >= ? AND s.starts_at < ?", period.Start(), period.End()).Scan(&row).Error; err != nil {
		return err
	}
	out.Training = &Training{Sessions: row.Sessions, Attendances: row.Attendances, TotalHours: float64(row.Tenths) / 10}
	return nil
}

func (s *Service) inactive(ctx context.Context, db *gorm.DB, sc scope, now time.Time, out *Inactive) error {
	since := now.AddDate(0, 0, -InactiveDays)
	*out = Inactive{Days: InactiveDays, Since: clock.Local(since)}
	if err := hinted(db, "instructors AS i", "idx_instructors_activity", sc.level == region.LevelProvince).
		Scopes(inactiveSince(sc, since)).Count(&out.Count).Error; err != nil {
		return err
	}
	sample, _, err := s.inactiveList(ctx, db, sc, since, paging.Page{Limit: SampleSize})
	out.Sample = sample
	return err
}

// inactiveSince selects the instructors in office in the scope whose latest record (if any) is
// older than since. The index (status, last_record_at, region_code) finds just those: the count
// reads as many index entries as there are inactive instructors, not the province's 100,000.
func inactiveSince(sc scope, since time.Time) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		return q.Scopes(sc.where("i.region_code")).Where("i.status = ? AND (i.last_record_at IS NULL OR i.last_record_at < ?)",
			roster.StatusActive, since)
	}
}

// hinted is a table to read, on MySQL with an index hint when want. MariaDB picks the
// region-first index for any region, right for a county and wrong for the province, where an
// index in GROUP BY order (or one that holds only the rows asked for) is several times faster.
func hinted(db *gorm.DB, table, index string, want bool) *gorm.DB {
	if want && db.Dialector.Name() == "mysql" {
		return db.Table(table + " FORCE INDEX (" + index + ")")
	}
	return db.Table(table)
}

// parallel runs the steps at once and returns the first error.
func parallel(steps ...func() error) error {
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = step()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
