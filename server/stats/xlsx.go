package stats

import (
	"context"
	"strconv"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/record"
	"github.com/xuri/excelize/v2"
)

// MaxListRows caps each list sheet of the workbook: every instructor of the province fits.
const MaxListRows = 100_000

// Workbook is the overview as an Excel workbook, the way staff file statistics today: a summary
// sheet, a sheet per dimension with Chinese headers, and the whole lists of units without an
// instructor in office and of instructors with no record in 90 days.
func (s *Service) Workbook(ctx context.Context, p *access.Principal, q Query) (*excelize.File, error) {
	sc, r, err := s.resolve(ctx, p, q.RegionCode)
	if err != nil {
		return nil, err
	}
	period, err := s.ParsePeriod(q.From, q.To)
	if err != nil {
		return nil, err
	}
	ov, err := s.overview(ctx, sc, r, period)
	if err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	units, err := all(func(pg paging.Page) ([]UnitRef, string, error) { return s.unitsWithout(ctx, db, sc, nil, pg) })
	if err != nil {
		return nil, err
	}
	since := s.clock.Now().AddDate(0, 0, -InactiveDays)
	idle, err := all(func(pg paging.Page) ([]InstructorRef, string, error) {
		return s.inactiveList(ctx, db, sc, since, pg)
	})
	if err != nil {
		return nil, err
	}
	return writeWorkbook(ov, units, idle)
}

// all reads a whole list in one query (paging through it would sort it again for every page).
func all[T any](page func(paging.Page) ([]T, string, error)) ([]T, error) {
	items, _, err := page(paging.Page{Limit: MaxListRows})
	return items, err
}

// book writes sheets one after another.
type book struct {
	f       *excelize.File
	head    int
	percent int
	first   bool
}

// sheet is one worksheet: a header row with the columns' widths, then the rows.
type sheet struct {
	name    string
	headers []string
	widths  []float64
	rows    [][]any
}

