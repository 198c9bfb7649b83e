package training

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

var (
	errNotStarted         = apperr.New(http.StatusConflict, "training_not_started", "培训尚未开始,不能登记参训情况")
	errAttendedKept       = apperr.New(http.StatusConflict, "training_attended", "该指导员已登记参加培训,不能取消报名")
	errEnrolmentNotFound  = apperr.New(http.StatusNotFound, "enrolment_not_found", "该指导员未报名本次培训,或不在您的管辖范围内")
	errInstructorNotFound = apperr.New(http.StatusNotFound, "instructor_not_found", "指导员不存在或不在您的管辖范围内")
)

type instructorRow struct {
	ID         int64
	UnitID     int64
	RegionCode string
	Status     string
}

// candidates loads the instructors of ids the caller may enrol in ss: in the caller's subtree
// and in the session's, and in office. The first offending id is named in field.
func candidates(tx *gorm.DB, p *access.Principal, ss Session, ids []int64, field string) ([]instructorRow, error) {
	for _, id := range ids {
		if id <= 0 {
			return nil, apperr.Field(field, "指导员编号应为正整数")
		}
	}
	var rows []instructorRow
	for chunk := range slices.Chunk(ids, 500) {
		var part []instructorRow
		if err := tx.Model(&roster.Instructor{}).Select("id", "unit_id", "region_code", "status").
			Scopes(access.InRegion(p, "region_code")).Where("id IN ?", chunk).Find(&part).Error; err != nil {
			return nil, err
		}
		rows = append(rows, part...)
	}
	byID := make(map[int64]instructorRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	out := make([]instructorRow, 0, len(ids))
	for _, id := range ids {
		r, ok := byID[id]
		switch {
		case !ok:
			return nil, apperr.Field(field, fmt.Sprintf("指导员%d不存在或不在您的管辖范围内", id))
		case !region.Contains(ss.RegionCode, r.RegionCode):
			return nil, apperr.Field(field, fmt.Sprintf("指导员%d不在本次培训的范围内", id))
		case r.Status != roster.StatusActive:
			return nil, apperr.Field(field, fmt.Sprintf("指导员%d不在任,不能报名培训", id))
		}
		out = append(out, r)
	}
	return out, nil
}

// Enrol puts instructors on a session's list. Enrolling someone already on it changes nothing,
// so a repeated request is harmless.
func (s *Service) Enrol(ctx context.Context, p *access.Principal, id int64, instructorIDs []int64) (SessionView, error) {
	if !canRecord(p) {
		return SessionView{}, errRecorderOnly
	}
	ids := slices.Compact(slices.Sorted(slices.Values(instructorIDs)))
	var v validate.Checker
	v.Check(len(ids) > 0, "instructor_ids", "请选择报名的指导员")
	v.Check(len(ids) <= maxEnrol, "instructor_ids", fmt.Sprintf("一次最多报名%d名指导员", maxEnrol))
	if err := v.Err(); err != nil {
		return SessionView{}, err
	}
	now := s.clock.Now()
	var ss Session
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var err error
		if ss, _, err = s.loadSession(tx, p, id); err != nil {
			return err
		}
		rows, err := candidates(tx, p, ss, ids, "instructor_ids")
		if err != nil {
			return err
		}
		// Those already on the list are left as they are, and not told again.
		listed := map[int64]bool{}
		for chunk := range slices.Chunk(ids, 500) {
			var have []int64
			if err := tx.Model(&Enrolment{}).Where("session_id = ? AND instructor_id IN ?", ss.ID, chunk).
				Pluck("instructor_id", &have).Error; err != nil {
				return err
			}
			for _, id := range have {
				listed[id] = true
			}
		}
		es := make([]Enrolment, 0, len(rows))
		fresh := make([]int64, 0, len(rows))
		for _, r := range rows {
			if listed[r.ID] {
				continue
			}
			es = append(es, Enrolment{SessionID: ss.ID, InstructorID: r.ID, UnitID: r.UnitID, RegionCode: r.RegionCode,
				Status: StatusEnrolled, EnrolledBy: p.AccountID, CreatedAt: now, UpdatedAt: now})
			fresh = append(fresh, r.ID)
		}
		if len(es) == 0 {
			return nil
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(es, 500).Error; err != nil {
			return err
		}
		// A session that has begun is being filled in afterwards: nobody is told to come.
		if !ss.StartsAt.After(now) {
			return nil
		}
		return emit(tx, ss, now, outbox.TrainingEnrolled{Training: notice(ss, fresh)})
	})
	if err != nil {
		return SessionView{}, err
	}
	return s.sessionView(ctx, ss, nil)
}

