package meeting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Options configure the service.
type Options struct {
	// CheckinKey signs check-in tokens (see CheckinKey).
	CheckinKey []byte
	// Reminders are how long before the start invitees are reminded.
	Reminders []time.Duration
	// CheckinRadius is how far from the place a location check-in may be, in meters.
	CheckinRadius float64
	// CheckinOpensBefore is how long before the start check-in opens.
	CheckinOpensBefore time.Duration
	// SeriesHorizon is how far ahead the occurrences of a series are created; 0 means 35 days.
	SeriesHorizon time.Duration
	// Files keeps the attachments of minutes; nil means minutes take none.
	Files Files
}

// Service keeps meetings. Every method takes the caller explicitly: staff see the meetings of
// their subtree, county staff of the county manage them, instructors see the meetings they are
// invited to.
type Service struct {
	db      *gorm.DB
	regions *region.Store
	clock   clock.Clock
	log     *slog.Logger
	opt     Options
}

// NewService wires meetings.
func NewService(db *gorm.DB, regions *region.Store, clk clock.Clock, log *slog.Logger, opt Options) *Service {
	return &Service{db: db, regions: regions, clock: clk, log: log, opt: opt}
}

const (
	maxInvitees   = 2000
	maxDuration   = 24 * time.Hour
	maxAhead      = 366 * 24 * time.Hour
	subjectType   = "meeting"
	maxTitle      = 60
	maxPlace      = 100
	maxAgenda     = 2000
	maxReasonNote = 200
)

var (
	errNotFound      = apperr.New(http.StatusNotFound, "meeting_not_found", "例会不存在或不在您的管辖范围内")
	errOrganizerOnly = apperr.Forbidden("只有县级民族工作部门可以召开和管理例会")
	errStaffOnly     = apperr.Forbidden("只有民族工作部门工作人员可以查看签到情况")
	errInviteeOnly   = apperr.Forbidden("只有受邀参会的指导员可以回复和签到")
	errCancelled     = apperr.New(http.StatusConflict, "meeting_cancelled", "例会已取消")
	errEnded         = apperr.New(http.StatusConflict, "meeting_ended", "例会已结束")
	errChanged       = apperr.New(http.StatusConflict, "meeting_changed", "例会刚刚被他人修改,请刷新后重试")
)

func requireOrganizer(p *access.Principal) error {
	if !p.IsStaff() || p.Role != access.RoleCountyStaff || region.LevelOf(p.RegionCode) != region.LevelCounty {
		return errOrganizerOnly
	}
	return nil
}

// transact runs fn in a transaction, retried when MySQL picks it as a deadlock victim.
func (s *Service) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return database.Transact(ctx, s.db, fn)
}

// ---- scheduling ----

// Input schedules a meeting. Times are RFC 3339 strings, checked here so that every field error
// is reported at once.
type Input struct {
	Title         string
	StartsAt      string
	EndsAt        string
	Place         string
	Latitude      *float64
	Longitude     *float64
	Agenda        string
	Audience      string
	InstructorIDs []int64
}

// Patch changes a meeting; nil fields stay. InstructorIDs replaces the list of a list meeting.
type Patch struct {
	Title         *string
	StartsAt      *string
	EndsAt        *string
	Place         *string
	Latitude      *float64
	Longitude     *float64
	Agenda        *string
	InstructorIDs *[]int64
}

func parseTime(v *validate.Checker, field, label, s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		v.Fail(field, label+"不能为空")
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Fail(field, label+"应为RFC 3339格式的时间,如2024-05-01T09:30:00+08:00")
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Second), true
}

