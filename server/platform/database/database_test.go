package database

import (
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	cases := []struct {
		in      string
		dialect Dialect
		has     []string
	}{
		{"mysql://shiliu:p%40ss@db.internal:3307/shiliu?timeout=3s", MySQL, []string{"shiliu:p@ss@tcp(db.internal:3307)/shiliu", "parseTime=true", "charset=utf8mb4"}},
		{"mysql://root@127.0.0.1/test", MySQL, []string{"root@tcp(127.0.0.1:3306)/test"}},
		{"root@tcp(127.0.0.1:3306)/test", MySQL, []string{"parseTime=true", "time_zone="}},
		{"file:data/shiliu.db", SQLite, []string{"file:data/shiliu.db"}},
		{"/var/lib/shiliu/shiliu.db", SQLite, []string{"/var/lib/shiliu/shiliu.db"}},
	}
	for _, c := range cases {
		d, dsn, err := Parse(c.in)
		if err != nil || d != c.dialect {
			t.Errorf("Parse(%s) = %s, %v", c.in, d, err)
			continue
		}
		for _, h := range c.has {
			if !strings.Contains(dsn, h) {
				t.Errorf("Parse(%s) = %s, missing %s", c.in, dsn, h)
			}
		}
	}
}
