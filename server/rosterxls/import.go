package rosterxls

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/xuri/excelize/v2"
)

// Limits of an import file, checked before excelize parses a byte of it. An .xlsx is a zip, and
// a few hundred kilobytes can inflate to hundreds of megabytes of XML: a 581 KB workbook that
// expanded to 179 MB took 41 s of CPU and 300 MB of memory. The template filled with 20,000 rows
// unpacks to about 12 MB; what Excel adds (styles, other sheets) stays well inside the limit.
const (
	// MaxUnpackedBytes bounds the sum of the uncompressed sizes of all parts. archive/zip refuses
	// to read more than a part declares, so the declared sizes can be trusted.
	MaxUnpackedBytes = 64 << 20
	maxParts         = 1000
	// maxSheetRows bounds the rows read, blank ones included: a sheet of millions of empty
	// <row/> elements is small unpacked but slow to walk.
	maxSheetRows = 5 * roster.MaxImportRows
)

// Parsed is an import file read into roster rows, keeping the cells as they were for the error
// report.
type Parsed struct {
	Rows    []roster.ImportRow
	headers []string
	cells   map[int][]string // sheet row number → cells as read
	colOf   map[string]int   // field → column index in the file
	order   []int            // data row numbers in sheet order
}

const notXLSX = "文件不是有效的Excel(.xlsx)文件,请使用下载的导入模板填写"

func fileError(msg string) error {
	return apperr.New(http.StatusBadRequest, "invalid_file", msg).WithField("file", msg)
}

// tooBigError refuses a workbook that unpacks to more than a roster can be, before it is parsed.
func tooBigError() error {
	msg := fmt.Sprintf("Excel文件解压后超过%dMB,超出名册导入的上限;请只保留名册工作表,分批导入(每次不超过%d行)",
		MaxUnpackedBytes>>20, roster.MaxImportRows)
	return apperr.New(http.StatusRequestEntityTooLarge, "workbook_too_large", msg).WithField("file", msg)
}

// tooManyRowsError refuses a sheet with more rows than one import takes, as soon as they are counted.
func tooManyRowsError(msg string) error {
	return apperr.New(http.StatusRequestEntityTooLarge, "too_many_rows", msg).WithField("file", msg)
}

// checkPacking refuses, from the zip directory alone, a file that is not a zip or that unpacks to
// more than MaxUnpackedBytes.
func checkPacking(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fileError(notXLSX)
	}
	if len(zr.File) > maxParts {
		return tooBigError()
	}
	var total uint64
	for _, f := range zr.File {
		if f.UncompressedSize64 > MaxUnpackedBytes {
			return tooBigError()
		}
		if total += f.UncompressedSize64; total > MaxUnpackedBytes {
			return tooBigError()
		}
	}
	return nil
}

// Parse reads the roster sheet of an .xlsx file (the sheet named 指导员名册, else the first):
// columns are found by their headers, so their order does not matter and extra columns (such as
// the error column of a report being re-uploaded) are ignored; blank rows are skipped. The file's
// unpacked size is checked first, and rows are streamed and counted as they come, so a file
// built to be expensive is refused before it costs much.
func Parse(data []byte) (*Parsed, error) {
	if err := checkPacking(data); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: MaxUnpackedBytes})
	if err != nil {
		return nil, fileError(notXLSX)
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
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fileError("无法读取工作表“" + sheet + "”")
	}
	defer rows.Close()
	var p *Parsed
	n := 0 // sheet row number: Next also yields the rows a sheet leaves out, as blank
	for rows.Next() {
		n++
		if n > maxSheetRows {
			return nil, tooManyRowsError(fmt.Sprintf("工作表超过%d行(含空行);一次最多导入%d行,请删除多余的行或分批导入",
				maxSheetRows, roster.MaxImportRows))
		}
		row, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fileError("无法读取工作表“" + sheet + "”")
		}
		if n == 1 {
			if p, err = readHeaders(row); err != nil {
				return nil, err
			}
			continue
		}
		if blank(row) {
			continue
		}
		if len(p.Rows) == roster.MaxImportRows {
			return nil, tooManyRowsError(fmt.Sprintf("一次最多导入%d行,请分批导入", roster.MaxImportRows))
		}
		p.add(n, row)
	}
	if err := rows.Error(); err != nil {
		return nil, fileError("无法读取工作表“" + sheet + "”")
	}
	if p == nil {
		return nil, fileError("工作表“" + sheet + "”是空的")
	}
	if len(p.Rows) == 0 {
		return nil, fileError("文件中没有数据行")
	}
	return p, nil
}

// readHeaders finds the columns by the headers of the first row.
func readHeaders(headers []string) (*Parsed, error) {
	p := &Parsed{headers: headers, cells: map[int][]string{}, colOf: map[string]int{}}
	for i, h := range headers {
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
	return p, nil
}

// add keeps data row n.
func (p *Parsed) add(n int, row []string) {
	get := func(field string) string {
		i, ok := p.colOf[field]
		if !ok || i >= len(row) {
			return ""
		}
		return strings.TrimSpace(row[i])
	}
	p.cells[n] = row
	p.order = append(p.order, n)
	p.Rows = append(p.Rows, roster.ImportRow{
		Row:        n,
		UnitName:   get("unit_name"),
		UnitKind:   codeOf(roster.UnitKinds, get("unit_kind")),
		RegionCode: get("region_code"),
		TermStart:  dateCell(get("term_start")),
		Person: roster.InstructorInput{
			Name: get("name"), Gender: codeOf(roster.Genders, get("gender")),
			Ethnicity: codeOf(roster.Ethnicities, get("ethnicity")), Phone: get("phone"),
			IDNumber: get("id_number"), PoliticalStatus: codeOf(roster.PoliticalStatuses, get("political_status")),
			Position: get("position"), SourceCategory: codeOf(roster.SourceCategories, get("source_category")),
		},
	})
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