func (b *book) write(s sheet) error {
	if b.first {
		if err := b.f.SetSheetName("Sheet1", s.name); err != nil {
			return err
		}
		b.first = false
	} else if _, err := b.f.NewSheet(s.name); err != nil {
		return err
	}
	sw, err := b.f.NewStreamWriter(s.name)
	if err != nil {
		return err
	}
	for i, w := range s.widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(s.headers))
	for i, h := range s.headers {
		head[i] = excelize.Cell{StyleID: b.head, Value: h}
	}
	if err := sw.SetRow("A1", head, excelize.RowOpts{Height: 20}); err != nil {
		return err
	}
	for i, r := range s.rows {
		for j, v := range r {
			if p, ok := v.(percent); ok {
				if p.v == nil {
					r[j] = ""
				} else {
					r[j] = excelize.Cell{StyleID: b.percent, Value: *p.v}
				}
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, r); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// percent is a rate shown as a percentage; nil leaves the cell empty.
type percent struct{ v *float64 }

func hoursOf(minutes *float64) any {
	if minutes == nil {
		return ""
	}
	return float64(int64(*minutes/60*100+0.5)) / 100
}

func itemRows(list []Item) [][]any {
	rows := make([][]any, 0, len(list)+1)
	var total int64
	for _, it := range list {
		rows = append(rows, []any{it.Label, it.Count})
		total += it.Count
	}
	return append(rows, []any{"合计", total})
}

func writeWorkbook(ov Overview, units []UnitRef, idle []InstructorRef) (*excelize.File, error) {
	f := excelize.NewFile()
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return nil, err
	}
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10})
	if err != nil {
		return nil, err
	}
	b := &book{f: f, head: head, percent: pct, first: true}
	in := ov.Instructors
	for _, s := range []sheet{
		summarySheet(ov),
		{"指导员状态", []string{"状态", "人数"}, []float64{16, 10}, itemRows(in.ByStatus)},
		unitKindSheet(ov),
		{"民族", []string{"民族", "在任指导员人数"}, []float64{14, 16}, itemRows(in.ByEthnicity)},
		{"选聘范围", []string{"选聘范围", "在任指导员人数"}, []float64{48, 16}, itemRows(in.BySourceCategory)},
		monthSheet(ov),
		roleSheet(ov),
		{"标签", []string{"标签(一条记录可有多个)", "记录数"}, []float64{24, 10}, tagRows(ov.Records.ByTag)},
		tipSheet(ov),
		outcomeSheet(ov),
		unitsWithoutSheet(units),
		inactiveSheet(ov, idle),
	} {
		if err := b.write(s); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// summarySheet is the overview's figures, one per row.
func summarySheet(ov Overview) sheet {
	in, u, t, m, mt := ov.Instructors, ov.Units, ov.Tips, ov.Mediations, ov.Meetings
	rows := [][]any{
		{"统计区域", ov.Region.Name}, {"区划代码", ov.Region.Code}, {"统计期间", ov.From + " 至 " + ov.To},
		{"生成时间", ov.GeneratedAt.Format("2006-01-02 15:04")},
		{"指导员总数(含非在任)", in.Total}, {"在任指导员", in.Active},
		{"单位总数", u.Total}, {"无在任指导员的单位", u.WithoutInstructor},
		{"记录总数(不含已撤回)", ov.Records.Total},
		{"风险隐患线索(不含重复线索)", t.Total}, {"重复线索", t.Duplicates},
		{"已签收线索", t.Acknowledge.Count}, {"签收用时中位数(小时)", hoursOf(t.Acknowledge.MedianMinutes)},
		{"已化解线索", t.Resolve.Count}, {"化解用时中位数(小时)", hoursOf(t.Resolve.MedianMinutes)},
		{"矛盾纠纷调解", m.Total}, {"调解成功", m.Settled}, {"部分调解成功", m.PartlySettled},
		{"调解成功率", percent{m.SettlementRate}}, {"部分调解成功率", percent{m.PartlySettledRate}},
		{"例会场次", mt.Meetings}, {"应参会人次", mt.Invitees}, {"签到人次", mt.CheckedIn}, {"签到率", percent{mt.AttendanceRate}},
	}
	if tr := ov.Training; tr != nil {
		avg := any("")
		if tr.AverageHours != nil {
			avg = *tr.AverageHours
		}
		rows = append(rows, []any{"培训场次", tr.Sessions}, []any{"参训人次", tr.Attendances},
			[]any{"培训总学时", tr.TotalHours}, []any{"在任指导员人均学时", avg})
	}
	rows = append(rows, []any{"近" + strconv.Itoa(ov.Inactive.Days) + "天无记录的在任指导员", ov.Inactive.Count},
		[]any{"说明", "记录按发生时间统计;风险线索按当前状态统计;用时中位数按分档估算;培训学时按开始时间在统计期间内的培训计算"})
	return sheet{"概况", []string{"项目", "数值"}, []float64{34, 60}, rows}
}

// unitKindSheet counts units and the instructors in office by unit kind.
func unitKindSheet(ov Overview) sheet {
	u, in := ov.Units, ov.Instructors
	rows := make([][]any, 0, len(u.ByKind)+1)
	var unitTotal, activeTotal int64
	for i, it := range u.ByKind {
		n := in.ByUnitKind[i].Count
		rows = append(rows, []any{it.Label, it.Count, n})
		unitTotal += it.Count
		activeTotal += n
	}
	rows = append(rows, []any{"合计", unitTotal, activeTotal})
	return sheet{"单位类型", []string{"单位类型", "单位数", "在任指导员人数"}, []float64{16, 10, 16}, rows}
}

// monthSheet counts records by month, a column per record kind.
func monthSheet(ov Overview) sheet {
	kindList := record.Kinds()
	s := sheet{name: "记录按月", headers: []string{"月份"}, widths: []float64{10}}
	for _, k := range kindList {
		s.headers = append(s.headers, k.Label)
		s.widths = append(s.widths, 16)
	}
	s.headers = append(s.headers, "合计")
	s.widths = append(s.widths, 10)
	s.rows = make([][]any, 0, len(ov.Records.ByMonth)+1)
	for _, mc := range ov.Records.ByMonth {
		row := []any{mc.Month}
		for _, k := range kindList {
			row = append(row, mc.ByKind[k.Name])
		}
		s.rows = append(s.rows, append(row, mc.Total))
	}
	total := []any{"合计"}
	for _, it := range ov.Records.ByKind {
		total = append(total, it.Count)
	}
	s.rows = append(s.rows, append(total, ov.Records.Total))
	return s
}

// tipSheet counts tips by level, a column per state.
func tipSheet(ov Overview) sheet {
	t := ov.Tips
	s := sheet{name: "风险线索", headers: []string{"风险等级"}, widths: []float64{12}}
	for _, st := range t.ByState {
		s.headers = append(s.headers, st.Label)
		s.widths = append(s.widths, 10)
	}
	s.headers = append(s.headers, "合计")
	s.widths = append(s.widths, 10)
	s.rows = make([][]any, 0, len(t.ByLevel)+1)
	for _, lv := range t.ByLevel {
		row := []any{lv.Label}
		for _, st := range lv.ByState {
			row = append(row, st.Count)
		}
		s.rows = append(s.rows, append(row, lv.Count))
	}
	total := []any{"合计"}
	for _, st := range t.ByState {
		total = append(total, st.Count)
	}
	s.rows = append(s.rows, append(total, t.Total))
	return s
}

// roleSheet counts the records by the role of the five (§三) they served, each role's share of all.
func roleSheet(ov Overview) sheet {
	r := ov.Records
	rows := make([][]any, 0, len(r.ByRole)+1)
	var total int64
	for _, it := range r.ByRole {
		rows = append(rows, []any{it.Label, it.Count, percent{rate(it.Count, r.Total)}})
		total += it.Count
	}
	rows = append(rows, []any{"合计", total, ""})
	return sheet{"五大员角色", []string{"角色", "记录数", "占比"}, []float64{16, 10, 10}, rows}
}

// tagRows lists the counts per tag; a record with several tags counts under each, so there is no
// total.
func tagRows(list []Item) [][]any {
	rows := make([][]any, 0, len(list))
	for _, it := range list {
		rows = append(rows, []any{it.Label, it.Count})
	}
	return rows
}

// outcomeSheet counts mediations by outcome with each one's share.
func outcomeSheet(ov Overview) sheet {
	m := ov.Mediations
	rows := make([][]any, 0, len(m.ByOutcome)+1)
	for _, it := range m.ByOutcome {
		rows = append(rows, []any{it.Label, it.Count, percent{rate(it.Count, m.Total)}})
	}
	rows = append(rows, []any{"合计", m.Total, ""})
	return sheet{"调解结果", []string{"调解结果", "件数", "占比"}, []float64{18, 10, 10}, rows}
}

// unitsWithoutSheet lists the units without an instructor in office.
func unitsWithoutSheet(units []UnitRef) sheet {
	rows := make([][]any, len(units))
	for i, x := range units {
		rows[i] = []any{i + 1, x.Name, x.KindName, x.RegionCode, x.RegionName}
	}
	return sheet{"无在任指导员的单位", []string{"序号", "单位名称", "单位类型", "区划代码", "所在区划"},
		[]float64{8, 30, 14, 16, 18}, rows}
}

// inactiveSheet lists the instructors in office with no record in the last ov.Inactive.Days.
func inactiveSheet(ov Overview, idle []InstructorRef) sheet {
	rows := make([][]any, len(idle))
	for i, x := range idle {
		last := ""
		if x.LastRecordAt != nil {
			last = x.LastRecordAt.Format("2006-01-02 15:04")
		}
		rows[i] = []any{i + 1, x.Name, x.UnitName, x.RegionCode, x.RegionName, x.TermStart, last}
	}
	return sheet{strconv.Itoa(ov.Inactive.Days) + "天无记录的指导员",
		[]string{"序号", "姓名", "所在单位", "区划代码", "所在区划", "任期开始", "最近记录时间"},
		[]float64{8, 10, 30, 16, 18, 12, 18}, rows}
}
