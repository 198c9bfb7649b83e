package record

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"gorm.io/gorm"
)

// DefaultMaxExportRows caps one export: a county's records over years fit, a province-wide
// dump of everything does not, and a 50,000-row workbook (about 6 MB, 15 s to build at a
// million records) is what Excel on an office PC still opens comfortably.
const DefaultMaxExportRows = 50000

// exportPage is how many records an export reads and renders at a time.
const exportPage = 500

const timeLayout = "2006-01-02 15:04"

// Column is one column of an export: its Chinese header, its width in characters and the cell
// of a record as the list shows it (labels, not codes; Beijing time).
type Column struct {
	Header string
	Width  float64
	Cell   func(v View) any
}

// own is a column of a kind's own fields, read from the kind's view (TipView…).
func own[V any](header string, width float64, cell func(V) any) Column {
	return Column{Header: header, Width: width, Cell: func(v View) any {
		f, ok := v.Fields().(V)
		if !ok {
			return ""
		}
		return cell(f)
	}}
}

// Sheet receives an export: the header once, then every row.
type Sheet interface {
	Header(titles []string, widths []float64) error
	Row(cells []any) error
}

func errExportTooLarge(n int64, max int) error {
	return apperr.New(http.StatusBadRequest, "export_too_large",
		fmt.Sprintf("符合条件的记录有%d条,超过单次导出上限%d条。请缩小筛选范围(如地区、起止日期、状态)后分批导出", n, max))
}

// Export writes every record in scope that the list filters select, newest first: the common
// columns, then the kind's own when the export is of one kind. It reads the matching ids at
// once (no more than the cap, from an index where one serves) and the records a page at a time,
// refuses before writing anything when more records match than one export may hold, and
// returns how many rows it wrote.
func (s *Service) Export(ctx context.Context, p *access.Principal, f Filter, out Sheet) (int, error) {
	q, err := s.filtered(ctx, p, f)
	if err != nil {
		return 0, err
	}
	max := s.opt.MaxExportRows
	if max <= 0 {
		max = DefaultMaxExportRows
	}
	ids, err := s.exportIDs(ctx, p, f, q, max+1)
	if err != nil {
		return 0, err
	}
	if len(ids) > max {
		var total int64
		if err := q.Count(&total).Error; err != nil {
			return 0, err
		}
		return 0, errExportTooLarge(total, max)
	}
	k, _ := KindByName(f.Kind)
	cols := s.exportColumns(ctx, k)
	titles, widths := make([]string, len(cols)), make([]float64, len(cols))
	for i, c := range cols {
		titles[i], widths[i] = c.Header, c.Width
	}
	if err := out.Header(titles, widths); err != nil {
		return 0, err
	}
	n := 0
	for len(ids) > 0 {
		page := ids[:min(len(ids), exportPage)]
		ids = ids[len(page):]
		rows, err := s.byIDs(ctx, page)
		if err != nil {
			return n, err
		}
		views, err := s.views(ctx, rows, false)
		if err != nil {
			return n, err
		}
		for _, v := range views {
			cells := make([]any, len(cols))
			for i, c := range cols {
				cells[i] = c.Cell(v)
			}
			if err := out.Row(cells); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// exportIDs are the ids of the records an export holds, newest first, up to limit. A keyword is
// looked up in the full-text index as the list does (searchIDs), one page of limit rows: the
// same records as the LIKE query over the scope, without reading every record of the scope
// when the keyword is rare.
func (s *Service) exportIDs(ctx context.Context, p *access.Principal, f Filter, q *gorm.DB, limit int) ([]int64, error) {
	if f.Q != "" {
		f.Page = paging.Page{Limit: limit - 1}
		ids, err := s.searchIDs(ctx, p, f)
		if !errors.Is(err, fulltext.ErrUnusable) {
			return ids, err
		}
	}
	var ids []int64
	err := q.Order("id DESC").Limit(limit).Pluck("id", &ids).Error
	return ids, err
}

// exportColumns are the columns every record has, with the kind's own after them; an export of
// every kind (k nil) names each row's kind instead.
func (s *Service) exportColumns(ctx context.Context, k *Kind) []Column {
	cols := []Column{{Header: "编号", Width: 9, Cell: func(v View) any { return v.ID }}}
	if k == nil {
		cols = append(cols, Column{Header: "记录类型", Width: 16, Cell: func(v View) any { return v.KindName }})
	}
	cols = append(cols,
		Column{Header: "标题", Width: 28, Cell: func(v View) any { return v.Title }},
		Column{Header: "状态", Width: 10, Cell: func(v View) any { return v.StatusName }},
		Column{Header: "发生时间", Width: 17, Cell: func(v View) any { return when(v.OccurredAt) }},
		Column{Header: "提交时间", Width: 17, Cell: func(v View) any { return when(v.ReceivedAt) }},
		Column{Header: "指导员", Width: 10, Cell: func(v View) any { return v.AuthorName }},
		Column{Header: "所在单位", Width: 24, Cell: func(v View) any { return v.UnitName }},
		Column{Header: "所属县(市、区)", Width: 16, Cell: func(v View) any { return s.countyName(ctx, v.RegionCode) }},
		Column{Header: "所在区划", Width: 16, Cell: func(v View) any { return v.RegionName }},
		Column{Header: "区划代码", Width: 15, Cell: func(v View) any { return v.RegionCode }},
		Column{Header: "地点", Width: 20, Cell: func(v View) any { return v.Place }},
		Column{Header: "纬度", Width: 10, Cell: func(v View) any { return coordinate(v.Latitude) }},
		Column{Header: "经度", Width: 10, Cell: func(v View) any { return coordinate(v.Longitude) }},
		Column{Header: "附件数", Width: 7, Cell: func(v View) any { return len(v.Attachments) }},
		Column{Header: "发挥的作用", Width: 12, Cell: func(v View) any { return v.RoleName }},
		Column{Header: "标签", Width: 24, Cell: func(v View) any { return joinNames(v.TagNames) }},
	)
	if k != nil {
		cols = append(cols, k.Columns...)
	}
	return append(cols,
		Column{Header: "退回原因", Width: 20, Cell: func(v View) any { return v.ReturnNote }},
		Column{Header: "撤回原因", Width: 20, Cell: func(v View) any { return v.WithdrawReason }},
		Column{Header: "最后更新", Width: 17, Cell: func(v View) any { return when(v.UpdatedAt) }},
		Column{Header: "版本", Width: 6, Cell: func(v View) any { return v.Version }},
	)
}

// countyName names the county-level region a code lies in, for staff above the county sorting
// a city's rows.
func (s *Service) countyName(ctx context.Context, code string) string {
	if len(code) != 12 {
		return ""
	}
	return s.regionName(ctx, code[:6]+"000000")
}

// when is a time as exports show it: Beijing time to the minute; empty when unset.
func when(s clock.Stamp) string {
	t := s.Time()
	if t.IsZero() {
		return ""
	}
	return clock.Local(t).Format(timeLayout)
}

func whenPtr(t *clock.Stamp) string {
	if t == nil {
		return ""
	}
	return when(*t)
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

func coordinate(x *float64) any {
	if x == nil {
		return ""
	}
	return *x
}

func joinNames(names []string) string { return strings.Join(names, "、") }
