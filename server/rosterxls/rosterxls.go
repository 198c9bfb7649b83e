// Package rosterxls is the roster in Excel, the form county, city and province staff keep it in
// today: the import template, reading an import file into roster rows, the per-row error report,
// and exports of the roster and of a filing. It only translates between sheets and the domain:
// validation and writing are package roster's.
package rosterxls

import (
	"fmt"
	"strings"

	"github.com/shiliu/shiliu/server/roster"
	"github.com/xuri/excelize/v2"
)

// ContentType is the MIME type of .xlsx files.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Sheet names of the import template.
const (
	RosterSheet = "指导员名册"
	listSheet   = "代码表"
	helpSheet   = "填写说明"
)

// column is one column of the import sheet: its header, the field it fills (the API name, which
// row errors use) and the code list it takes labels from, if any.
type column struct {
	header   string
	field    string
	required bool
	list     []roster.Code
	width    float64
	text     bool // kept as text so Excel does not turn long digit strings into numbers
	help     string
}

var columns = []column{
	{header: "单位名称", field: "unit_name", required: true, width: 24, help: "单位(部位)全称;同一区划下名称相同视为同一单位,系统中没有的单位自动登记"},
	{header: "单位类型", field: "unit_kind", required: true, list: roster.UnitKinds, width: 14, help: "从下拉列表中选择(管理办法第二条第二款)"},
	{header: "区划代码", field: "region_code", required: true, width: 16, text: true, help: "单位所在县级或以下行政区划的12位统计用区划代码,例如 130102001000"},
	{header: "姓名", field: "name", required: true, width: 10},
	{header: "性别", field: "gender", required: true, list: roster.Genders, width: 6},
	{header: "民族", field: "ethnicity", required: true, list: roster.Ethnicities, width: 10},
	{header: "手机号", field: "phone", required: true, width: 14, text: true, help: "11位手机号,指导员用它在小程序中快捷绑定"},
	{header: "身份证号", field: "id_number", width: 22, text: true, help: "可不填;填写时须为18位居民身份证号"},
	{header: "政治面貌", field: "political_status", list: roster.PoliticalStatuses, width: 12},
	{header: "职务", field: "position", width: 16},
	{header: "选聘范围", field: "source_category", required: true, list: roster.SourceCategories, width: 30, help: "从下拉列表中选择(管理办法第二条第三款)"},
	{header: "任期开始日期", field: "term_start", width: 14, text: true, help: "可不填(默认为导入当天),格式如 2024-05-01;任期3年"},
}

// FieldHeader returns the column header of an import field, for messages.
func FieldHeader(field string) string {
	for _, c := range columns {
		if c.field == field {
			return c.header
		}
	}
	return field
}

func colName(i int) string {
	n, _ := excelize.ColumnNumberToName(i + 1)
	return n
}

func cell(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col+1, row)
	return c
}

// Template is the import template: the roster sheet with headers and drop-down lists, the code
// lists on a sheet of their own, and the instructions.
func Template() (*excelize.File, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", RosterSheet); err != nil {
		return nil, err
	}
	head, err := headerStyle(f)
	if err != nil {
		return nil, err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return nil, err
	}
	if _, err := f.NewSheet(listSheet); err != nil {
		return nil, err
	}
	listCol := 0
	for i, c := range columns {
		h := c.header
		if c.required {
			h += "*"
		}
		if err := f.SetCellValue(RosterSheet, cell(i, 1), h); err != nil {
			return nil, err
		}
		if err := f.SetColWidth(RosterSheet, colName(i), colName(i), c.width); err != nil {
			return nil, err
		}
		if c.text {
			if err := f.SetColStyle(RosterSheet, colName(i), text); err != nil {
				return nil, err
			}
		}
		if c.list == nil {
			continue
		}
		// Lists live on their own sheet: the 58 ethnic groups are longer than the 255 characters
		// an inline drop-down may hold.
		if err := f.SetCellValue(listSheet, cell(listCol, 1), c.header); err != nil {
			return nil, err
		}
		for j, code := range c.list {
			if err := f.SetCellValue(listSheet, cell(listCol, j+2), code.Label); err != nil {
				return nil, err
			}
		}
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", colName(i), colName(i), roster.MaxImportRows+1)
		dv.SetSqrefDropList(fmt.Sprintf("'%s'!$%s$2:$%s$%d", listSheet, colName(listCol), colName(listCol), len(c.list)+1))
		dv.SetError(excelize.DataValidationErrorStyleStop, "取值无效", "请从下拉列表中选择"+c.header)
		if err := f.AddDataValidation(RosterSheet, dv); err != nil {
			return nil, err
		}
		if err := f.SetColWidth(listSheet, colName(listCol), colName(listCol), c.width+4); err != nil {
			return nil, err
		}
		listCol++
	}
	if err := f.SetRowStyle(RosterSheet, 1, 1, head); err != nil {
		return nil, err
	}
	if err := f.SetPanes(RosterSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	if err := writeHelp(f); err != nil {
		return nil, err
	}
	return f, nil
}

func headerStyle(f *excelize.File) (int, error) {
	return f.NewStyle(&excelize.Style{
		Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
	})
}

func writeHelp(f *excelize.File) error {
	if _, err := f.NewSheet(helpSheet); err != nil {
		return err
	}
	lines := []string{
		"河北省民族团结进步创建指导员名册导入说明",
		"",
		"1. 在“" + RosterSheet + "”工作表中每行填写一名在任指导员及其所在单位,不要修改第一行表头;带 * 的列必须填写。",
		"2. 单位按“区划代码 + 单位名称”识别:系统中已有的单位直接使用(单位类型须与已登记的一致),没有的单位自动登记。",
		fmt.Sprintf("3. 每个单位最多 %d 名在任指导员(管理办法第二条第二款),已在任的人数一并计算。", roster.MaxActivePerUnit),
		"4. 手机号、身份证号在信息库中唯一,不能与已登记的指导员或本文件中其他行重复。",
		"5. 区划代码、手机号、身份证号请以文本格式填写(本模板已设置),避免被 Excel 转为科学计数法。",
		fmt.Sprintf("6. 一次最多导入 %d 行。任何一行有误则整个文件都不导入,系统返回逐行的错误清单(也可下载带“错误说明”列的 Excel),修改后重新上传即可。", roster.MaxImportRows),
		"7. 单位类型、性别、民族、政治面貌、选聘范围请从下拉列表中选择,取值见“" + listSheet + "”工作表。",
		"",
		"各列说明:",
	}
	for _, c := range columns {
		l := "· " + c.header
		if c.required {
			l += "(必填)"
		}
		if c.help != "" {
			l += ":" + c.help
		}
		lines = append(lines, l)
	}
	for i, l := range lines {
		if err := f.SetCellValue(helpSheet, cell(0, i+1), l); err != nil {
			return err
		}
	}
	return f.SetColWidth(helpSheet, "A", "A", 120)
}

// codeOf maps a cell to a code: a label ("回族") or the code itself ("03"). Anything else is
// passed on as it is, for roster's validation to name.
func codeOf(list []roster.Code, v string) string {
	v = strings.TrimSpace(v)
	for _, c := range list {
		if c.Label == v || c.Code == v {
			return c.Code
		}
	}
	return v
}
