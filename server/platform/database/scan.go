package database

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// Find runs q and reads its rows into a slice of T, each column into the field GORM would read it
// into (T's schema: the field's name, or its column tag).
//
// It is for the pages of a list, where GORM's Find was the largest cost in Go: for each column of
// each row it scans into a pooled temporary, then sets the field through reflection, and it grows
// the slice through reflection too. On a page of 100 tips that was 30 % of the server's CPU, half
// of it GORM's own work besides the driver's (docs/performance.md). Here each column is scanned
// straight into its field. The query runs through GORM's row callbacks (replica routing, the
// statement log), as Find's does.
//
// A NULL read into a field that is not a pointer leaves the zero value, as GORM does (a LEFT
// JOIN's name that is not there). A column with no field in T is an error, not skipped: it is a
// query that asks for what it cannot show. size is how many rows the caller expects at most (a
// page's limit, the ids asked for): the slice is made that big once rather than grown.
//
// On SQLite the statement is kept prepared (GORM's statement cache, per connection): the pure-Go
// driver compiles anew every statement it is not given prepared, and on a page of 100 tips
// compiling was up to 15 % of the process's CPU (with the connections Open no longer closes).
// Only here, for reads: see Open for why not every statement.
func Find[T any](q *gorm.DB, size int) ([]T, error) {
	if q.Dialector.Name() == "sqlite" {
		q = q.Session(&gorm.Session{PrepareStmt: true})
	}
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	fields, err := fieldsOf(reflect.TypeFor[T](), cols, q.NamingStrategy)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, size)
	dest := make([]any, len(cols))
	for rows.Next() {
		var zero T
		out = append(out, zero)
		row := reflect.ValueOf(&out[len(out)-1]).Elem()
		for i, f := range fields {
			dest[i] = f.target(row.FieldByIndex(f.path).Addr().Interface())
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// field is where a column goes: the field's index path (reflect.Value.FieldByIndex), and what
// the field's address is scanned through.
type field struct {
	path   []int
	target func(addr any) any
}

// fieldCache keeps fieldsOf by type and columns: a list asks the same columns on every page.
var fieldCache sync.Map // fieldsKey → []field

type fieldsKey struct {
	t    reflect.Type
	cols string
}

// schemas is the cache schema.Parse fills (GORM keeps its own cache private to its DB).
var schemas sync.Map

// fieldsOf are the fields of t that cols are read into.
func fieldsOf(t reflect.Type, cols []string, namer schema.Namer) ([]field, error) {
	key := fieldsKey{t: t, cols: strings.Join(cols, ",")}
	if f, ok := fieldCache.Load(key); ok {
		return f.([]field), nil
	}
	s, err := schema.Parse(reflect.New(t).Interface(), &schemas, namer)
	if err != nil {
		return nil, fmt.Errorf("database: scan into %s: %w", t, err)
	}
	out := make([]field, len(cols))
	for i, c := range cols {
		f := s.LookUpField(c)
		if f == nil || f.DBName == "" {
			return nil, fmt.Errorf("database: scan into %s: no field for column %q", t, c)
		}
		for _, x := range f.StructField.Index {
			if x < 0 { // a field of an embedded pointer, which may be nil
				return nil, fmt.Errorf("database: scan into %s: column %q is in an embedded pointer", t, c)
			}
		}
		target, ok := targetFor(f.FieldType)
		if !ok {
			return nil, fmt.Errorf("database: scan into %s: column %q: field of type %s", t, c, f.FieldType)
		}
		out[i] = field{path: f.StructField.Index, target: target}
	}
	fieldCache.Store(key, out)
	return out, nil
}

// targetFor is how a field of type t is scanned: a pointer or a sql.Scanner takes NULL itself;
// the plain types take it as their zero value (orZero).
func targetFor(t reflect.Type) (func(addr any) any, bool) {
	if t.Kind() == reflect.Pointer || reflect.PointerTo(t).Implements(reflect.TypeFor[sql.Scanner]()) {
		return func(addr any) any { return addr }, true
	}
	switch t {
	case reflect.TypeFor[string]():
		return orZeroOf[string], true
	case reflect.TypeFor[int]():
		return orZeroOf[int], true
	case reflect.TypeFor[int64]():
		return orZeroOf[int64], true
	case reflect.TypeFor[bool]():
		return orZeroOf[bool], true
	case reflect.TypeFor[float64]():
		return orZeroOf[float64], true
	case reflect.TypeFor[time.Time]():
		return orZeroOf[time.Time], true
	}
	return nil, false
}

// orZero scans a value into *p, and NULL as T's zero value. It is one pointer wide, so making
// an interface of it allocates nothing; the values drivers give for the plain types are stored
// without database/sql's conversion, whose temporary would be allocated for every column of
// every row.
type orZero[T any] struct{ p *T }

func orZeroOf[T any](addr any) any { return orZero[T]{addr.(*T)} }

func (o orZero[T]) Scan(src any) error {
	if src == nil {
		var zero T
		*o.p = zero
		return nil
	}
	if v, ok := src.(T); ok { // int64, float64, time.Time, SQLite's text
		*o.p = v
		return nil
	}
	switch p := any(o.p).(type) {
	case *string:
		if b, ok := src.([]byte); ok { // MySQL's text
			*p = string(b)
			return nil
		}
	case *int:
		if i, ok := src.(int64); ok {
			*p = int(i)
			return nil
		}
	case *bool:
		if i, ok := src.(int64); ok { // SQLite's and MySQL's booleans are integers
			*p = i != 0
			return nil
		}
	}
	var v sql.Null[T] // anything else, as database/sql converts it
	if err := v.Scan(src); err != nil {
		return err
	}
	*o.p = v.V
	return nil
}