// findEnrolment loads the enrolment of an instructor on a session, if the caller may see it.
func findEnrolment(tx *gorm.DB, p *access.Principal, sessionID, instructorID int64) (Enrolment, error) {
	var e Enrolment
	err := tx.Model(&Enrolment{}).Scopes(access.InRegion(p, "region_code")).
		Where("session_id = ? AND instructor_id = ?", sessionID, instructorID).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return e, errEnrolmentNotFound
	}
	return e, err
}

// Unenrol takes an instructor off a session's list, unless they attended it.
func (s *Service) Unenrol(ctx context.Context, p *access.Principal, id, instructorID int64) error {
	if !canRecord(p) {
		return errRecorderOnly
	}
	return s.transact(ctx, func(tx *gorm.DB) error {
		ss, _, err := s.loadSession(tx, p, id)
		if err != nil {
			return err
		}
		e, err := findEnrolment(tx, p, ss.ID, instructorID)
		if err != nil {
			return err
		}
		if e.Status == StatusAttended {
			return errAttendedKept
		}
		return tx.Where("id = ?", e.ID).Delete(&Enrolment{}).Error
	})
}

// AttendanceInput records whether one instructor attended, and for how many hours when not the
// whole session (nil: the session's hours).
type AttendanceInput struct {
	InstructorID int64
	Attended     *bool
	Hours        *float64
}

// RecordAttendance records an instructor's attendance once the session has started. An
// instructor of the caller's subtree who came without being enrolled is enrolled by it.
// Recording again replaces the earlier record.
func (s *Service) RecordAttendance(ctx context.Context, p *access.Principal, id int64, in AttendanceInput) (EnrolmentView, error) {
	if !canRecord(p) {
		return EnrolmentView{}, errRecorderOnly
	}
	var v validate.Checker
	v.Check(in.InstructorID > 0, "instructor_id", "请指定指导员")
	v.Check(in.Attended != nil, "attended", "请填写是否参加")
	if in.Hours != nil && in.Attended != nil && !*in.Attended {
		v.Fail("hours", "未参加培训不计学时")
	}
	if err := v.Err(); err != nil {
		return EnrolmentView{}, err
	}
	now := s.clock.Now()
	var out Enrolment
	var ss Session
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var err error
		if ss, _, err = s.loadSession(tx, p, id); err != nil {
			return err
		}
		if now.Before(ss.StartsAt) {
			return errNotStarted
		}
		var h *int
		if in.Hours != nil {
			t, ok := tenths(*in.Hours, ss.HoursTenths)
			if !ok {
				return apperr.Field("hours", fmt.Sprintf("学时应大于0、不超过本次培训的%.1f学时,最多一位小数", hours(ss.HoursTenths)))
			}
			if t != ss.HoursTenths {
				h = &t
			}
		}
		e, err := findEnrolment(tx, p, ss.ID, in.InstructorID)
		if errors.Is(err, errEnrolmentNotFound) {
			rows, cerr := candidates(tx, p, ss, []int64{in.InstructorID}, "instructor_id")
			if cerr != nil {
				return cerr
			}
			e = Enrolment{SessionID: ss.ID, InstructorID: rows[0].ID, UnitID: rows[0].UnitID, RegionCode: rows[0].RegionCode,
				Status: StatusEnrolled, EnrolledBy: p.AccountID, CreatedAt: now, UpdatedAt: now}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&e).Error; err != nil {
				return err
			}
			e, err = findEnrolment(tx, p, ss.ID, in.InstructorID)
		}
		if err != nil {
			return err
		}
		// Read the enrolment again under its row lock: the tally moves what it counted before.
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", e.ID).Take(&e).Error; err != nil {
			return err
		}
		status := StatusAbsent
		if *in.Attended {
			status = StatusAttended
		}
		if err := tally(tx, e, yearOf(ss.StartsAt), status, h); err != nil {
			return err
		}
		if err := tx.Model(&Enrolment{}).Where("id = ?", e.ID).Updates(map[string]any{
			"status": status, "hours_tenths": h, "recorded_by": p.AccountID, "recorded_at": now, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		e.Status, e.HoursTenths, e.RecordedBy, e.RecordedAt, e.UpdatedAt = status, h, p.AccountID, &now, now
		out = e
		return nil
	})
	if err != nil {
		return EnrolmentView{}, err
	}
	views, err := s.enrolmentViews(ctx, ss, []Enrolment{out})
	if err != nil {
		return EnrolmentView{}, err
	}
	return views[0], nil
}

