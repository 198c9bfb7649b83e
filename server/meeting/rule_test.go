package meeting

import (
	"testing"
	"time"
)

func TestRuleDates(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time {
		d, err := time.ParseInLocation(dateLayout, s, time.FixedZone("CST", 8*3600))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	cases := []struct {
		name string
		rule Rule
		from string
		want []string
	}{
		{"first Monday across the year's end", Rule{Frequency: FrequencyMonthlyWeekday, Weekday: 1, WeekOfMonth: 1}, "2026-11-03",
			[]string{"2026-12-07", "2027-01-04", "2027-02-01", "2027-03-01", "2027-04-05"}},
		{"first Monday on the day itself", Rule{Frequency: FrequencyMonthlyWeekday, Weekday: 1, WeekOfMonth: 1}, "2026-11-02",
			[]string{"2026-11-02", "2026-12-07"}},
		{"last Friday", Rule{Frequency: FrequencyMonthlyWeekday, Weekday: 5, WeekOfMonth: LastWeek}, "2027-01-30",
			[]string{"2027-02-26", "2027-03-26", "2027-04-30"}},
		{"third Wednesday", Rule{Frequency: FrequencyMonthlyWeekday, Weekday: 3, WeekOfMonth: 3}, "2028-02-01",
			[]string{"2028-02-16", "2028-03-15"}},
		{"the 28th through February", Rule{Frequency: FrequencyMonthlyDay, MonthDay: 28}, "2028-01-29",
			[]string{"2028-02-28", "2028-03-28"}},
		{"the 5th", Rule{Frequency: FrequencyMonthlyDay, MonthDay: 5}, "2026-12-05",
			[]string{"2026-12-05", "2027-01-05"}},
		{"weekly on Sunday", Rule{Frequency: FrequencyWeekly, Weekday: 7}, "2026-12-28",
			[]string{"2027-01-03", "2027-01-10", "2027-01-17"}},
		{"weekly on the day itself", Rule{Frequency: FrequencyWeekly, Weekday: 1}, "2026-12-28",
			[]string{"2026-12-28", "2027-01-04"}},
	}
	for _, c := range cases {
		var got []string
		c.rule.Dates(day(c.from), func(seq int, d time.Time) bool {
			if seq != len(got)+1 {
				t.Fatalf("%s: seq %d after %d dates", c.name, seq, len(got))
			}
			got = append(got, d.Format(dateLayout))
			return len(got) < len(c.want)
		})
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
	if s := (Rule{Frequency: FrequencyMonthlyWeekday, Weekday: 1, WeekOfMonth: 1}).Text(); s != "每月第一个星期一" {
		t.Errorf("text %q", s)
	}
}