// checkDetails validates the fields every meeting has.
func checkDetails(v *validate.Checker, m *Meeting) {
	m.Title, m.Place, m.Agenda = strings.TrimSpace(m.Title), strings.TrimSpace(m.Place), strings.TrimSpace(m.Agenda)
	v.Required("title", "例会名称", m.Title, maxTitle)
	v.Required("place", "例会地点", m.Place, maxPlace)
	v.MaxLen("agenda", "会议议程", m.Agenda, maxAgenda)
	switch {
	case (m.Latitude == nil) != (m.Longitude == nil):
		field := "latitude"
		if m.Longitude == nil {
			field = "longitude"
		}
		v.Fail(field, "经度和纬度应同时提供")
	case m.Latitude != nil:
		v.Check(*m.Latitude >= -90 && *m.Latitude <= 90, "latitude", "纬度应在-90到90之间")
		v.Check(*m.Longitude >= -180 && *m.Longitude <= 180, "longitude", "经度应在-180到180之间")
	}
}

// checkTimes validates start and end; a start that is being set must lie ahead.
func checkTimes(v *validate.Checker, m *Meeting, startSet bool, now time.Time) {
	if m.StartsAt.IsZero() || m.EndsAt.IsZero() {
		return
	}
	if startSet {
		v.Check(m.StartsAt.After(now), "starts_at", "开始时间应晚于当前时间")
		v.Check(m.StartsAt.Before(now.Add(maxAhead)), "starts_at", "开始时间不能超过一年以后")
	}
	switch {
	case !m.EndsAt.After(m.StartsAt):
		v.Fail("ends_at", "结束时间应晚于开始时间")
	case m.EndsAt.Sub(m.StartsAt) > maxDuration:
		v.Fail("ends_at", "例会时长不能超过24小时")
	}
}

func dedupe(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// Create schedules a meeting of the caller's county and writes its notice into the outbox.
func (s *Service) Create(ctx context.Context, p *access.Principal, in Input) (View, error) {
	if err := requireOrganizer(p); err != nil {
		return View{}, err
	}
	now := s.clock.Now()
	m := Meeting{
		RegionCode: p.RegionCode, Title: in.Title, Agenda: in.Agenda, Place: in.Place,
		Latitude: in.Latitude, Longitude: in.Longitude, Audience: in.Audience, Status: StatusScheduled,
		AnnouncedAt: now, Version: 1, CreatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now,
	}
	var v validate.Checker
	checkDetails(&v, &m)
	m.StartsAt, _ = parseTime(&v, "starts_at", "开始时间", in.StartsAt)
	m.EndsAt, _ = parseTime(&v, "ends_at", "结束时间", in.EndsAt)
	checkTimes(&v, &m, true, now)
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
		return View{}, err
	}
	var invitees []Invitee
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var err error
		if m.Audience == AudienceCounty {
			invitees, err = s.countyInstructors(tx, p)
		} else {
			invitees, err = s.listedInstructors(tx, p, ids)
		}
		if err != nil {
			return err
		}
		row := m
		row.InviteeCount = len(invitees)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		for i := range invitees {
			invitees[i].MeetingID, invitees[i].CreatedAt = row.ID, now
		}
		if err := tx.CreateInBatches(invitees, 500).Error; err != nil {
			return err
		}
		m = row
		return emit(tx, m, now, outbox.MeetingScheduled{Meeting: notice(m, instructorIDs(invitees))})
	})
	if err != nil {
		return View{}, err
	}
	audit.Subject(ctx, subjectType, m.ID, m.RegionCode)
	return s.view(ctx, p, m, nil, now), nil
}

type instructorRow struct {
	ID     int64
	UnitID int64
	Status string
}

// countyInstructors are the county's active instructors now: the audience of a county meeting.
func (s *Service) countyInstructors(tx *gorm.DB, p *access.Principal) ([]Invitee, error) {
	var rows []instructorRow
	if err := tx.Model(&roster.Instructor{}).Select("id", "unit_id", "status").Scopes(access.InRegion(p, "region_code")).
		Where("status = ?", roster.StatusActive).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, apperr.Field("audience", "本县暂无在任指导员,无法按全县召开例会")
	}
	out := make([]Invitee, len(rows))
	for i, r := range rows {
		out[i] = Invitee{InstructorID: r.ID, UnitID: r.UnitID, RSVP: RSVPNone}
	}
	return out, nil
}