// EnrolmentFilter narrows a session's list.
type EnrolmentFilter struct {
	Status string
	Page   paging.Page
}

// Enrolments lists a session's enrolments of instructors in the caller's subtree, latest first.
func (s *Service) Enrolments(ctx context.Context, p *access.Principal, id int64, f EnrolmentFilter) (EnrolmentList, error) {
	if !p.IsStaff() {
		return EnrolmentList{}, errStaffOnly
	}
	var v validate.Checker
	v.OneOf("status", "参训状态", f.Status, false, roster.OneOf(Statuses))
	if err := v.Err(); err != nil {
		return EnrolmentList{}, err
	}
	db := s.db.WithContext(ctx)
	ss, _, err := s.loadSession(db, p, id)
	if err != nil {
		return EnrolmentList{}, err
	}
	q := db.Model(&Enrolment{}).Scopes(access.InRegion(p, "region_code"), f.Page.Apply("id")).Where("session_id = ?", ss.ID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var rows []Enrolment
	if err := q.Find(&rows).Error; err != nil {
		return EnrolmentList{}, err
	}
	rows, next := paging.Trim(f.Page, rows, func(e Enrolment) int64 { return e.ID })
	items, err := s.enrolmentViews(ctx, ss, rows)
	return EnrolmentList{SessionID: ss.ID, Items: items, NextCursor: next}, err
}

func (s *Service) enrolmentViews(ctx context.Context, ss Session, rows []Enrolment) ([]EnrolmentView, error) {
	out := make([]EnrolmentView, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	insIDs := make([]int64, len(rows))
	unitIDs := make([]int64, len(rows))
	for i, e := range rows {
		insIDs[i], unitIDs[i] = e.InstructorID, e.UnitID
	}
	names := map[int64]roster.Instructor{}
	for chunk := range slices.Chunk(insIDs, 500) {
		var people []roster.Instructor
		if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", chunk).Find(&people).Error; err != nil {
			return nil, err
		}
		for _, r := range people {
			names[r.ID] = r
		}
	}
	units, err := s.unitNames(ctx, unitIDs)
	if err != nil {
		return nil, err
	}
	for i, e := range rows {
		out[i] = enrolmentView(e, ss, names[e.InstructorID], units[e.UnitID])
	}
	return out, nil
}

// ---- hours ----

// HoursFilter narrows the hours list. Year 0 means this year.
type HoursFilter struct {
	Year         int
	RegionCode   string
	InstructorID int64
	Page         paging.Page
}

// attendedIn is a subquery of the attended enrolments of sessions starting in [from, to), as
// "e" joined to their session "s".
func (s *Service) attendedIn(from, to any) *gorm.DB {
	return s.db.Table("training_enrolments AS e").Joins("JOIN training_sessions AS s ON s.id = e.session_id").
		Where("e.status = ? AND s.starts_at >= ? AND s.starts_at < ?", StatusAttended, from, to)
}

// creditedSQL is an attended enrolment's hours in tenths: its own, or its session's.
const creditedSQL = "COALESCE(e.hours_tenths, s.hours_tenths)"

// Hours lists the instructors of the caller's subtree, newest first, with the sessions they
// attended and the hours they earned in a year: everyone in office, and anyone else who earned
// hours that year.
func (s *Service) Hours(ctx context.Context, p *access.Principal, f HoursFilter) (HoursList, error) {
	if !p.IsStaff() {
		return HoursList{}, errStaffOnly
	}
	var v validate.Checker
	if f.Year == 0 {
		f.Year = yearOf(s.clock.Now())
	}
	s.checkYear(&v, "year", f.Year)
	v.RegionCode("region_code", f.RegionCode)
	if err := v.Err(); err != nil {
		return HoursList{}, err
	}
	from, to := yearRange(f.Year)
	db := s.db.WithContext(ctx)
	scoped := func(q *gorm.DB) *gorm.DB {
		q = q.Scopes(access.InRegion(p, "region_code"))
		q = q.Scopes(access.UnderRegion("region_code", f.RegionCode))
		if f.InstructorID > 0 {
			q = q.Where("id = ?", f.InstructorID)
		}
		return q
	}
	covered := func(q *gorm.DB) *gorm.DB {
		return q.Scopes(scoped).Where("(status = ? OR id IN (?))", roster.StatusActive,
			s.attendedIn(from, to).Select("e.instructor_id"))
	}
	out := HoursList{Year: f.Year, Items: []HoursView{}}
	if err := db.Model(&roster.Instructor{}).Scopes(covered).Count(&out.Instructors).Error; err != nil {
		return out, err
	}
	var total struct {
		Trained int64
		Tenths  int64
	}
	if err := s.attendedIn(from, to).WithContext(ctx).
		Select("COUNT(DISTINCT e.instructor_id) AS trained, COALESCE(SUM("+creditedSQL+"), 0) AS tenths").
		Where("e.instructor_id IN (?)", s.db.Model(&roster.Instructor{}).Select("id").Scopes(scoped)).
		Scan(&total).Error; err != nil {
		return out, err
	}
	out.Trained, out.TotalHours = total.Trained, hours(int(total.Tenths))

	var rows []roster.Instructor
	if err := db.Model(&roster.Instructor{}).Select("id", "name", "unit_id", "region_code", "status").
		Scopes(covered, f.Page.Apply("id")).Find(&rows).Error; err != nil {
		return out, err
	}
	rows, out.NextCursor = paging.Trim(f.Page, rows, func(i roster.Instructor) int64 { return i.ID })
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var sums []struct {
		InstructorID int64
		N            int64
		Tenths       int64
	}
	if err := s.attendedIn(from, to).WithContext(ctx).
		Select("e.instructor_id AS instructor_id, COUNT(*) AS n, COALESCE(SUM("+creditedSQL+"), 0) AS tenths").
		Where("e.instructor_id IN ?", ids).Group("e.instructor_id").Scan(&sums).Error; err != nil {
		return out, err
	}
	byID := map[int64]int{}
	for i, r := range sums {
		byID[r.InstructorID] = i
	}
	unitIDs := make([]int64, len(rows))
	for i, r := range rows {
		unitIDs[i] = r.UnitID
	}
	units, err := s.unitNames(ctx, unitIDs)
	if err != nil {
		return out, err
	}
	for _, r := range rows {
		h := HoursView{InstructorID: r.ID, Name: r.Name, UnitID: r.UnitID, UnitName: units[r.UnitID], RegionCode: r.RegionCode,
			Status: r.Status, Year: f.Year}
		if j, ok := byID[r.ID]; ok {
			h.Sessions, h.Hours = sums[j].N, hours(int(sums[j].Tenths))
		}
		out.Items = append(out.Items, h)
	}
	return out, nil
}

func (s *Service) unitNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for chunk := range slices.Chunk(ids, 500) {
		var rows []roster.Unit
		if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, u := range rows {
			out[u.ID] = u.Name
		}
	}
	return out, nil
}

