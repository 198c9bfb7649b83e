package roster

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// MaxImportRows bounds one import file.
const MaxImportRows = 20000

// ImportRow is one data row of a roster import: a unit (found by region and name, created when
// missing) and an instructor in office there. Row is the row number in the sheet, for the report.
type ImportRow struct {
	Row        int
	UnitName   string
	UnitKind   string
	RegionCode string
	Person     InstructorInput
	// TermStart is "2006-01-02" or empty for today.
	TermStart string
}

// RowError is one problem in one field of one row. Field is the API name of the field
// (unit_name, unit_kind, region_code, name, phone…).
type RowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ImportErrors refuses a whole import: nothing was written.
type ImportErrors struct {
	Errors []RowError
}

func (e *ImportErrors) Error() string {
	return fmt.Sprintf("roster import refused: %d problems", len(e.Errors))
}

// ImportResult is what an import wrote.
type ImportResult struct {
	Rows               int `json:"rows"`
	UnitsCreated       int `json:"units_created"`
	InstructorsCreated int `json:"instructors_created"`
}

// importUnit is a unit the file refers to: one that exists, or one to create.
type importUnit struct {
	unit    Unit
	exists  bool
	rows    int // instructors the file adds to it
	firstAt int
}

// Import validates every row as the API would (each unit as CreateUnit, each person as
// CreateInstructor), checks duplicates within the file and against the roster and the 2-per-unit
// rule over existing and new instructors, and then writes everything in one transaction, or
// nothing with the problems of every row.
func (s *Service) Import(ctx context.Context, p *access.Principal, rows []ImportRow) (ImportResult, error) {
	if err := requireStaff(p); err != nil {
		return ImportResult{}, err
	}
	if len(rows) == 0 {
		return ImportResult{}, apperr.Field("file", "文件中没有数据行")
	}
	if len(rows) > MaxImportRows {
		return ImportResult{}, apperr.Field("file", fmt.Sprintf("一次最多导入%d行,请分批导入", MaxImportRows))
	}
	var errs []RowError
	fail := func(row int, field, msg string) { errs = append(errs, RowError{Row: row, Field: field, Message: msg}) }
	failAll := func(row int, err error, rename map[string]string) {
		e, ok := apperr.As(err)
		if !ok {
			return
		}
		for _, d := range e.Details {
			f := d.Field
			if r, ok := rename[f]; ok {
				f = r
			}
			fail(row, f, d.Message)
		}
	}
	unitFields := map[string]string{"name": "unit_name", "kind": "unit_kind"}
	today := s.Today()
	starts := make([]time.Time, len(rows))
	phoneAt, idAt := map[string]int{}, map[string]int{}
	for i := range rows {
		r := &rows[i]
		u := UnitInput{Name: r.UnitName, Kind: r.UnitKind, RegionCode: strings.TrimSpace(r.RegionCode)}
		var uv validate.Checker
		s.checkUnit(ctx, p, &uv, &u)
		failAll(r.Row, uv.Err(), unitFields)
		if uv.Err() == nil && !p.CanSeeRegion(u.RegionCode) {
			fail(r.Row, "region_code", "该行政区划不在您的管辖范围内")
		}
		r.UnitName, r.UnitKind, r.RegionCode = u.Name, u.Kind, u.RegionCode
		var pv validate.Checker
		CheckPerson(&pv, &r.Person)
		failAll(r.Row, pv.Err(), nil)
		starts[i] = today
		if strings.TrimSpace(r.TermStart) != "" {
			t, ok := ParseDate(r.TermStart)
			if ok {
				starts[i] = t
			} else {
				fail(r.Row, "term_start", "任期开始日期应为“2024-05-01”格式的日期")
			}
		}
		if r.Person.Phone != "" {
			if first, dup := phoneAt[r.Person.Phone]; dup {
				fail(r.Row, "phone", fmt.Sprintf("手机号与第%d行重复", first))
			} else {
				phoneAt[r.Person.Phone] = r.Row
			}
		}
		if r.Person.IDNumber != "" {
			if first, dup := idAt[r.Person.IDNumber]; dup {
				fail(r.Row, "id_number", fmt.Sprintf("身份证号码与第%d行重复", first))
			} else {
				idAt[r.Person.IDNumber] = r.Row
			}
		}
	}

	// Already on the roster.
	db := s.db.WithContext(ctx)
	hashes := func(values map[string]int) map[string]int {
		out := make(map[string]int, len(values))
		for v, row := range values {
			out[s.box.Hash(v)] = row
		}
		return out
	}
	for _, c := range []struct {
		column, field, msg string
		at                 map[string]int
	}{
		{"phone_hash", "phone", "该手机号已登记在指导员信息库中", hashes(phoneAt)},
		{"id_number_hash", "id_number", "该身份证号码已登记在指导员信息库中", hashes(idAt)},
	} {
		taken, err := existing(db, c.column, keys(c.at))
		if err != nil {
			return ImportResult{}, err
		}
		for _, h := range taken {
			fail(c.at[h], c.field, c.msg)
		}
	}

	// Units: existing by region and name, or new; and their places.
	units, err := s.importUnits(db, rows)
	if err != nil {
		return ImportResult{}, err
	}
	for _, r := range rows {
		if r.UnitName == "" || r.RegionCode == "" {
			continue
		}
		iu := units[unitKey(r.RegionCode, r.UnitName)]
		if iu.firstAt == 0 {
			iu.firstAt = r.Row
			if !iu.exists {
				iu.unit.Kind = r.UnitKind
			}
		}
		switch {
		case r.UnitKind == "":
		case iu.exists && iu.unit.Kind != r.UnitKind:
			fail(r.Row, "unit_kind", fmt.Sprintf("该单位已登记,单位类型为“%s”,与填写的不一致", Label(UnitKinds, iu.unit.Kind)))
		case !iu.exists && iu.unit.Kind != r.UnitKind:
			fail(r.Row, "unit_kind", fmt.Sprintf("同一单位的单位类型与第%d行不一致", iu.firstAt))
		}
		iu.rows++
		if iu.unit.ActiveInstructors+iu.rows > MaxActivePerUnit {
			fail(r.Row, "unit_name", fmt.Sprintf("该单位在任指导员将超过%d名(已有%d名在任,本文件中第%d名)",
				MaxActivePerUnit, iu.unit.ActiveInstructors, iu.rows))
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Row < errs[j].Row })
		return ImportResult{}, &ImportErrors{Errors: errs}
	}
	return s.writeImport(ctx, p, rows, starts, units)
}

