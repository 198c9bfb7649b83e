package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// capture keeps the SQL of the next list query the server runs, with its arguments inlined, so
// its plan can be asked for exactly as it was served.
type capture struct {
	mu    sync.Mutex
	armed bool
	sql   string
}

// register watches the queries read whole (Find) and by rows (database.Find, which a list page's
// rows go through).
func (c *capture) register(db *gorm.DB) error {
	keep := func(tx *gorm.DB) {
		// A subquery (the page's ids, joined as a derived table) is built by running the query
		// callbacks dry, with the whole query's arguments: the whole query is the one to explain.
		if tx.DryRun {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		text := tx.Statement.SQL.String()
		// The list query is the one on records with an order; lookups by id have none.
		if !c.armed || !strings.Contains(text, "FROM `records`") || !strings.Contains(text, "ORDER BY") {
			return
		}
		c.sql, c.armed = tx.Dialector.Explain(text, tx.Statement.Vars...), false
	}
	if err := db.Callback().Query().After("gorm:query").Register("bench:capture", keep); err != nil {
		return err
	}
	return db.Callback().Row().After("gorm:row").Register("bench:capture", keep)
}

func (c *capture) arm() {
	c.mu.Lock()
	c.armed, c.sql = true, ""
	c.mu.Unlock()
}

func (c *capture) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = false
	return c.sql
}

// explain returns the query and its plan as the database reports it (EXPLAIN on MySQL and
// MariaDB, EXPLAIN QUERY PLAN on SQLite).
func (b *bench) explain(ctx context.Context, query string) string {
	if query == "" {
		return ""
	}
	prefix := "EXPLAIN "
	if b.a.DB.Dialect == "sqlite" {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := b.a.DB.WithContext(ctx).Raw(prefix + query).Rows()
	if err != nil {
		return query + "\n" + err.Error() + "\n"
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out strings.Builder
	out.WriteString(query + "\n")
	out.WriteString(strings.Join(cols, " | ") + "\n")
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return out.String() + err.Error() + "\n"
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = v.String
			if !v.Valid {
				cells[i] = "NULL"
			}
		}
		fmt.Fprintln(&out, strings.Join(cells, " | "))
	}
	return out.String()
}
