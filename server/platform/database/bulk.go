package database

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// DropSecondaryIndexes drops every index but the primary key of tables (MySQL/MariaDB) and
// returns what adds them again with the same definitions, in the same order. For bulk loads (the
// benchmarks' seeds): inserting in primary-key order with the secondary indexes absent and building
// each afterwards in one sort is far faster than keeping them row by row.
func DropSecondaryIndexes(ctx context.Context, db *sql.DB, tables ...string) (restore func(context.Context) error, err error) {
	type column struct {
		table, index, column string
		nonUnique            int
		sub                  sql.NullInt64
	}
	// SHOW INDEX lists the keys in the table's order, which is kept: the optimizer breaks ties
	// between equally good indexes by their order.
	var cols []column
	for _, tbl := range tables {
		rows, err := db.QueryContext(ctx, "SHOW INDEX FROM "+tbl)
		if err != nil {
			return nil, err
		}
		names, err := rows.Columns()
		if err != nil {
			rows.Close()
			return nil, err
		}
		for rows.Next() {
			vals := make([]sql.NullString, len(names))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			c := column{table: tbl}
			for i, n := range names {
				switch n {
				case "Key_name":
					c.index = vals[i].String
				case "Column_name":
					c.column = vals[i].String
				case "Non_unique":
					c.nonUnique, _ = strconv.Atoi(vals[i].String)
				case "Sub_part":
					if vals[i].Valid {
						n, _ := strconv.ParseInt(vals[i].String, 10, 64)
						c.sub = sql.NullInt64{Int64: n, Valid: true}
					}
				}
			}
			if c.index != "PRIMARY" {
				cols = append(cols, c)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	adds, drops := map[string][]string{}, map[string][]string{}
	for i := 0; i < len(cols); {
		j, parts := i, []string{}
		for ; j < len(cols) && cols[j].table == cols[i].table && cols[j].index == cols[i].index; j++ {
			p := "`" + cols[j].column + "`"
			if cols[j].sub.Valid {
				p += fmt.Sprintf("(%d)", cols[j].sub.Int64)
			}
			parts = append(parts, p)
		}
		kind := "INDEX"
		if cols[i].nonUnique == 0 {
			kind = "UNIQUE INDEX"
		}
		adds[cols[i].table] = append(adds[cols[i].table], fmt.Sprintf("ADD %s `%s` (%s)", kind, cols[i].index, strings.Join(parts, ", ")))
		drops[cols[i].table] = append(drops[cols[i].table], "DROP INDEX `"+cols[i].index+"`")
		i = j
	}
	for tbl, d := range drops {
		if _, err := db.ExecContext(ctx, "ALTER TABLE "+tbl+" "+strings.Join(d, ", ")); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context) error {
		for _, tbl := range tables {
			if a := adds[tbl]; len(a) > 0 {
				if _, err := db.ExecContext(ctx, "ALTER TABLE "+tbl+" "+strings.Join(a, ", ")); err != nil {
					return err
				}
			}
		}
		return nil
	}, nil
}