// Mine is the calling instructor's training in a year (0: this year): the sessions they are
// enrolled in, latest first, with their attendance, and the hours they earned.
func (s *Service) Mine(ctx context.Context, p *access.Principal, year int) (MyTraining, error) {
	if !p.IsInstructor() {
		return MyTraining{}, errInstructorOnly
	}
	if year == 0 {
		year = yearOf(s.clock.Now())
	}
	var v validate.Checker
	s.checkYear(&v, "year", year)
	if err := v.Err(); err != nil {
		return MyTraining{}, err
	}
	from, to := yearRange(year)
	db := s.db.WithContext(ctx)
	var es []Enrolment
	if err := db.Where("instructor_id = ?", p.InstructorID).Find(&es).Error; err != nil {
		return MyTraining{}, err
	}
	mine := map[int64]*Enrolment{}
	ids := make([]int64, 0, len(es))
	for i := range es {
		mine[es[i].SessionID] = &es[i]
		ids = append(ids, es[i].SessionID)
	}
	out := MyTraining{Year: year, Items: []SessionView{}}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Session
	for chunk := range slices.Chunk(ids, 500) {
		var part []Session
		if err := db.Where("id IN ? AND starts_at >= ? AND starts_at < ?", chunk, from, to).Find(&part).Error; err != nil {
			return MyTraining{}, err
		}
		rows = append(rows, part...)
	}
	slices.SortFunc(rows, func(a, b Session) int {
		if c := b.StartsAt.Compare(a.StartsAt); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	tenthsSum := 0
	for _, ss := range rows {
		if e := mine[ss.ID]; e.Status == StatusAttended {
			out.Sessions++
			tenthsSum += credited(*e, ss)
		}
	}
	out.Hours = hours(tenthsSum)
	views, err := s.sessionViews(ctx, rows, mine)
	if err != nil {
		return MyTraining{}, err
	}
	out.Items = views
	return out, nil
}
