package stats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/meeting"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/task"
	"github.com/shiliu/shiliu/server/training"
	"gorm.io/gorm"
)

// Card is the performance card of one instructor (GET /api/v1/instructors/{id}/performance-card):
// what they did in each year of their current term, or in one calendar year, as the central
// adjustment at the end of each 3-year term weighs it.
type Card struct {
	Instructor CardInstructor `json:"instructor"`
	// Year is the calendar year asked for; nil when the periods are the years of the term.
	Year             *int         `json:"year"`
	Periods          []CardPeriod `json:"periods"`
	Total            CardPeriod   `json:"total"`
	LastRecordAt     *time.Time   `json:"last_record_at"`
	LastCheckinAt    *time.Time   `json:"last_checkin_at"`
	LastTaskReportAt *time.Time   `json:"last_task_report_at"`
	LastActivityAt   *time.Time   `json:"last_activity_at"`
}

// CardInstructor is who the card is about.
type CardInstructor struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	StatusName   string `json:"status_name"`
	UnitID       int64  `json:"unit_id"`
	UnitName     string `json:"unit_name"`
	UnitKind     string `json:"unit_kind"`
	UnitKindName string `json:"unit_kind_name"`
	RegionCode   string `json:"region_code"`
	RegionName   string `json:"region_name"`
	TermStart    string `json:"term_start,omitempty"`
	TermEnd      string `json:"term_end,omitempty"`
}

// CardPeriod is what the instructor did in one period, both dates included (Beijing time).
type CardPeriod struct {
	Label      string         `json:"label"`
	From       string         `json:"from"`
	To         string         `json:"to"`
	Records    CardRecords    `json:"records"`
	Tips       CardTips       `json:"tips"`
	Mediations CardMediations `json:"mediations"`
	Meetings   CardMeetings   `json:"meetings"`
	Training   CardTraining   `json:"training"`
	Tasks      CardTasks      `json:"tasks"`

	start, end time.Time
	kinds      map[string]int64
	roles      map[string]int64
	tags       map[string]int64
	states     map[string]int64
	outcomes   map[string]int64
}

// CardRecords counts the records that happened in the period (withdrawn ones do not count).
type CardRecords struct {
	Total  int64  `json:"total"`
	ByKind []Item `json:"by_kind"`
	// ByRole is the records by the role of the five (§三) they served, every role present;
	// ByTag by brand and duty tag, every tag present (a record counts under each of its tags).
	ByRole []Item `json:"by_role"`
	ByTag  []Item `json:"by_tag"`
}

// CardTips is the tips the instructor reported in the period, by their state now.
type CardTips struct {
	Reported int64  `json:"reported"`
	Resolved int64  `json:"resolved"`
	ByState  []Item `json:"by_state"`
}

// CardMediations is the disputes they mediated, by outcome now.
type CardMediations struct {
	Total          int64    `json:"total"`
	Settled        int64    `json:"settled"`
	PartlySettled  int64    `json:"partly_settled"`
	SettlementRate *float64 `json:"settlement_rate"`
	ByOutcome      []Item   `json:"by_outcome"`
}

// CardMeetings is the meetings they were invited to that began in the period (not cancelled).
type CardMeetings struct {
	Invited        int64    `json:"invited"`
	Attended       int64    `json:"attended"`
	AttendanceRate *float64 `json:"attendance_rate"`
}

// CardTraining is the sessions they attended that began in the period and the hours credited.
type CardTraining struct {
	Sessions int64   `json:"sessions"`
	Hours    float64 `json:"hours"`
}

// CardTasks is the tasks assigned to them that were due in the period: done (DoneLate of them
// after the due time) and overdue (not done and past due).
type CardTasks struct {
	Assigned int64 `json:"assigned"`
	Done     int64 `json:"done"`
	DoneLate int64 `json:"done_late"`
	Overdue  int64 `json:"overdue"`
}

const dateLayout = "2006-01-02"

// ParseYear reads the optional year of a card.
func ParseYear(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	y, err := strconv.Atoi(s)
	if err != nil || y < 2000 || y > 2100 {
		return 0, apperr.Field("year", "年份应为2000到2100之间的整数")
	}
	return y, nil
}

