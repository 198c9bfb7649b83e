// Package assessment is the yearly assessment of instructors (年度考核): staff grade each
// instructor of their subtree once a year, with a comment, on the evidence of the performance
// card of that year, which is kept with the grade as it stood then. The three-year adjustment
// shows the grades of the term it decides.
package assessment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/stats"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Grades of the yearly assessment.
const (
	GradeExcellent   = "excellent"
	GradeCompetent   = "competent"
	GradeBasic       = "basically_competent"
	GradeIncompetent = "incompetent"
)

// Grades with their labels, best first.
var Grades = []roster.Code{
	{Code: GradeExcellent, Label: "优秀"}, {Code: GradeCompetent, Label: "合格"},
	{Code: GradeBasic, Label: "基本合格"}, {Code: GradeIncompetent, Label: "不合格"},
}

// Dictionaries are the code lists of this package, merged into GET /api/v1/dictionaries.
func Dictionaries() map[string][]roster.Code {
	return map[string][]roster.Code{"assessment_grade": Grades}
}

// Assessment is one instructor's grade of one year (migration 36). Evidence is the performance
// card of that year (stats.CardPeriod, JSON) as it stood when the grade was last given.
type Assessment struct {
	ID           int64
	InstructorID int64
	Year         int
	UnitID       int64
	RegionCode   string
	Grade        string
	Comment      string
	Evidence     string
	AssessedBy   int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (Assessment) TableName() string { return "assessments" }

// View is an assessment as the API shows it.
type View struct {
	InstructorID   int64             `json:"instructor_id"`
	InstructorName string            `json:"instructor_name"`
	UnitID         int64             `json:"unit_id"`
	UnitName       string            `json:"unit_name"`
	RegionCode     string            `json:"region_code"`
	Year           int               `json:"year"`
	Grade          string            `json:"grade"`
	GradeName      string            `json:"grade_name"`
	Comment        string            `json:"comment"`
	Evidence       *stats.CardPeriod `json:"evidence"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// Brief is a grade in a list (the adjustment round shows those of the term).
type Brief struct {
	Year      int    `json:"year"`
	Grade     string `json:"grade"`
	GradeName string `json:"grade_name"`
}

// Service keeps the assessments.
type Service struct {
	db    *gorm.DB
	stats *stats.Service
	clock clock.Clock
}

// NewService wires the assessments.
func NewService(db *gorm.DB, st *stats.Service, clk clock.Clock) *Service {
	return &Service{db: db, stats: st, clock: clk}
}

const (
	subjectType = "assessment"
	maxComment  = 2000
	// maxBack is how many years back a grade may be given or corrected.
	maxBack = 5
)

var (
	errStaffOnly          = apperr.Forbidden("只有民族工作部门工作人员可以进行年度考核")
	errInstructorNotFound = apperr.New(http.StatusNotFound, "instructor_not_found", "指导员不存在或不在您的管辖范围内")
)

func yearNow(c clock.Clock) int { return c.Now().In(clock.Shanghai).Year() }

// CheckYear validates the year of an assessment: this year or one of the five before.
func (s *Service) CheckYear(v *validate.Checker, field string, year int) {
	now := yearNow(s.clock)
	v.Check(year >= now-maxBack && year <= now, field, fmt.Sprintf("考核年度应在%d到%d之间", now-maxBack, now))
}

// Input is a grade and its comment.
type Input struct {
	Grade   string
	Comment string
}

// Record gives (or corrects) an instructor's grade of a year, keeping the performance card of
// that year with it. created is false when an earlier grade of the year was replaced; the audit
// log keeps who changed what when.
func (s *Service) Record(ctx context.Context, p *access.Principal, instructorID int64, year int, in Input) (View, bool, error) {
	if !p.IsStaff() {
		return View{}, false, errStaffOnly
	}
	in.Grade, in.Comment = strings.TrimSpace(in.Grade), strings.TrimSpace(in.Comment)
	var v validate.Checker
	s.CheckYear(&v, "year", year)
	v.OneOf("grade", "考核等次", in.Grade, true, roster.OneOf(Grades))
	v.MaxLen("comment", "考核意见", in.Comment, maxComment)
	if in.Grade == GradeBasic || in.Grade == GradeIncompetent {
		v.Check(in.Comment != "", "comment", "考核等次为基本合格或不合格时,请写明考核意见")
	}
	if err := v.Err(); err != nil {
		return View{}, false, err
	}
	ins, err := s.instructor(s.db.WithContext(ctx), p, instructorID)
	if err != nil {
		return View{}, false, err
	}
	// The evidence is read before the transaction (SQLite has one connection).
	card, err := s.stats.Card(ctx, p, instructorID, year)
	if err != nil {
		return View{}, false, err
	}
	evidence, err := json.Marshal(card.Total)
	if err != nil {
		return View{}, false, err
	}
	now := s.clock.Now()
	var out Assessment
	created := false
	write := func(tx *gorm.DB) error {
		created = false
		var cur []Assessment
		if err := tx.Where("instructor_id = ? AND year = ?", ins.ID, year).Limit(1).Find(&cur).Error; err != nil {
			return err
		}
		if len(cur) == 1 {
			out = cur[0]
			out.Grade, out.Comment, out.Evidence, out.AssessedBy, out.UpdatedAt = in.Grade, in.Comment, string(evidence), p.AccountID, now
			return tx.Model(&Assessment{}).Where("id = ?", out.ID).Updates(map[string]any{
				"grade": out.Grade, "comment": out.Comment, "evidence": out.Evidence, "assessed_by": p.AccountID, "updated_at": now,
				"unit_id": ins.UnitID, "region_code": ins.RegionCode}).Error
		}
		out = Assessment{InstructorID: ins.ID, Year: year, UnitID: ins.UnitID, RegionCode: ins.RegionCode, Grade: in.Grade,
			Comment: in.Comment, Evidence: string(evidence), AssessedBy: p.AccountID, CreatedAt: now, UpdatedAt: now}
		created = true
		return tx.Create(&out).Error
	}
	err = database.Transact(ctx, s.db, write)
	if err != nil && database.IsUniqueViolation(err) {
		// Two officers graded at once: the later one corrects the first.
		err = database.Transact(ctx, s.db, write)
	}
	if err != nil {
		return View{}, false, err
	}
	audit.Subject(ctx, subjectType, out.ID, out.RegionCode)
	views, err := s.views(ctx, []Assessment{out})
	if err != nil {
		return View{}, false, err
	}
	return views[0], created, nil
}

// instructor loads an instructor of p's subtree.
func (s *Service) instructor(db *gorm.DB, p *access.Principal, id int64) (roster.Instructor, error) {
	var ins roster.Instructor
	err := db.Select("id", "name", "unit_id", "region_code", "status", "term_start", "term_end").
		Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&ins).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ins, errInstructorNotFound
	}
	return ins, err
}

// OfInstructor lists an instructor's assessments, latest year first.
func (s *Service) OfInstructor(ctx context.Context, p *access.Principal, instructorID int64) ([]View, error) {
	if !p.IsStaff() {
		return nil, errStaffOnly
	}
	db := s.db.WithContext(ctx)
	if _, err := s.instructor(db, p, instructorID); err != nil {
		return nil, err
	}
	var rows []Assessment
	if err := db.Where("instructor_id = ?", instructorID).Order("year DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	return s.views(ctx, rows)
}

// Briefs are the grades of the instructors ids in the years from..to, by instructor, latest first.
func (s *Service) Briefs(ctx context.Context, ids []int64, from, to int) (map[int64][]Brief, error) {
	out := map[int64][]Brief{}
	for chunk := range slices.Chunk(ids, 500) {
		var rows []Assessment
		if err := s.db.WithContext(ctx).Select("instructor_id", "year", "grade").
			Where("instructor_id IN ? AND year >= ? AND year <= ?", chunk, from, to).Order("year DESC").Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, a := range rows {
			out[a.InstructorID] = append(out[a.InstructorID], Brief{Year: a.Year, Grade: a.Grade, GradeName: roster.Label(Grades, a.Grade)})
		}
	}
	return out, nil
}

// Line is an instructor with their assessment of a year, if they have one.
type Line struct {
	InstructorID int64  `json:"instructor_id"`
	Name         string `json:"name"`
	UnitID       int64  `json:"unit_id"`
	UnitName     string `json:"unit_name"`
	RegionCode   string `json:"region_code"`
	Status       string `json:"status"`
	StatusName   string `json:"status_name"`
	TermEnd      string `json:"term_end,omitempty"`
	Year         int    `json:"year"`
	Grade        string `json:"grade"`
	GradeName    string `json:"grade_name"`
	Comment      string `json:"comment"`
}

// Sheet is a page of the assessment sheet of a year and the totals over the whole filter.
type Sheet struct {
	Year        int          `json:"year"`
	Instructors int64        `json:"instructors"`
	Assessed    int64        `json:"assessed"`
	ByGrade     []stats.Item `json:"by_grade"`
	Items       []Line       `json:"items"`
	NextCursor  string       `json:"next_cursor"`
}

// SheetFilter narrows the assessment sheet.
type SheetFilter struct {
	Year       int
	RegionCode string
	Grade      string // a grade, or "none": not assessed yet
	Page       paging.Page
}

// Sheet lists the instructors of the caller's subtree for a year's assessment, newest first:
// everyone in office, and anyone graded that year; with their grade if they have one.
func (s *Service) Sheet(ctx context.Context, p *access.Principal, f SheetFilter) (Sheet, error) {
	if !p.IsStaff() {
		return Sheet{}, errStaffOnly
	}
	if f.Year == 0 {
		f.Year = yearNow(s.clock)
	}
	var v validate.Checker
	s.CheckYear(&v, "year", f.Year)
	v.RegionCode("region_code", f.RegionCode)
	v.Check(f.Grade == "" || f.Grade == "none" || roster.OneOf(Grades)(f.Grade), "grade", "考核等次应为excellent、competent、basically_competent、incompetent或none(未考核)")
	if err := v.Err(); err != nil {
		return Sheet{}, err
	}
	db := s.db.WithContext(ctx)
	fresh := func() *gorm.DB { return s.db.Session(&gorm.Session{NewDB: true}) }
	graded := fresh().Model(&Assessment{}).Select("instructor_id").Where("year = ?", f.Year)
	covered := func(q *gorm.DB) *gorm.DB {
		q = q.Scopes(access.InRegion(p, "region_code"), access.UnderRegion("region_code", f.RegionCode)).
			Where("(status = ? OR id IN (?))", roster.StatusActive, graded)
		return q
	}
	out := Sheet{Year: f.Year, Items: []Line{}}
	if err := db.Model(&roster.Instructor{}).Scopes(covered).Count(&out.Instructors).Error; err != nil {
		return out, err
	}
	var counts []struct {
		Grade string
		N     int64
	}
	if err := db.Model(&Assessment{}).Select("grade, COUNT(*) AS n").Where("year = ?", f.Year).
		Where("instructor_id IN (?)", fresh().Model(&roster.Instructor{}).Select("id").Scopes(covered)).
		Group("grade").Scan(&counts).Error; err != nil {
		return out, err
	}
	byGrade := map[string]int64{}
	for _, c := range counts {
		byGrade[c.Grade] = c.N
		out.Assessed += c.N
	}
	for _, g := range Grades {
		out.ByGrade = append(out.ByGrade, stats.Item{Code: g.Code, Label: g.Label, Count: byGrade[g.Code]})
	}
	q := db.Model(&roster.Instructor{}).Select("id", "name", "unit_id", "region_code", "status", "term_end").Scopes(covered, f.Page.Apply("id"))
	switch {
	case f.Grade == "none":
		q = q.Where("id NOT IN (?)", graded)
	case f.Grade != "":
		q = q.Where("id IN (?)", fresh().Model(&Assessment{}).Select("instructor_id").Where("year = ? AND grade = ?", f.Year, f.Grade))
	}
	var rows []roster.Instructor
	if err := q.Find(&rows).Error; err != nil {
		return out, err
	}
	rows, out.NextCursor = paging.Trim(f.Page, rows, func(i roster.Instructor) int64 { return i.ID })
	if len(rows) == 0 {
		return out, nil
	}
	ids, unitIDs := make([]int64, len(rows)), make([]int64, len(rows))
	for i, r := range rows {
		ids[i], unitIDs[i] = r.ID, r.UnitID
	}
	var as []Assessment
	if err := db.Select("instructor_id", "grade", "comment").Where("year = ? AND instructor_id IN ?", f.Year, ids).Find(&as).Error; err != nil {
		return out, err
	}
	mine := map[int64]Assessment{}
	for _, a := range as {
		mine[a.InstructorID] = a
	}
	units, err := unitNames(db, unitIDs)
	if err != nil {
		return out, err
	}
	for _, r := range rows {
		a := mine[r.ID]
		out.Items = append(out.Items, Line{InstructorID: r.ID, Name: r.Name, UnitID: r.UnitID, UnitName: units[r.UnitID],
			RegionCode: r.RegionCode, Status: r.Status, StatusName: roster.Label(roster.InstructorStatuses, r.Status),
			TermEnd: roster.FormatDate(r.TermEnd), Year: f.Year, Grade: a.Grade, GradeName: roster.Label(Grades, a.Grade), Comment: a.Comment})
	}
	return out, nil
}

func unitNames(db *gorm.DB, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for chunk := range slices.Chunk(ids, 500) {
		var rows []roster.Unit
		if err := db.Select("id", "name").Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, u := range rows {
			out[u.ID] = u.Name
		}
	}
	return out, nil
}

func (s *Service) views(ctx context.Context, rows []Assessment) ([]View, error) {
	out := make([]View, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	db := s.db.WithContext(ctx)
	ids, unitIDs := make([]int64, len(rows)), make([]int64, len(rows))
	for i, a := range rows {
		ids[i], unitIDs[i] = a.InstructorID, a.UnitID
	}
	var people []roster.Instructor
	if err := db.Select("id", "name").Where("id IN ?", slices.Compact(slices.Sorted(slices.Values(ids)))).Find(&people).Error; err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, r := range people {
		names[r.ID] = r.Name
	}
	units, err := unitNames(db, unitIDs)
	if err != nil {
		return nil, err
	}
	for i, a := range rows {
		v := View{InstructorID: a.InstructorID, InstructorName: names[a.InstructorID], UnitID: a.UnitID, UnitName: units[a.UnitID],
			RegionCode: a.RegionCode, Year: a.Year, Grade: a.Grade, GradeName: roster.Label(Grades, a.Grade), Comment: a.Comment,
			CreatedAt: clock.Local(a.CreatedAt), UpdatedAt: clock.Local(a.UpdatedAt)}
		if a.Evidence != "" {
			var ev stats.CardPeriod
			if err := json.Unmarshal([]byte(a.Evidence), &ev); err == nil {
				v.Evidence = &ev
			}
		}
		out[i] = v
	}
	return out, nil
}
