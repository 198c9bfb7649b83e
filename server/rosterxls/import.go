package rosterxls

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/xuri/excelize/v2"
)

// unzipLimit bounds what an uploaded workbook may inflate to: an .xlsx is a zip, and a small
// upload could otherwise expand into gigabytes.
const unzipLimit = 256 << 20

// Parsed is an import file read into roster rows, keeping the cells as they were for the error
// report.
type Parsed struct {
	Rows    []roster.ImportRow
	headers []string
	cells   map[int][]string // sheet row number → cells as read
	colOf   map[string]int   // field → column index in the file
	order   []int            // data row numbers in sheet order
}

func fileError(msg string) error {
	return apperr.New(http.StatusBadRequest, "invalid_file", msg).WithField("file", msg)
}

// Parse reads the roster sheet of an .xlsx file (the sheet named 指导员名册, else the first):
// columns are found by their headers, so their order does not matter and extra columns (such as
// the error column of a report being re-uploaded) are ignored; blank rows are skipped.
func Parse(r io.Reader) (*Parsed, error) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: unzipLimit})
	if err != nil {
		return nil, fileError("文件不是有效的Excel(.xlsx)文件,请使用下载的导入模板填写")
	}
	defer f.Close()
	sheet := RosterSheet
	if idx, _ := f.GetSheetIndex(sheet); idx < 0 {
		list := f.GetSheetList()
		if len(list) == 0 {
			return nil, fileError("文件中没有工作表")
		}
		sheet = list[0]
	}
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fileError("无法读取工作表“" + sheet + "”")
	}
	if len(rows) == 0 {
		return nil, fileError("工作表“" + sheet + "”是空的")
	}
	p := &Parsed{headers: rows[0], cells: map[int][]string{}, colOf: map[string]int{}}
	for i, h := range rows[0] {
		h = strings.NewReplacer("*", "", "*", "", " ", "", "\u3000", "").Replace(strings.TrimSpace(h))
		for _, c := range columns {
			if c.header == h {
				if _, dup := p.colOf[c.field]; dup {
					return nil, fileError("表头“" + c.header + "”出现了两次")
				}
				p.colOf[c.field] = i
			}
		}
	}
	var missing []string
	for _, c := range columns {
		if _, ok := p.colOf[c.field]; !ok && c.required {
			missing = append(missing, c.header)
		}
	}
	if len(missing) > 0 {
		return nil, fileError("第1行缺少表头:" + strings.Join(missing, "、") + "。请使用下载的导入模板")
	}
	get := func(row []string, field string) string {
		i, ok := p.colOf[field]
		if !ok || i >= len(row) {
			return ""
		}
		return strings.TrimSpace(row[i])
	}
	for i, row := range rows[1:] {
		n := i + 2
		if blank(row) {
			continue
		}
		if len(p.Rows) == roster.MaxImportRows {
			return nil, fileError(fmt.Sprintf("一次最多导入%d行,请分批导入", roster.MaxImportRows))
		}
		p.cells[n] = row
		p.order = append(p.order, n)
		p.Rows = append(p.Rows, roster.ImportRow{
			Row:        n,
			UnitName:   get(row, "unit_name"),
			UnitKind:   codeOf(roster.UnitKinds, get(row, "unit_kind")),
			RegionCode: get(row, "region_code"),
			TermStart:  dateCell(get(row, "term_start")),
			Person: roster.InstructorInput{
				Name: get(row, "name"), Gender: codeOf(roster.Genders, get(row, "gender")),
				Ethnicity: codeOf(roster.Ethnicities, get(row, "ethnicity")), Phone: get(row, "phone"),
				IDNumber: get(row, "id_number"), PoliticalStatus: codeOf(roster.PoliticalStatuses, get(row, "political_status")),
				Position: get(row, "position"), SourceCategory: codeOf(roster.SourceCategories, get(row, "source_category")),
			},
		})
	}
	if len(p.Rows) == 0 {
		return nil, fileError("文件中没有数据行")
	}
	return p, nil
}

func blank(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// dateCell reads a term start typed as text ("2024-05-01", "2024/5/1") or entered as an Excel
// date (a serial number).
func dateCell(v string) string {
	if v == "" {
		return ""
	}
	if serial, err := strconv.ParseFloat(v, 64); err == nil && serial > 0 && !strings.Contains(v, "-") {
		if t, err := excelize.ExcelDateToTime(serial, false); err == nil {
			return t.Format(roster.DateLayout)
		}
	}
	if parts := strings.Split(strings.ReplaceAll(v, "/", "-"), "-"); len(parts) == 3 {
		y, e1 := strconv.Atoi(parts[0])
		m, e2 := strconv.Atoi(parts[1])
		d, e3 := strconv.Atoi(parts[2])
		if e1 == nil && e2 == nil && e3 == nil {
			return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
		}
	}
	return v
}

// ErrorReport is the uploaded sheet with the problems marked: each bad cell filled red and an
// error column saying what is wrong, so staff fix the file in place and upload it again.
func (p *Parsed) ErrorReport(errs []roster.RowError) (*excelize.File, error) {
	byRow := map[int][]roster.RowError{}
	for _, e := range errs {
		byRow[e.Row] = append(byRow[e.Row], e)
	}
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", RosterSheet); err != nil {
		return nil, err
	}
	head, err := headerStyle(f)
	if err != nil {
		return nil, err
	}
	bad, err := f.NewStyle(&excelize.Style{NumFmt: 49, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}})
	if err != nil {
		return nil, err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return nil, err
	}
	note, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "C00000"}})
	if err != nil {
		return nil, err
	}
	width := len(p.headers)
	sw, err := f.NewStreamWriter(RosterSheet)
	if err != nil {
		return nil, err
	}
	if err := sw.SetColWidth(width+1, width+1, 60); err != nil {
		return nil, err
	}
	hdr := make([]any, 0, width+1)
	for _, h := range p.headers {
		hdr = append(hdr, excelize.Cell{StyleID: head, Value: h})
	}
	hdr = append(hdr, excelize.Cell{StyleID: head, Value: "错误说明"})
	if err := sw.SetRow("A1", hdr); err != nil {
		return nil, err
	}
	for _, n := range p.order {
		row := p.cells[n]
		badCol := map[int]bool{}
		var msgs []string
		for _, e := range byRow[n] {
			if c, ok := p.colOf[e.Field]; ok {
				badCol[c] = true
			}
			msgs = append(msgs, FieldHeader(e.Field)+":"+e.Message)
		}
		vals := make([]any, width+1)
		for c := 0; c < width; c++ {
			v := ""
			if c < len(row) {
				v = row[c]
			}
			style := text
			if badCol[c] {
				style = bad
			}
			vals[c] = excelize.Cell{StyleID: style, Value: v}
		}
		vals[width] = excelize.Cell{StyleID: note, Value: strings.Join(msgs, ";")}
		// Each row keeps its number, which the messages refer to.
		if err := sw.SetRow(cell(0, n), vals); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	return f, nil
}