// Card builds the performance card of an instructor: staff whose subtree holds the instructor and
// the instructor themself may read it. year 0 means the years of the current term.
func (s *Service) Card(ctx context.Context, p *access.Principal, id int64, year int) (Card, error) {
	if !p.IsStaff() && !p.IsInstructor() {
		return Card{}, errNotFound
	}
	db := s.db.WithContext(ctx)
	var ins roster.Instructor
	err := db.Scopes(access.InRegionOrOwn(p, "region_code", "id")).Where("id = ?", id).Take(&ins).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Card{}, errNotFound
	}
	if err != nil {
		return Card{}, err
	}
	now := s.clock.Now()
	card := Card{Instructor: CardInstructor{ID: ins.ID, Name: ins.Name, Status: ins.Status,
		StatusName: roster.Label(roster.InstructorStatuses, ins.Status), UnitID: ins.UnitID, RegionCode: ins.RegionCode,
		RegionName: s.regionName(ctx, ins.RegionCode), TermStart: roster.FormatDate(ins.TermStart), TermEnd: roster.FormatDate(ins.TermEnd)}}
	var units []roster.Unit
	if err := db.Select("id", "name", "kind").Where("id = ?", ins.UnitID).Limit(1).Find(&units).Error; err != nil {
		return Card{}, err
	}
	if len(units) == 1 {
		u := units[0]
		card.Instructor.UnitName, card.Instructor.UnitKind = u.Name, u.Kind
		card.Instructor.UnitKindName = roster.Label(roster.UnitKinds, u.Kind)
	}
	if year > 0 {
		card.Year = &year
	}
	periods := cardPeriods(ins.TermStart, year, now)
	span := &card.Total
	*span = newPeriod("合计", periods[0].start, periods[len(periods)-1].end)
	at := func(t time.Time) []*CardPeriod {
		for i := range periods {
			if !t.Before(periods[i].start) && t.Before(periods[i].end) {
				return []*CardPeriod{&periods[i], span}
			}
		}
		return nil
	}
	steps := []func(*gorm.DB, int64, time.Time, time.Time, func(time.Time) []*CardPeriod) error{
		cardRecords, cardMeetings(now), cardTraining, cardTasks(now)}
	for _, step := range steps {
		if err := step(db, ins.ID, span.start, span.end, at); err != nil {
			return Card{}, err
		}
	}
	for i := range periods {
		periods[i].finish()
	}
	span.finish()
	card.Periods = periods
	if err := s.lastActivity(db, ins.ID, &card); err != nil {
		return Card{}, err
	}
	return card, nil
}

func newPeriod(label string, start, end time.Time) CardPeriod {
	return CardPeriod{Label: label, From: start.In(clock.Shanghai).Format(dateLayout),
		To: end.Add(-time.Nanosecond).In(clock.Shanghai).Format(dateLayout), start: start, end: end,
		kinds: map[string]int64{}, roles: map[string]int64{}, tags: map[string]int64{}, states: map[string]int64{}, outcomes: map[string]int64{}}
}

// cardPeriods are the calendar year asked for, or the years of the term begun so far, or (with no
// term begun) this calendar year.
func cardPeriods(termStart *time.Time, year int, now time.Time) []CardPeriod {
	calendar := func(y int) []CardPeriod {
		start := time.Date(y, 1, 1, 0, 0, 0, 0, clock.Shanghai)
		return []CardPeriod{newPeriod(strconv.Itoa(y)+"年", start.UTC(), start.AddDate(1, 0, 0).UTC())}
	}
	if year > 0 {
		return calendar(year)
	}
	var out []CardPeriod
	if termStart != nil {
		y, m, d := termStart.UTC().Date()
		first := time.Date(y, m, d, 0, 0, 0, 0, clock.Shanghai)
		for k := 0; k < 3; k++ {
			start := first.AddDate(k, 0, 0)
			if start.After(now) {
				break
			}
			out = append(out, newPeriod(fmt.Sprintf("任期第%d年", k+1), start.UTC(), first.AddDate(k+1, 0, 0).UTC()))
		}
	}
	if len(out) == 0 {
		return calendar(now.In(clock.Shanghai).Year())
	}
	return out
}

func (c *CardPeriod) finish() {
	c.Records.ByKind = items(kindCodes(), c.kinds, true)
	c.Records.ByRole = items(record.Roles, c.roles, true)
	c.Records.ByTag = items(record.Tags, c.tags, true)
	c.Tips.ByState = items(tipStates(), c.states, false)
	c.Tips.Resolved = c.states["resolved"]
	c.Mediations.ByOutcome = items(record.Outcomes, c.outcomes, true)
	c.Mediations.Settled, c.Mediations.PartlySettled = c.outcomes[record.OutcomeSettled], c.outcomes["partly_settled"]
	c.Mediations.SettlementRate = rate(c.Mediations.Settled, c.Mediations.Total)
	c.Meetings.AttendanceRate = rate(c.Meetings.Attended, c.Meetings.Invited)
}

