package rosterxls

import (
	"fmt"
	"strconv"

	"github.com/shiliu/shiliu/server/filing"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/xuri/excelize/v2"
)

const timeLayout = "2006-01-02 15:04"

// RosterExport writes the roster a page at a time through a stream, so a province-wide export
// does not hold 100,000 rows of cells in memory. Phone and ID numbers are masked as in the list.
type RosterExport struct {
	f      *excelize.File
	sw     *excelize.StreamWriter
	n      int
	region func(code string) string
}

var rosterHeaders = []string{"序号", "姓名", "性别", "民族", "手机号", "身份证号", "政治面貌", "职务", "选聘范围",
	"所在单位", "区划代码", "所在区划", "状态", "任期开始", "任期结束", "已绑定微信"}

// NewRosterExport starts an export; region names a region code.
func NewRosterExport(region func(code string) string) (*RosterExport, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", RosterSheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(RosterSheet)
	if err != nil {
		return nil, err
	}
	if err := header(f, sw, rosterHeaders, []float64{6, 10, 6, 10, 14, 22, 12, 16, 30, 24, 16, 16, 10, 12, 12, 10}); err != nil {
		return nil, err
	}
	return &RosterExport{f: f, sw: sw, region: region}, nil
}

func header(f *excelize.File, sw *excelize.StreamWriter, headers []string, widths []float64) error {
	head, err := headerStyle(f)
	if err != nil {
		return err
	}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	row := make([]any, len(headers))
	for i, h := range headers {
		row[i] = excelize.Cell{StyleID: head, Value: h}
	}
	return sw.SetRow("A1", row, excelize.RowOpts{Height: 20})
}

// Add writes a page of instructors.
func (x *RosterExport) Add(rows []roster.InstructorView) error {
	for _, r := range rows {
		x.n++
		bound := "否"
		if r.Bound {
			bound = "是"
		}
		vals := []any{x.n, r.Name, r.GenderName, r.EthnicityName, r.Phone, r.IDNumber, r.PoliticalStatusName, r.Position,
			r.SourceCategoryName, r.UnitName, r.RegionCode, x.region(r.RegionCode), r.StatusName, r.TermStart, r.TermEnd, bound}
		if err := x.sw.SetRow(cell(0, x.n+1), vals); err != nil {
			return err
		}
	}
	return nil
}

// Finish ends the stream and returns the workbook.
func (x *RosterExport) Finish() (*excelize.File, error) {
	if err := x.sw.Flush(); err != nil {
		return nil, err
	}
	return x.f, nil
}

// Filing is a filing as a workbook: its particulars on one sheet and the filed roster on another.
func Filing(d filing.Detail) (*excelize.File, error) {
	f := excelize.NewFile()
	const info, list = "备案信息", "备案名册"
	if err := f.SetSheetName("Sheet1", info); err != nil {
		return nil, err
	}
	decided := ""
	if d.DecidedAt != nil {
		decided = d.DecidedAt.Format(timeLayout)
	}
	pairs := [][2]string{
		{"备案编号", strconv.FormatInt(d.ID, 10)},
		{"备案层级", d.LevelName},
		{"备案地区", d.RegionName + "(" + d.RegionCode + ")"},
		{"报送至", d.ParentName + "(" + d.ParentCode + ")"},
		{"备案时间", d.FiledAt.Format(timeLayout)},
		{"状态", d.StatusName},
		{"接收/退回时间", decided},
		{"退回原因", d.ReturnReason},
		{"指导员人数", strconv.Itoa(d.InstructorCount)},
		{"单位数", strconv.Itoa(d.UnitCount)},
		{"备注", d.Note},
		{"说明", "手机号按脱敏形式备案,完整号码以指导员信息库为准"},
	}
	for _, pt := range d.Parts {
		pairs = append(pairs, [2]string{"其中:" + pt.RegionName, fmt.Sprintf("第%d号备案,%d名,%s备案", pt.FilingID, pt.InstructorCount, pt.FiledAt.Format(timeLayout))})
	}
	head, err := headerStyle(f)
	if err != nil {
		return nil, err
	}
	for i, kv := range pairs {
		if err := f.SetCellValue(info, cell(0, i+1), kv[0]); err != nil {
			return nil, err
		}
		if err := f.SetCellStyle(info, cell(0, i+1), cell(0, i+1), head); err != nil {
			return nil, err
		}
		if err := f.SetCellValue(info, cell(1, i+1), kv[1]); err != nil {
			return nil, err
		}
	}
	if err := f.SetColWidth(info, "A", "A", 16); err != nil {
		return nil, err
	}
	if err := f.SetColWidth(info, "B", "B", 60); err != nil {
		return nil, err
	}
	if _, err := f.NewSheet(list); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(list)
	if err != nil {
		return nil, err
	}
	if err := header(f, sw, []string{"序号", "姓名", "性别", "民族", "手机号", "政治面貌", "职务", "选聘范围", "所在单位", "单位类型",
		"区划代码", "所在区划", "任期开始", "任期结束"}, []float64{6, 10, 6, 10, 14, 12, 16, 30, 24, 14, 16, 16, 12, 12}); err != nil {
		return nil, err
	}
	for i, r := range d.Rows {
		vals := []any{i + 1, r.Name, r.GenderName, r.EthnicityName, r.Phone, r.PoliticalStatusName, r.Position,
			r.SourceCategoryName, r.UnitName, r.UnitKindName, r.RegionCode, r.RegionName, r.TermStart, r.TermEnd}
		if err := sw.SetRow(cell(0, i+2), vals); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	return f, nil
}
