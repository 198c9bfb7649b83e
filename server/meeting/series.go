package meeting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Series statuses.
const (
	SeriesActive    = "active"
	SeriesCancelled = "cancelled"
)

// SeriesStatuses with their labels, for the API.
var SeriesStatuses = []roster.Code{{Code: SeriesActive, Label: "进行中"}, {Code: SeriesCancelled, Label: "已停止"}}

// Bounds of a series.
const (
	maxSeriesCount  = 156 // three years of weekly meetings: one term (measures §五(三))
	maxSeriesYears  = 3
	maxSeriesMinute = 24*60 - 1
	nextDatesShown  = 5
	seriesSubject   = "meeting_series"
)

var errSeriesNotFound = apperr.New(http.StatusNotFound, "meeting_series_not_found", "定期例会不存在或不在您的管辖范围内")
var errSeriesCancelled = apperr.New(http.StatusConflict, "meeting_series_cancelled", "定期例会已停止")

// Series is a county's recurring meeting: the rule, the time of day, the details each
// occurrence copies and the end (UntilOn or Count).
type Series struct {
	ID              int64
	RegionCode      string
	Title           string
	Agenda          string
	Place           string
	Latitude        *float64
	Longitude       *float64
	Audience        string
	InstructorIDs   string // JSON array, for a list audience
	Frequency       string
	Weekday         int
	MonthDay        int
	WeekOfMonth     int
	StartMinute     int
	DurationMinutes int
	StartsOn        string
	UntilOn         string
	Count           int
	Status          string
	CancelReason    string
	CancelledAt     *time.Time
	Version         int
	CreatedBy       int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (Series) TableName() string { return "meeting_series" }

func (s Series) rule() Rule {
	return Rule{Frequency: s.Frequency, Weekday: s.Weekday, MonthDay: s.MonthDay, WeekOfMonth: s.WeekOfMonth}
}

func (s Series) from() time.Time {
	d, _ := time.ParseInLocation(dateLayout, s.StartsOn, clock.Shanghai)
	return d
}

// occurrence is the start and end of the occurrence on day.
func (s Series) occurrence(day time.Time) (time.Time, time.Time) {
	start := day.Add(time.Duration(s.StartMinute) * time.Minute).UTC()
	return start, start.Add(time.Duration(s.DurationMinutes) * time.Minute)
}

// within reports whether the seq-th date is inside the series' end.
func (s Series) within(seq int, day time.Time) bool {
	if s.Count > 0 {
		return seq <= s.Count
	}
	return day.Format(dateLayout) <= s.UntilOn
}

func (s Series) instructorIDs() []int64 {
	var ids []int64
	_ = json.Unmarshal([]byte(s.InstructorIDs), &ids)
	return ids
}

// SeriesInput schedules a series. StartTime is "HH:MM" in Asia/Shanghai; StartsOn and Until are
// dates ("2006-01-02"), StartsOn empty for today; exactly one of Until and Count ends it.
type SeriesInput struct {
	Title           string
	Place           string
	Latitude        *float64
	Longitude       *float64
	Agenda          string
	Audience        string
	InstructorIDs   []int64
	Frequency       string
	Weekday         *int
	MonthDay        *int
	WeekOfMonth     *int
	StartTime       string
	DurationMinutes *int
	StartsOn        string
	Until           string
	Count           *int
}

// SeriesPatch changes a series' details for its occurrences still to come; nil fields stay.
type SeriesPatch struct {
	Title           *string
	Place           *string
	Agenda          *string
	StartTime       *string
	DurationMinutes *int
}

// SeriesView is a series as the API shows it. NextDates are the next start times of the rule
// (occurrences not created yet among them).
type SeriesView struct {
	ID              int64       `json:"id"`
	Title           string      `json:"title"`
	Place           string      `json:"place"`
	Latitude        *float64    `json:"latitude,omitempty"`
	Longitude       *float64    `json:"longitude,omitempty"`
	Agenda          string      `json:"agenda"`
	Audience        string      `json:"audience"`
	AudienceName    string      `json:"audience_name"`
	InstructorIDs   []int64     `json:"instructor_ids"`
	Frequency       string      `json:"frequency"`
	FrequencyName   string      `json:"frequency_name"`
	Weekday         int         `json:"weekday,omitempty"`
	MonthDay        int         `json:"month_day,omitempty"`
	WeekOfMonth     int         `json:"week_of_month,omitempty"`
	RuleText        string      `json:"rule_text"`
	StartTime       string      `json:"start_time"`
	DurationMinutes int         `json:"duration_minutes"`
	StartsOn        string      `json:"starts_on"`
	Until           string      `json:"until,omitempty"`
	Count           int         `json:"count,omitempty"`
	Status          string      `json:"status"`
	StatusName      string      `json:"status_name"`
	CancelReason    string      `json:"cancel_reason"`
	CancelledAt     *time.Time  `json:"cancelled_at,omitempty"`
	RegionCode      string      `json:"region_code"`
	RegionName      string      `json:"region_name"`
	NextDates       []time.Time `json:"next_dates"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

func parseClock(v *validate.Checker, s string) (int, bool) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if s == "" || !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		v.Fail("start_time", "开始时刻应为24小时制的“时:分”,如09:30")
		return 0, false
	}
	return hh*60 + mm, true
}

func checkDuration(v *validate.Checker, d *int) int {
	if d == nil {
		v.Fail("duration_minutes", "请填写例会时长")
		return 0
	}
	v.Check(*d >= 15 && *d <= 12*60, "duration_minutes", "例会时长应在15分钟到12小时之间")
	return *d
}

// checkRule validates the rule fields of in into r.
func checkRule(v *validate.Checker, in SeriesInput) Rule {
	r := Rule{Frequency: strings.TrimSpace(in.Frequency)}
	v.OneOf("frequency", "重复规则", r.Frequency, true, roster.OneOf(Frequencies))
	needWeekday := r.Frequency == FrequencyWeekly || r.Frequency == FrequencyMonthlyWeekday
	switch {
	case needWeekday && in.Weekday == nil:
		v.Fail("weekday", "请选择星期几")
	case needWeekday:
		r.Weekday = *in.Weekday
		v.Check(r.Weekday >= 1 && r.Weekday <= 7, "weekday", "星期几应为1(星期一)到7(星期日)")
	case in.Weekday != nil && r.Frequency == FrequencyMonthlyDay:
		v.Fail("weekday", "按每月固定日期重复时不需要星期几")
	}
	switch {
	case r.Frequency == FrequencyMonthlyWeekday && in.WeekOfMonth == nil:
		v.Fail("week_of_month", "请选择每月第几个星期")
	case r.Frequency == FrequencyMonthlyWeekday:
		r.WeekOfMonth = *in.WeekOfMonth
		v.Check(r.WeekOfMonth == LastWeek || (r.WeekOfMonth >= 1 && r.WeekOfMonth <= 4), "week_of_month", "每月第几个星期应为1到4,或-1(最后一个)")
	case in.WeekOfMonth != nil && r.Frequency != "":
		v.Fail("week_of_month", "只有按每月第几个星期几重复时才需要填写")
	}
	switch {
	case r.Frequency == FrequencyMonthlyDay && in.MonthDay == nil:
		v.Fail("month_day", "请选择每月几日")
	case r.Frequency == FrequencyMonthlyDay:
		r.MonthDay = *in.MonthDay
		v.Check(r.MonthDay >= 1 && r.MonthDay <= 28, "month_day", "每月几日应在1到28之间(每个月都有的日期)")
	case in.MonthDay != nil && r.Frequency != "":
		v.Fail("month_day", "只有按每月固定日期重复时才需要填写")
	}
	return r
}

func parseDate(v *validate.Checker, field, label, s string) (time.Time, bool) {
	d, err := time.ParseInLocation(dateLayout, strings.TrimSpace(s), clock.Shanghai)
	if err != nil {
		v.Fail(field, label+"应为日期,如2025-03-01")
		return time.Time{}, false
	}
	return d, true
}

// CreateSeries schedules a recurring meeting of the caller's county and creates its occurrences
// within the horizon at once; the sweep creates the later ones as their time comes.
func (s *Service) CreateSeries(ctx context.Context, p *access.Principal, in SeriesInput) (SeriesView, error) {
	if err := requireOrganizer(p); err != nil {
		return SeriesView{}, err
	}
	now := s.clock.Now()
	today := civil(now.In(clock.Shanghai).Date())
	probe := Meeting{Title: in.Title, Place: in.Place, Agenda: in.Agenda, Latitude: in.Latitude, Longitude: in.Longitude}
	var v validate.Checker
	checkDetails(&v, &probe)
	r := checkRule(&v, in)
	minute, minuteOK := parseClock(&v, in.StartTime)
	duration := checkDuration(&v, in.DurationMinutes)
	from, fromOK := today, true
	if strings.TrimSpace(in.StartsOn) != "" {
		if from, fromOK = parseDate(&v, "starts_on", "开始日期", in.StartsOn); fromOK {
			v.Check(!from.Before(today), "starts_on", "开始日期不能早于今天")
			v.Check(!from.After(today.AddDate(1, 0, 0)), "starts_on", "开始日期不能超过一年以后")
		}
	}
	until, count := "", 0
	switch {
	case strings.TrimSpace(in.Until) != "" && in.Count != nil:
		v.Fail("until", "截止日期和次数只能填写一项")
	case in.Count != nil:
		count = *in.Count
		v.Check(count >= 1 && count <= maxSeriesCount, "count", fmt.Sprintf("次数应在1到%d之间", maxSeriesCount))
	case strings.TrimSpace(in.Until) != "":
		if d, ok := parseDate(&v, "until", "截止日期", in.Until); ok && fromOK {
			if d.Before(from) {
				v.Fail("until", "截止日期不能早于开始日期")
			} else if d.After(from.AddDate(maxSeriesYears, 0, 0)) {
				v.Fail("until", fmt.Sprintf("截止日期不能超过开始日期后%d年", maxSeriesYears))
			}
			until = d.Format(dateLayout)
		}
	default:
		v.Fail("until", "请填写截止日期或重复次数")
	}
	v.OneOf("audience", "参会范围", in.Audience, true, roster.OneOf(Audiences))
	ids := dedupe(in.InstructorIDs)
	switch in.Audience {
	case AudienceList:
		v.Check(len(ids) > 0, "instructor_ids", "请选择参会的指导员")
		v.Check(len(ids) <= maxInvitees, "instructor_ids", fmt.Sprintf("参会指导员不能超过%d名", maxInvitees))
	case AudienceCounty:
		v.Check(len(ids) == 0, "instructor_ids", "全县指导员参会时不需要指定指导员")
	}
	if err := v.Err(); err != nil {
		return SeriesView{}, err
	}
	row := Series{
		RegionCode: p.RegionCode, Title: probe.Title, Agenda: probe.Agenda, Place: probe.Place,
		Latitude: in.Latitude, Longitude: in.Longitude, Audience: in.Audience, InstructorIDs: "[]",
		Frequency: r.Frequency, Weekday: r.Weekday, MonthDay: r.MonthDay, WeekOfMonth: r.WeekOfMonth,
		StartMinute: minute, DurationMinutes: duration, UntilOn: until, Count: count,
		Status: SeriesActive, Version: 1, CreatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now,
	}
	_ = minuteOK
	// The series starts on its first date still ahead: numbering, and a count, begin there.
	var first time.Time
	r.Dates(from, func(_ int, day time.Time) bool {
		if until != "" && day.Format(dateLayout) > until {
			return false
		}
		if start, _ := row.occurrence(day); start.After(now) {
			first = day
			return false
		}
		return true
	})
	if first.IsZero() {
		return SeriesView{}, apperr.Field("until", "截止日期前没有符合规则且尚未开始的日期")
	}
	row.StartsOn = first.Format(dateLayout)
	if in.Audience == AudienceList {
		b, _ := json.Marshal(ids)
		row.InstructorIDs = string(b)
	}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		// The invitees are checked now, so a mistake is answered here and not by the sweep.
		var err error
		if row.Audience == AudienceCounty {
			_, err = s.countyInstructors(tx, p)
		} else {
			_, err = s.listedInstructors(tx, p, ids)
		}
		if err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return SeriesView{}, err
	}
	audit.Subject(ctx, seriesSubject, row.ID, row.RegionCode)
	if _, err := s.materialize(ctx, row, now); err != nil {
		return SeriesView{}, err
	}
	return s.seriesView(ctx, row, now), nil
}

func (s *Service) seriesView(ctx context.Context, x Series, now time.Time) SeriesView {
	v := SeriesView{
		ID: x.ID, Title: x.Title, Place: x.Place, Latitude: x.Latitude, Longitude: x.Longitude, Agenda: x.Agenda,
		Audience: x.Audience, AudienceName: roster.Label(Audiences, x.Audience), InstructorIDs: nonNil(x.instructorIDs()),
		Frequency: x.Frequency, FrequencyName: roster.Label(Frequencies, x.Frequency),
		Weekday: x.Weekday, MonthDay: x.MonthDay, WeekOfMonth: x.WeekOfMonth,
		RuleText:  x.rule().Text() + " " + fmt.Sprintf("%02d:%02d", x.StartMinute/60, x.StartMinute%60),
		StartTime: fmt.Sprintf("%02d:%02d", x.StartMinute/60, x.StartMinute%60), DurationMinutes: x.DurationMinutes,
		StartsOn: x.StartsOn, Until: x.UntilOn, Count: x.Count,
		Status: x.Status, StatusName: roster.Label(SeriesStatuses, x.Status), CancelReason: x.CancelReason,
		CancelledAt: clock.LocalPtr(x.CancelledAt), RegionCode: x.RegionCode, NextDates: []time.Time{},
		CreatedAt: clock.Local(x.CreatedAt), UpdatedAt: clock.Local(x.UpdatedAt),
	}
	if r, err := s.regions.Get(ctx, x.RegionCode); err == nil {
		v.RegionName = r.Name
	}
	if x.Status == SeriesActive {
		x.rule().Dates(x.from(), func(seq int, day time.Time) bool {
			if !x.within(seq, day) || len(v.NextDates) >= nextDatesShown {
				return false
			}
			if start, _ := x.occurrence(day); start.After(now) {
				v.NextDates = append(v.NextDates, clock.Local(start))
			}
			return true
		})
	}
	return v
}

func (s *Service) loadSeries(db *gorm.DB, p *access.Principal, id int64) (Series, error) {
	var x Series
	err := db.Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&x).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return x, errSeriesNotFound
	}
	return x, err
}

// GetSeries returns one series of the caller's subtree.
func (s *Service) GetSeries(ctx context.Context, p *access.Principal, id int64) (SeriesView, error) {
	if !p.IsStaff() {
		return SeriesView{}, errStaffOnly
	}
	x, err := s.loadSeries(s.db.WithContext(ctx), p, id)
	if err != nil {
		return SeriesView{}, err
	}
	return s.seriesView(ctx, x, s.clock.Now()), nil
}

// ListSeries lists the series of the caller's subtree, newest first.
func (s *Service) ListSeries(ctx context.Context, p *access.Principal, status, regionCode string, page paging.Page) ([]SeriesView, string, error) {
	if !p.IsStaff() {
		return nil, "", errStaffOnly
	}
	var v validate.Checker
	v.OneOf("status", "状态", status, false, roster.OneOf(SeriesStatuses))
	v.RegionCode("region_code", regionCode)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Series{}).Scopes(page.Apply("id"), access.InRegion(p, "region_code"),
		access.UnderRegion("region_code", regionCode))
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var rows []Series
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(page, rows, func(x Series) int64 { return x.ID })
	now := s.clock.Now()
	out := make([]SeriesView, len(rows))
	for i, x := range rows {
		out[i] = s.seriesView(ctx, x, now)
	}
	return out, next, nil
}

// futureOccurrences are the occurrences of a series that have not started and are not cancelled.
func futureOccurrences(tx *gorm.DB, seriesID int64, now time.Time) ([]Meeting, error) {
	var rows []Meeting
	err := tx.Where("series_id = ? AND status = ? AND starts_at > ?", seriesID, StatusScheduled, now).Order("starts_at, id").Find(&rows).Error
	return rows, err
}

// CancelSeries stops a series: no occurrence is created any more and those not started yet are
// cancelled with the reason (each with its notice). Occurrences held or under way stay.
func (s *Service) CancelSeries(ctx context.Context, p *access.Principal, id int64, reason string) (SeriesView, error) {
	if err := requireOrganizer(p); err != nil {
		return SeriesView{}, err
	}
	reason = strings.TrimSpace(reason)
	var v validate.Checker
	v.Required("reason", "停止原因", reason, maxReasonNote)
	if err := v.Err(); err != nil {
		return SeriesView{}, err
	}
	now := s.clock.Now()
	var out Series
	err := s.transact(ctx, func(tx *gorm.DB) error {
		x, err := s.loadSeries(tx, p, id)
		if err != nil {
			return err
		}
		if x.Status != SeriesActive {
			return errSeriesCancelled
		}
		res := tx.Model(&Series{}).Where("id = ? AND status = ?", x.ID, SeriesActive).Updates(map[string]any{
			"status": SeriesCancelled, "cancel_reason": reason, "cancelled_at": now, "version": x.Version + 1, "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errSeriesCancelled
		}
		x.Status, x.CancelReason, x.CancelledAt, x.Version, x.UpdatedAt = SeriesCancelled, reason, &now, x.Version+1, now
		rows, err := futureOccurrences(tx, x.ID, now)
		if err != nil {
			return err
		}
		for _, m := range rows {
			if err := s.cancelIn(tx, m, reason, now); err != nil {
				return err
			}
		}
		out = x
		return nil
	})
	if err != nil {
		return SeriesView{}, err
	}
	audit.Subject(ctx, seriesSubject, out.ID, out.RegionCode)
	return s.seriesView(ctx, out, now), nil
}

// UpdateSeries changes a series' details; its occurrences still to come that were not changed on
// their own take the change (each with its change notice), those held or under way keep theirs.
func (s *Service) UpdateSeries(ctx context.Context, p *access.Principal, id int64, in SeriesPatch) (SeriesView, error) {
	if err := requireOrganizer(p); err != nil {
		return SeriesView{}, err
	}
	now := s.clock.Now()
	var out Series
	err := s.transact(ctx, func(tx *gorm.DB) error {
		x, err := s.loadSeries(tx, p, id)
		if err != nil {
			return err
		}
		if x.Status != SeriesActive {
			return errSeriesCancelled
		}
		next := x
		var v validate.Checker
		if in.Title != nil {
			next.Title = *in.Title
		}
		if in.Place != nil {
			next.Place = *in.Place
		}
		if in.Agenda != nil {
			next.Agenda = *in.Agenda
		}
		probe := Meeting{Title: next.Title, Place: next.Place, Agenda: next.Agenda}
		checkDetails(&v, &probe)
		next.Title, next.Place, next.Agenda = probe.Title, probe.Place, probe.Agenda
		if in.StartTime != nil {
			next.StartMinute, _ = parseClock(&v, *in.StartTime)
		}
		if in.DurationMinutes != nil {
			next.DurationMinutes = checkDuration(&v, in.DurationMinutes)
		}
		if err := v.Err(); err != nil {
			return err
		}
		next.Version, next.UpdatedAt = x.Version+1, now
		res := tx.Model(&Series{}).Where("id = ? AND version = ?", x.ID, x.Version).Updates(map[string]any{
			"title": next.Title, "place": next.Place, "agenda": next.Agenda, "start_minute": next.StartMinute,
			"duration_minutes": next.DurationMinutes, "version": next.Version, "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errChanged
		}
		rows, err := futureOccurrences(tx, x.ID, now)
		if err != nil {
			return err
		}
		for _, m := range rows {
			if m.Detached || m.SeriesSeq == nil {
				continue
			}
			if err := s.followSeries(tx, m, next, now); err != nil {
				return err
			}
		}
		out = next
		return nil
	})
	if err != nil {
		return SeriesView{}, err
	}
	audit.Subject(ctx, seriesSubject, out.ID, out.RegionCode)
	return s.seriesView(ctx, out, now), nil
}

// followSeries gives occurrence m the series' current details and time of day, with a change
// notice when anything changed. A new start already past is left as it was.
func (s *Service) followSeries(tx *gorm.DB, m Meeting, x Series, now time.Time) error {
	next := m
	next.Title, next.Place, next.Agenda = x.Title, x.Place, x.Agenda
	day := civil(m.StartsAt.In(clock.Shanghai).Date())
	next.StartsAt, next.EndsAt = x.occurrence(day)
	if !next.StartsAt.After(now) {
		next.StartsAt, next.EndsAt = m.StartsAt, m.EndsAt
	}
	var changes []string
	for _, c := range []struct {
		field   string
		changed bool
	}{
		{"title", next.Title != m.Title}, {"starts_at", !next.StartsAt.Equal(m.StartsAt)},
		{"ends_at", !next.EndsAt.Equal(m.EndsAt)}, {"place", next.Place != m.Place}, {"agenda", next.Agenda != m.Agenda},
	} {
		if c.changed {
			changes = append(changes, c.field)
		}
	}
	if len(changes) == 0 {
		return nil
	}
	if !next.StartsAt.Equal(m.StartsAt) {
		next.AnnouncedAt = now
	}
	next.Version, next.UpdatedAt = m.Version+1, now
	res := tx.Model(&Meeting{}).Where("id = ? AND version = ?", m.ID, m.Version).Updates(map[string]any{
		"title": next.Title, "place": next.Place, "agenda": next.Agenda, "starts_at": next.StartsAt, "ends_at": next.EndsAt,
		"announced_at": next.AnnouncedAt, "version": next.Version, "updated_at": now,
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errChanged
	}
	ids, err := s.inviteeIDs(tx, m.ID, false)
	if err != nil {
		return err
	}
	return emit(tx, next, now, outbox.MeetingChanged{Meeting: notice(next, ids), Changes: changes,
		AddedInstructorIDs: []int64{}, RemovedInstructorIDs: []int64{}})
}

// horizon is how far ahead occurrences are created.
func (s *Service) horizon() time.Duration {
	if s.opt.SeriesHorizon > 0 {
		return s.opt.SeriesHorizon
	}
	return 35 * 24 * time.Hour
}

// DueOccurrences creates the occurrences of every active series that start within the horizon
// and returns how many it created. Any number of instances may run it at once: the unique key
// on (series_id, series_seq) lets each occurrence be created once, in the transaction that
// writes its invitees and notice.
func (s *Service) DueOccurrences(ctx context.Context) (int, error) {
	now := s.clock.Now()
	var rows []Series
	if err := s.db.WithContext(ctx).Where("status = ?", SeriesActive).Order("id").Find(&rows).Error; err != nil {
		return 0, err
	}
	done := 0
	for _, x := range rows {
		n, err := s.materialize(ctx, x, now)
		done += n
		if err != nil {
			if ctx.Err() != nil {
				return done, nil
			}
			return done, fmt.Errorf("meeting series %d: %w", x.ID, err)
		}
	}
	return done, nil
}

// materialize creates the missing occurrences of x that start after now and within the horizon.
func (s *Service) materialize(ctx context.Context, x Series, now time.Time) (int, error) {
	var have []int
	if err := s.db.WithContext(ctx).Model(&Meeting{}).Where("series_id = ?", x.ID).Pluck("series_seq", &have).Error; err != nil {
		return 0, err
	}
	exists := map[int]bool{}
	for _, n := range have {
		exists[n] = true
	}
	type due struct {
		seq        int
		start, end time.Time
	}
	var todo []due
	limit := now.Add(s.horizon())
	x.rule().Dates(x.from(), func(seq int, day time.Time) bool {
		start, end := x.occurrence(day)
		if !x.within(seq, day) || start.After(limit) {
			return false
		}
		if start.After(now) && !exists[seq] {
			todo = append(todo, due{seq, start, end})
		}
		return true
	})
	done := 0
	for _, d := range todo {
		ok, err := s.createOccurrence(ctx, x, d.seq, d.start, d.end, now)
		if err != nil {
			return done, err
		}
		if ok {
			done++
		}
	}
	return done, nil
}

// createOccurrence creates occurrence seq of x with its invitees and notice, unless the series
// was stopped meanwhile or another instance created it first.
func (s *Service) createOccurrence(ctx context.Context, x Series, seq int, start, end, now time.Time) (bool, error) {
	created := false
	err := s.transact(ctx, func(tx *gorm.DB) error {
		created = false
		var cur Series
		if err := tx.Where("id = ?", x.ID).Take(&cur).Error; err != nil {
			return err
		}
		if cur.Status != SeriesActive {
			return nil
		}
		// The organizer's scope: the county of the series.
		org := &access.Principal{AccountID: cur.CreatedBy, Role: access.RoleCountyStaff, RegionCode: cur.RegionCode}
		var invitees []Invitee
		var err error
		if cur.Audience == AudienceCounty {
			invitees, err = s.countyInstructors(tx, org)
			var ae *apperr.Error
			if errors.As(err, &ae) {
				invitees, err = nil, nil // nobody in office now: the meeting stands, with no one invited
			}
		} else {
			invitees, err = s.activeListed(tx, org, cur.instructorIDs())
		}
		if err != nil {
			return err
		}
		id, n := cur.ID, seq
		m := Meeting{
			RegionCode: cur.RegionCode, Title: cur.Title, Agenda: cur.Agenda, Place: cur.Place,
			Latitude: cur.Latitude, Longitude: cur.Longitude, StartsAt: start, EndsAt: end, Audience: cur.Audience,
			Status: StatusScheduled, AnnouncedAt: now, InviteeCount: len(invitees), SeriesID: &id, SeriesSeq: &n,
			Version: 1, CreatedBy: cur.CreatedBy, CreatedAt: now, UpdatedAt: now,
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&m)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		for i := range invitees {
			invitees[i].MeetingID, invitees[i].CreatedAt = m.ID, now
		}
		if len(invitees) > 0 {
			if err := tx.CreateInBatches(invitees, 500).Error; err != nil {
				return err
			}
		}
		created = true
		return emit(tx, m, now, outbox.MeetingScheduled{Meeting: notice(m, instructorIDs(invitees))})
	})
	return created, err
}

// activeListed are those of the chosen instructors still active in the county: who left since
// the series was scheduled is not invited any more.
func (s *Service) activeListed(tx *gorm.DB, p *access.Principal, ids []int64) ([]Invitee, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []instructorRow
	if err := tx.Model(&roster.Instructor{}).Select("id", "unit_id", "status").Scopes(access.InRegion(p, "region_code")).
		Where("id IN ? AND status = ?", ids, roster.StatusActive).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Invitee, len(rows))
	for i, r := range rows {
		out[i] = Invitee{InstructorID: r.ID, UnitID: r.UnitID, RSVP: RSVPNone}
	}
	return out, nil
}