func cardRecords(db *gorm.DB, id int64, from, to time.Time, at func(time.Time) []*CardPeriod) error {
	var rows []struct {
		Kind       string
		Status     string
		Role       string
		Tags       string
		OccurredAt time.Time
		Outcome    *string
	}
	if err := db.Table("records AS r").Select("r.kind, r.status, r.role, r.tags, r.occurred_at, m.outcome").
		Joins("LEFT JOIN record_mediations AS m ON m.record_id = r.id").
		Where("r.author_id = ? AND r.status <> ? AND r.occurred_at >= ? AND r.occurred_at < ?", id, record.StatusWithdrawn, from, to).
		Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		for _, c := range at(r.OccurredAt) {
			c.Records.Total++
			c.kinds[r.Kind]++
			if r.Role != "" {
				c.roles[r.Role]++
			}
			for _, t := range record.SplitTags(r.Tags) {
				c.tags[t]++
			}
			switch {
			case r.Kind == "tip":
				c.Tips.Reported++
				c.states[r.Status]++
			case r.Kind == "mediation" && r.Outcome != nil:
				c.Mediations.Total++
				c.outcomes[*r.Outcome]++
			}
		}
	}
	return nil
}

func cardMeetings(now time.Time) func(*gorm.DB, int64, time.Time, time.Time, func(time.Time) []*CardPeriod) error {
	return func(db *gorm.DB, id int64, from, to time.Time, at func(time.Time) []*CardPeriod) error {
		if now.Before(to) {
			to = now
		}
		var rows []struct {
			StartsAt    time.Time
			CheckedInAt dbTime
		}
		if err := db.Table("meeting_invitees AS mi").Select("m.starts_at, mi.checked_in_at").
			Joins("JOIN meetings AS m ON m.id = mi.meeting_id").
			Where("mi.instructor_id = ? AND m.status = ? AND m.starts_at >= ? AND m.starts_at < ?", id, meeting.StatusScheduled, from, to).
			Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			for _, c := range at(r.StartsAt) {
				c.Meetings.Invited++
				if r.CheckedInAt.Valid {
					c.Meetings.Attended++
				}
			}
		}
		return nil
	}
}

func cardTraining(db *gorm.DB, id int64, from, to time.Time, at func(time.Time) []*CardPeriod) error {
	var rows []struct {
		StartsAt time.Time
		Tenths   int64
	}
	if err := db.Table("training_enrolments AS e").Select("s.starts_at, COALESCE(e.hours_tenths, s.hours_tenths) AS tenths").
		Joins("JOIN training_sessions AS s ON s.id = e.session_id").
		Where("e.instructor_id = ? AND e.status = ? AND s.starts_at >= ? AND s.starts_at < ?", id, training.StatusAttended, from, to).
		Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		for _, c := range at(r.StartsAt) {
			c.Training.Sessions++
			c.Training.Hours = float64(int64(c.Training.Hours*10)+r.Tenths) / 10
		}
	}
	return nil
}

func cardTasks(now time.Time) func(*gorm.DB, int64, time.Time, time.Time, func(time.Time) []*CardPeriod) error {
	return func(db *gorm.DB, id int64, from, to time.Time, at func(time.Time) []*CardPeriod) error {
		var rows []struct {
			DueAt  time.Time
			State  string
			DoneAt dbTime
		}
		if err := db.Table("task_assignees AS a").Select("t.due_at, a.state, a.done_at").
			Joins("JOIN tasks AS t ON t.id = a.task_id").
			Where("a.instructor_id = ? AND t.due_at >= ? AND t.due_at < ?", id, from, to).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			for _, c := range at(r.DueAt) {
				c.Tasks.Assigned++
				switch {
				case r.State == task.StateDone:
					c.Tasks.Done++
					if r.DoneAt.Valid && r.DoneAt.Time.After(r.DueAt) {
						c.Tasks.DoneLate++
					}
				case now.After(r.DueAt):
					c.Tasks.Overdue++
				}
			}
		}
		return nil
	}
}

// lastActivity is the instructor's latest record, meeting check-in and task report, and the
// latest of the three.
func (s *Service) lastActivity(db *gorm.DB, id int64, card *Card) error {
	var last []struct{ At dbTime }
	queries := []struct {
		dst *(*time.Time)
		q   *gorm.DB
	}{
		{&card.LastRecordAt, db.Table("instructors").Select("last_record_at AS at").Where("id = ?", id)},
		{&card.LastCheckinAt, db.Table("meeting_invitees").Select("MAX(checked_in_at) AS at").Where("instructor_id = ?", id)},
		{&card.LastTaskReportAt, db.Table("task_assignees").Select("MAX(last_report_at) AS at").Where("instructor_id = ?", id)},
	}
	for _, q := range queries {
		last = last[:0]
		if err := q.q.Scan(&last).Error; err != nil {
			return err
		}
		if len(last) == 1 && last[0].At.Valid {
			*q.dst = clock.LocalPtr(last[0].At.ptr())
			if card.LastActivityAt == nil || card.LastActivityAt.Before(**q.dst) {
				card.LastActivityAt = *q.dst
			}
		}
	}
	return nil
}
