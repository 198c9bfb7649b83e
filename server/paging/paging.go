// Package paging is the cursor pagination every list uses: newest first by id, the cursor an
// opaque token for "ids below this one", so pages stay stable while new rows arrive.
package paging

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/shiliu/shiliu/server/apperr"
	"gorm.io/gorm"
)

const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Page is a parsed request for one page.
type Page struct {
	Limit  int
	before int64
}

// Parse reads the cursor and limit query parameters.
func Parse(cursor, limit string) (Page, error) {
	p := Page{Limit: DefaultLimit}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxLimit {
			return p, apperr.Field("limit", "每页条数应为1到100之间的整数")
		}
		p.Limit = n
	}
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		id, err2 := strconv.ParseInt(strings.TrimPrefix(string(raw), "id:"), 10, 64)
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "id:") || id <= 0 {
			return p, apperr.Field("cursor", "分页游标无效,请从第一页重新加载")
		}
		p.before = id
	}
	return p, nil
}

// Before is the id the page starts below (the cursor), 0 for the first page.
func (p Page) Before() int64 { return p.before }

// Apply orders by idColumn descending, skips to the cursor and fetches one extra row to know
// whether there is a next page.
func (p Page) Apply(idColumn string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if p.before > 0 {
			db = db.Where(idColumn+" < ?", p.before)
		}
		return db.Order(idColumn + " DESC").Limit(p.Limit + 1)
	}
}

// Trim cuts the extra row and returns the cursor of the next page ("" at the end).
func Trim[T any](p Page, rows []T, id func(T) int64) ([]T, string) {
	if len(rows) <= p.Limit {
		return rows, ""
	}
	rows = rows[:p.Limit]
	return rows, Cursor(id(rows[len(rows)-1]))
}

// Cursor encodes the position after the row with this id.
func Cursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("id:" + strconv.FormatInt(id, 10)))
}
