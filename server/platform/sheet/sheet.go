// Package sheet writes a table into an .xlsx workbook the way Shiliu's exports look: one sheet, a
// bold shaded header row that stays in view, set column widths, then the rows, streamed to a
// temporary file as they come so a 50,000-row export does not hold every cell in memory.
package sheet

import (
	"github.com/xuri/excelize/v2"
)

// ContentType is the MIME type of .xlsx files.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Table is one sheet being written: Header once, then Row for each row, then Finish.
type Table struct {
	f    *excelize.File
	sw   *excelize.StreamWriter
	rows int
}

// New starts a workbook whose only sheet is called name (at most 31 characters, none of []:*?/\).
func New(name string) (*Table, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	return &Table{f: f, sw: sw}, nil
}

// HeaderStyle is the style of header cells: bold on light blue.
func HeaderStyle(f *excelize.File) (int, error) {
	return f.NewStyle(&excelize.Style{
		Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
	})
}

// Header writes the header row with the column widths (a width of 0 keeps Excel's default).
// The stream takes widths and panes only before its first row.
func (t *Table) Header(titles []string, widths []float64) error {
	head, err := HeaderStyle(t.f)
	if err != nil {
		return err
	}
	for i, w := range widths {
		if w <= 0 {
			continue
		}
		if err := t.sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	if err := t.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	row := make([]any, len(titles))
	for i, h := range titles {
		row[i] = excelize.Cell{StyleID: head, Value: h}
	}
	t.rows = 1
	return t.sw.SetRow("A1", row, excelize.RowOpts{Height: 20})
}

// Row appends a row below the header.
func (t *Table) Row(cells []any) error {
	t.rows++
	cell, err := excelize.CoordinatesToCellName(1, t.rows)
	if err != nil {
		return err
	}
	return t.sw.SetRow(cell, cells)
}

// Rows is how many rows are written, the header included.
func (t *Table) Rows() int { return t.rows }

// Finish ends the stream and returns the workbook.
func (t *Table) Finish() (*excelize.File, error) {
	if err := t.sw.Flush(); err != nil {
		return nil, err
	}
	return t.f, nil
}

// Close removes the temporary file a long stream spills to; call it once the workbook is sent
// (or abandoned).
func (t *Table) Close() error { return t.f.Close() }