// listedInstructors checks the chosen instructors: each must be active and in the caller's scope.
func (s *Service) listedInstructors(tx *gorm.DB, p *access.Principal, ids []int64) ([]Invitee, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	for _, id := range ids {
		if id <= 0 {
			return nil, apperr.Field("instructor_ids", "指导员编号应为正整数")
		}
	}
	var rows []instructorRow
	if err := tx.Model(&roster.Instructor{}).Select("id", "unit_id", "status").Scopes(access.InRegion(p, "region_code")).
		Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	byID := make(map[int64]instructorRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	out := make([]Invitee, 0, len(ids))
	for _, id := range ids {
		r, ok := byID[id]
		switch {
		case !ok:
			return nil, apperr.Field("instructor_ids", fmt.Sprintf("指导员%d不存在或不在您的管辖范围内", id))
		case r.Status != roster.StatusActive:
			return nil, apperr.Field("instructor_ids", fmt.Sprintf("指导员%d不在任,不能邀请参会", id))
		}
		out = append(out, Invitee{InstructorID: r.ID, UnitID: r.UnitID, RSVP: RSVPNone})
	}
	return out, nil
}

func instructorIDs(invitees []Invitee) []int64 {
	out := make([]int64, len(invitees))
	for i, inv := range invitees {
		out[i] = inv.InstructorID
	}
	return out
}

// notice is what every outbox event about m carries: what a notice says and who it goes to
// (ids, the invitees' instructor ids), so the dispatcher needs no meeting tables.
func notice(m Meeting, ids []int64) outbox.Meeting {
	return outbox.Meeting{
		MeetingID: m.ID, Title: m.Title, StartsAt: clock.Local(m.StartsAt), EndsAt: clock.Local(m.EndsAt),
		Place: m.Place, Agenda: m.Agenda, Audience: m.Audience, RegionCode: m.RegionCode, InstructorIDs: nonNil(ids),
	}
}

// emit writes an outbox event about m in tx.
func emit(tx *gorm.DB, m Meeting, now time.Time, p outbox.Payload) error {
	return outbox.Write(tx, outbox.Entry{SubjectType: subjectType, SubjectID: m.ID, RegionCode: m.RegionCode, At: now, Payload: p})
}

// ---- reading ----

// load finds a meeting the caller may see: staff in their subtree, an instructor when invited
// (with the invitation).
func (s *Service) load(db *gorm.DB, p *access.Principal, id int64) (Meeting, *Invitee, error) {
	var m Meeting
	if p.IsInstructor() {
		var inv Invitee
		err := db.Where("meeting_id = ? AND instructor_id = ?", id, p.InstructorID).Take(&inv).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return m, nil, errNotFound
		}
		if err != nil {
			return m, nil, err
		}
		if err := db.Where("id = ?", id).Take(&m).Error; err != nil {
			return m, nil, err
		}
		return m, &inv, nil
	}
	err := db.Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return m, nil, errNotFound
	}
	return m, nil, err
}

// Get returns one meeting.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (View, error) {
	m, inv, err := s.load(s.db.WithContext(ctx), p, id)
	if err != nil {
		return View{}, err
	}
	return s.detail(ctx, p, m, inv, s.clock.Now())
}

// Filter narrows a meeting list.
type Filter struct {
	Status     string
	RegionCode string
	// SeriesID narrows to the occurrences of one series.
	SeriesID int64
	Page     paging.Page
}