func unitKey(regionCode, name string) string { return regionCode + "\x00" + name }

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// existing returns which of the values a unique column of instructors already holds.
func existing(db *gorm.DB, column string, values []string) ([]string, error) {
	var out []string
	for start := 0; start < len(values); start += 1000 {
		var got []string
		if err := db.Model(&Instructor{}).Where(column+" IN ?", values[start:min(start+1000, len(values))]).
			Pluck(column, &got).Error; err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// importUnits finds the units the rows name, by region and name, and prepares the missing ones.
func (s *Service) importUnits(db *gorm.DB, rows []ImportRow) (map[string]*importUnit, error) {
	out := map[string]*importUnit{}
	regions := map[string]bool{}
	for _, r := range rows {
		if r.UnitName == "" || r.RegionCode == "" {
			continue
		}
		k := unitKey(r.RegionCode, r.UnitName)
		if out[k] == nil {
			out[k] = &importUnit{unit: Unit{Name: r.UnitName, RegionCode: r.RegionCode}}
		}
		regions[r.RegionCode] = true
	}
	codes := make([]string, 0, len(regions))
	for c := range regions {
		codes = append(codes, c)
	}
	for start := 0; start < len(codes); start += 500 {
		var found []Unit
		if err := db.Where("region_code IN ?", codes[start:min(start+500, len(codes))]).Find(&found).Error; err != nil {
			return nil, err
		}
		for _, u := range found {
			if iu := out[unitKey(u.RegionCode, u.Name)]; iu != nil {
				iu.unit, iu.exists = u, true
			}
		}
	}
	return out, nil
}

// writeImport writes a validated import: new units, instructors, their places and history.
func (s *Service) writeImport(ctx context.Context, p *access.Principal, rows []ImportRow, starts []time.Time, units map[string]*importUnit) (ImportResult, error) {
	res := ImportResult{Rows: len(rows)}
	now := s.clock.Now()
	ins := make([]Instructor, len(rows))
	for i, r := range rows {
		in := Instructor{
			Name: r.Person.Name, Gender: r.Person.Gender, Ethnicity: r.Person.Ethnicity, PoliticalStatus: r.Person.PoliticalStatus,
			Position: strings.TrimSpace(r.Person.Position), SourceCategory: r.Person.SourceCategory, Status: StatusActive,
			CreatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now,
		}
		if err := s.sealPersonal(&in, r.Person.Phone, r.Person.IDNumber); err != nil {
			return res, err
		}
		s.startTerm(&in, &starts[i])
		ins[i] = in
	}
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		// A retried attempt inserts afresh: no id from a rolled-back attempt is kept.
		for i := range ins {
			ins[i].ID = 0
		}
		var fresh []*importUnit
		for _, k := range keys(unitRows(units)) {
			if iu := units[k]; !iu.exists {
				iu.unit.ID = 0
				iu.unit.CreatedBy, iu.unit.CreatedAt, iu.unit.UpdatedAt = p.AccountID, now, now
				fresh = append(fresh, iu)
			}
		}
		if len(fresh) > 0 {
			batch := make([]Unit, len(fresh))
			for i, iu := range fresh {
				batch[i] = iu.unit
			}
			if err := tx.CreateInBatches(&batch, batchRows(tx)).Error; err != nil {
				if database.IsUniqueViolation(err) {
					return apperr.New(http.StatusConflict, "unit_exists", "导入期间有同名单位被登记,请重新导入")
				}
				return err
			}
			ids := make([]int64, len(fresh))
			for i, iu := range fresh {
				iu.unit.ID = batch[i].ID
				ids[i] = batch[i].ID
			}
			if err := s.touchUnits(tx, ids...); err != nil {
				return err
			}
			res.UnitsCreated = len(fresh)
		}
		// Places: every unit takes one place per instructor, through the same conditional update
		// as a single appointment.
		var first, second []int64
		for _, iu := range units {
			if iu.rows >= 1 {
				first = append(first, iu.unit.ID)
			}
			if iu.rows >= 2 {
				second = append(second, iu.unit.ID)
			}
		}
		for _, ids := range [][]int64{first, second} {
			if err := takePlaces(tx, ids); err != nil {
				return err
			}
		}
		for i, r := range rows {
			u := units[unitKey(r.RegionCode, r.UnitName)].unit
			ins[i].UnitID, ins[i].RegionCode = u.ID, u.RegionCode
		}
		if err := tx.CreateInBatches(&ins, batchRows(tx)).Error; err != nil {
			return s.instructorConflict(err)
		}
		ids := make([]int64, len(ins))
		for i, in := range ins {
			ids[i] = in.ID
		}
		if err := s.touchInstructors(tx, ids...); err != nil {
			return err
		}
		hist := make([]History, len(ins))
		for i, in := range ins {
			hist[i] = History{InstructorID: in.ID, Action: ActionImport, ToUnitID: in.UnitID, ToStatus: StatusActive,
				TermStart: in.TermStart, TermEnd: in.TermEnd, ActorID: p.AccountID, ActorRole: string(p.Role), CreatedAt: now}
		}
		return tx.CreateInBatches(&hist, batchRows(tx)).Error
	})
	s.Committed()
	if err != nil {
		return ImportResult{}, err
	}
	res.InstructorsCreated = len(ins)
	return res, nil
}

// BatchRows is the number of rows per multi-row INSERT on db. The SQLite driver binds the
// parameters of a statement in time quadratic in their number, so it gets short statements;
// MySQL gets long ones, to save round trips.
func BatchRows(db *gorm.DB) int {
	if db.Dialector.Name() == "sqlite" {
		return 50
	}
	return 500
}

func batchRows(db *gorm.DB) int { return BatchRows(db) }

func unitRows(units map[string]*importUnit) map[string]int {
	out := make(map[string]int, len(units))
	for k, iu := range units {
		out[k] = iu.rows
	}
	return out
}
