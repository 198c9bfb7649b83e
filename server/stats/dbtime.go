package stats

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// dbTime scans a time that SQLite may return as text: an aggregate (MAX) of a time column has no
// declared type there, so the driver does not turn it into a time.Time.
type dbTime struct {
	Time  time.Time
	Valid bool
}

var textTimeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00"}

func (t *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = dbTime{}
		return nil
	case time.Time:
		*t = dbTime{Time: x.UTC(), Valid: true}
		return nil
	case []byte:
		return t.parse(string(x))
	case string:
		return t.parse(x)
	}
	return fmt.Errorf("stats: cannot scan %T as a time", v)
}

func (t *dbTime) parse(s string) error {
	for _, l := range textTimeLayouts {
		if p, err := time.Parse(l, s); err == nil {
			*t = dbTime{Time: p.UTC(), Valid: true}
			return nil
		}
	}
	return fmt.Errorf("stats: cannot parse time %q", s)
}

// Value makes dbTime a column type to GORM (it is only ever read).
func (t dbTime) Value() (driver.Value, error) {
	if !t.Valid {
		return nil, nil
	}
	return t.Time, nil
}

// ptr is the time or nil.
func (t dbTime) ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}