// List lists meetings newest first: staff those of their subtree, instructors those they are
// invited to.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]View, string, error) {
	if !p.IsStaff() && !p.IsInstructor() {
		return nil, "", apperr.Forbidden("无权查看例会")
	}
	var v validate.Checker
	v.OneOf("status", "状态", f.Status, false, roster.OneOf(ViewStatuses))
	v.RegionCode("region_code", f.RegionCode)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	now := s.clock.Now()
	q := s.db.WithContext(ctx).Model(&Meeting{}).Scopes(f.Page.Apply("id"))
	if p.IsInstructor() {
		q = q.Where("id IN (?)", s.db.Model(&Invitee{}).Select("meeting_id").Where("instructor_id = ?", p.InstructorID))
	} else {
		q = q.Scopes(access.InRegion(p, "region_code"))
		q = q.Scopes(access.UnderRegion("region_code", f.RegionCode))
	}
	if f.SeriesID > 0 {
		q = q.Where("series_id = ?", f.SeriesID)
	}
	switch f.Status {
	case "upcoming":
		q = q.Where("status = ? AND starts_at > ?", StatusScheduled, now)
	case "ongoing":
		q = q.Where("status = ? AND starts_at <= ? AND ends_at > ?", StatusScheduled, now, now)
	case "ended":
		q = q.Where("status = ? AND ends_at <= ?", StatusScheduled, now)
	case StatusCancelled:
		q = q.Where("status = ?", StatusCancelled)
	}
	var rows []Meeting
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(m Meeting) int64 { return m.ID })
	mine := map[int64]*Invitee{}
	if p.IsInstructor() && len(rows) > 0 {
		ids := make([]int64, len(rows))
		for i, m := range rows {
			ids[i] = m.ID
		}
		var invs []Invitee
		if err := s.db.WithContext(ctx).Where("instructor_id = ? AND meeting_id IN ?", p.InstructorID, ids).Find(&invs).Error; err != nil {
			return nil, "", err
		}
		for i := range invs {
			mine[invs[i].MeetingID] = &invs[i]
		}
	}
	out := make([]View, len(rows))
	for i, m := range rows {
		out[i] = s.view(ctx, p, m, mine[m.ID], now)
	}
	return out, next, nil
}

func (s *Service) checkinOpen(m Meeting, now time.Time) bool {
	return m.Status == StatusScheduled && !now.Before(m.StartsAt.Add(-s.opt.CheckinOpensBefore)) && now.Before(m.EndsAt)
}

// view is m as p sees it. Invitees get the place's name and whether they may check in by
// location, not its coordinates: with them, a phone anywhere could report the venue's exact
// position and check in (the check-in would still stand out to staff, see AttendeeView).
func (s *Service) view(ctx context.Context, p *access.Principal, m Meeting, inv *Invitee, now time.Time) View {
	status := m.viewStatus(now)
	v := View{
		ID: m.ID, Title: m.Title, StartsAt: clock.Local(m.StartsAt), EndsAt: clock.Local(m.EndsAt), Place: m.Place,
		LocationCheckin: m.Latitude != nil && m.Longitude != nil, Agenda: m.Agenda,
		Audience: m.Audience, AudienceName: roster.Label(Audiences, m.Audience),
		RegionCode: m.RegionCode, Status: status, StatusName: roster.Label(ViewStatuses, status),
		CancelReason: m.CancelReason, CancelledAt: clock.LocalPtr(m.CancelledAt), InviteeCount: m.InviteeCount,
		CheckinOpen: s.checkinOpen(m, now), SeriesID: m.SeriesID, CreatedAt: clock.Local(m.CreatedAt), UpdatedAt: clock.Local(m.UpdatedAt),
	}
	if !p.IsInstructor() {
		v.Latitude, v.Longitude = m.Latitude, m.Longitude
	}
	if r, err := s.regions.Get(ctx, m.RegionCode); err == nil {
		v.RegionName = r.Name
	}
	if inv != nil {
		v.Mine = inv.invitation()
	}
	return v
}

// ---- changes ----

// Update changes a meeting that has not ended and writes a change notice naming what changed.
// A change that changes nothing writes nothing.
func (s *Service) Update(ctx context.Context, p *access.Principal, id int64, in Patch) (View, error) {
	if err := requireOrganizer(p); err != nil {
		return View{}, err
	}
	now := s.clock.Now()
	var out Meeting
	err := s.transact(ctx, func(tx *gorm.DB) error {
		cur, _, err := s.load(tx, p, id)
		if err != nil {
			return err
		}
		if cur.Status == StatusCancelled {
			return errCancelled
		}
		if !now.Before(cur.EndsAt) {
			return errEnded
		}
		next := cur
		var changes []string
		var v validate.Checker
		setStr := func(field string, dst *string, val *string) {
			if val != nil && strings.TrimSpace(*val) != *dst {
				*dst = *val
				changes = append(changes, field)
			}
		}
		setStr("title", &next.Title, in.Title)
		setStr("place", &next.Place, in.Place)
		setStr("agenda", &next.Agenda, in.Agenda)
		if in.Latitude != nil || in.Longitude != nil {
			lat, lng := in.Latitude, in.Longitude
			if lat == nil {
				lat = next.Latitude
			}
			if lng == nil {
				lng = next.Longitude
			}
			if !sameCoord(lat, next.Latitude) || !sameCoord(lng, next.Longitude) {
				changes = append(changes, "location")
			}
			next.Latitude, next.Longitude = lat, lng
		}
		checkDetails(&v, &next)
		startSet := false
		if in.StartsAt != nil {
			if t, ok := parseTime(&v, "starts_at", "开始时间", *in.StartsAt); ok && !t.Equal(next.StartsAt) {
				next.StartsAt, startSet = t, true
				changes = append(changes, "starts_at")
			}
		}
		if in.EndsAt != nil {
			if t, ok := parseTime(&v, "ends_at", "结束时间", *in.EndsAt); ok && !t.Equal(next.EndsAt) {
				next.EndsAt = t
				changes = append(changes, "ends_at")
			}
		}
		checkTimes(&v, &next, startSet, now)
		var wanted []int64
		if in.InstructorIDs != nil {
			wanted = dedupe(*in.InstructorIDs)
			switch {
			case cur.Audience != AudienceList:
				v.Fail("instructor_ids", "全县指导员参会的例会不能指定参会指导员")
			case len(wanted) == 0:
				v.Fail("instructor_ids", "请选择参会的指导员")
			case len(wanted) > maxInvitees:
				v.Fail("instructor_ids", fmt.Sprintf("参会指导员不能超过%d名", maxInvitees))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		var added, removed []int64
		if in.InstructorIDs != nil {
			var err error
			if added, removed, err = s.replaceInvitees(tx, p, cur.ID, wanted, now); err != nil {
				return err
			}
			if len(added) > 0 || len(removed) > 0 {
				changes = append(changes, "instructor_ids")
				next.InviteeCount = len(wanted)
			}
		}
		if len(changes) == 0 {
			out = cur
			return nil
		}
		if startSet {
			next.AnnouncedAt = now
		}
		next.Version, next.UpdatedAt = cur.Version+1, now
		res := tx.Model(&Meeting{}).Where("id = ? AND version = ?", cur.ID, cur.Version).Updates(map[string]any{
			"title": next.Title, "place": next.Place, "agenda": next.Agenda, "latitude": next.Latitude, "longitude": next.Longitude,
			"starts_at": next.StartsAt, "ends_at": next.EndsAt, "announced_at": next.AnnouncedAt,
			"invitee_count": next.InviteeCount, "version": next.Version, "updated_at": now,
			// An occurrence changed on its own keeps its details when the series changes.
			"detached": cur.Detached || cur.SeriesID != nil,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errChanged
		}
		ids, err := s.inviteeIDs(tx, cur.ID, false)
		if err != nil {
			return err
		}
		out = next
		return emit(tx, next, now, outbox.MeetingChanged{Meeting: notice(next, ids), Changes: changes,
			AddedInstructorIDs: nonNil(added), RemovedInstructorIDs: nonNil(removed)})
	})
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, p, out, nil, now), nil
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

func sameCoord(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// replaceInvitees makes the invitees of a list meeting exactly wanted. Who has checked in stays.
func (s *Service) replaceInvitees(tx *gorm.DB, p *access.Principal, meetingID int64, wanted []int64, now time.Time) (added, removed []int64, err error) {
	var cur []Invitee
	if err := tx.Where("meeting_id = ?", meetingID).Find(&cur).Error; err != nil {
		return nil, nil, err
	}
	have := map[int64]Invitee{}
	for _, inv := range cur {
		have[inv.InstructorID] = inv
	}
	want := map[int64]bool{}
	for _, id := range wanted {
		want[id] = true
		if _, ok := have[id]; !ok {
			added = append(added, id)
		}
	}
	for _, inv := range cur {
		if want[inv.InstructorID] {
			continue
		}
		if inv.CheckedInAt != nil {
			return nil, nil, apperr.Field("instructor_ids", fmt.Sprintf("指导员%d已签到,不能移出参会名单", inv.InstructorID))
		}
		removed = append(removed, inv.InstructorID)
	}
	rows, err := s.listedInstructors(tx, p, added)
	if err != nil {
		return nil, nil, err
	}
	if len(removed) > 0 {
		if err := tx.Where("meeting_id = ? AND instructor_id IN ?", meetingID, removed).Delete(&Invitee{}).Error; err != nil {
			return nil, nil, err
		}
	}
	for i := range rows {
		rows[i].MeetingID, rows[i].CreatedAt = meetingID, now
	}
	if len(rows) > 0 {
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return nil, nil, err
		}
	}
	return added, removed, nil
}

// inviteeIDs lists the invitees of a meeting; withoutDeclined leaves out those who said no.
func (s *Service) inviteeIDs(tx *gorm.DB, meetingID int64, withoutDeclined bool) ([]int64, error) {
	q := tx.Model(&Invitee{}).Where("meeting_id = ?", meetingID)
	if withoutDeclined {
		q = q.Where("rsvp <> ?", RSVPNo)
	}
	var ids []int64
	err := q.Order("instructor_id").Pluck("instructor_id", &ids).Error
	return ids, err
}

// Cancel calls a meeting off with a reason and writes the cancellation notice.
func (s *Service) Cancel(ctx context.Context, p *access.Principal, id int64, reason string) (View, error) {
	if err := requireOrganizer(p); err != nil {
		return View{}, err
	}
	reason = strings.TrimSpace(reason)
	var v validate.Checker
	v.Required("reason", "取消原因", reason, maxReasonNote)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	now := s.clock.Now()
	var out Meeting
	err := s.transact(ctx, func(tx *gorm.DB) error {
		m, _, err := s.load(tx, p, id)
		if err != nil {
			return err
		}
		if m.Status == StatusCancelled {
			return errCancelled
		}
		if !now.Before(m.EndsAt) {
			return errEnded
		}
		if err := s.cancelIn(tx, m, reason, now); err != nil {
			return err
		}
		m.Status, m.CancelReason, m.CancelledAt, m.Version, m.UpdatedAt = StatusCancelled, reason, &now, m.Version+1, now
		out = m
		return nil
	})
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, p, out, nil, now), nil
}

// cancelIn cancels scheduled meeting m in tx and writes its cancellation notice.
func (s *Service) cancelIn(tx *gorm.DB, m Meeting, reason string, now time.Time) error {
	res := tx.Model(&Meeting{}).Where("id = ? AND status = ?", m.ID, StatusScheduled).Updates(map[string]any{
		"status": StatusCancelled, "cancel_reason": reason, "cancelled_at": now, "version": m.Version + 1, "updated_at": now,
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errCancelled
	}
	m.Status, m.CancelReason, m.CancelledAt, m.Version, m.UpdatedAt = StatusCancelled, reason, &now, m.Version+1, now
	ids, err := s.inviteeIDs(tx, m.ID, false)
	if err != nil {
		return err
	}
	return emit(tx, m, now, outbox.MeetingCancelled{Meeting: notice(m, ids), Reason: reason})
}

// ---- invitees ----

// RSVP records an invitee's answer; answering again replaces it.
func (s *Service) RSVP(ctx context.Context, p *access.Principal, id int64, answer, note string) (View, error) {
	if !p.IsInstructor() {
		return View{}, errInviteeOnly
	}
	note = strings.TrimSpace(note)
	var v validate.Checker
	v.OneOf("answer", "是否参加", answer, true, roster.OneOf(Answers))
	v.MaxLen("note", "备注", note, maxReasonNote)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	now := s.clock.Now()
	db := s.db.WithContext(ctx)
	m, inv, err := s.load(db, p, id)
	if err != nil {
		return View{}, err
	}
	if m.Status == StatusCancelled {
		return View{}, errCancelled
	}
	if !now.Before(m.EndsAt) {
		return View{}, errEnded
	}
	if err := db.Model(&Invitee{}).Where("id = ?", inv.ID).
		Updates(map[string]any{"rsvp": answer, "rsvp_note": note, "rsvp_at": now}).Error; err != nil {
		return View{}, err
	}
	inv.RSVP, inv.RSVPNote, inv.RSVPAt = answer, note, &now
	return s.view(ctx, p, m, inv, now), nil
}

// Attendance lists the invitees with their answers and check-ins, and the totals.
func (s *Service) Attendance(ctx context.Context, p *access.Principal, id int64) (AttendanceView, error) {
	if !p.IsStaff() {
		return AttendanceView{}, errStaffOnly
	}
	db := s.db.WithContext(ctx)
	m, _, err := s.load(db, p, id)
	if err != nil {
		return AttendanceView{}, err
	}
	var invs []Invitee
	if err := db.Where("meeting_id = ?", m.ID).Order("id").Find(&invs).Error; err != nil {
		return AttendanceView{}, err
	}
	insIDs := make([]int64, 0, len(invs))
	unitIDs := make([]int64, 0, len(invs))
	for _, inv := range invs {
		insIDs, unitIDs = append(insIDs, inv.InstructorID), append(unitIDs, inv.UnitID)
	}
	insNames, err := names(db, &roster.Instructor{}, insIDs)
	if err != nil {
		return AttendanceView{}, err
	}
	unitNames, err := names(db, &roster.Unit{}, unitIDs)
	if err != nil {
		return AttendanceView{}, err
	}
	out := AttendanceView{MeetingID: m.ID, Status: m.viewStatus(s.clock.Now()), Invited: len(invs), Items: make([]AttendeeView, 0, len(invs))}
	for _, inv := range invs {
		switch inv.RSVP {
		case RSVPYes:
			out.RSVP.Yes++
		case RSVPNo:
			out.RSVP.No++
		case RSVPMaybe:
			out.RSVP.Maybe++
		default:
			out.RSVP.None++
		}
		if inv.CheckedInAt != nil {
			out.CheckedIn++
		}
		out.Items = append(out.Items, AttendeeView{
			InstructorID: inv.InstructorID, Name: insNames[inv.InstructorID], UnitID: inv.UnitID, UnitName: unitNames[inv.UnitID],
			InvitationView: *inv.invitation(), CheckinDistance: inv.CheckinDistance,
			CheckinLatitude: inv.CheckinLatitude, CheckinLongitude: inv.CheckinLongitude, CheckinAccuracy: inv.CheckinAccuracy,
			CheckinDoubt: inv.checkinDoubt(),
		})
	}
	if out.Invited > 0 {
		out.AttendanceRate = float64(out.CheckedIn) / float64(out.Invited)
	}
	return out, nil
}

func names(db *gorm.DB, model any, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	ids = dedupe(ids)
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var rows []struct {
			ID   int64
			Name string
		}
		if err := db.Model(model).Select("id", "name").Where("id IN ?", ids[:n]).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.ID] = r.Name
		}
		ids = ids[n:]
	}
	return out, nil
}
