package meeting

import (
	"fmt"
	"time"

	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/roster"
)

// Frequencies of a series.
const (
	FrequencyWeekly         = "weekly"          // every week on a weekday
	FrequencyMonthlyDay     = "monthly_day"     // every month on a day of the month
	FrequencyMonthlyWeekday = "monthly_weekday" // every month on the nth (or last) weekday
)

// Frequencies with their labels, for the API.
var Frequencies = []roster.Code{
	{Code: FrequencyWeekly, Label: "每周"}, {Code: FrequencyMonthlyDay, Label: "每月固定日期"},
	{Code: FrequencyMonthlyWeekday, Label: "每月第几个星期几"},
}

// LastWeek is the week_of_month of "the last weekday of the month".
const LastWeek = -1

// Rule says on which dates a series meets. Weekday is ISO: 1 Monday … 7 Sunday. MonthDay is 1–28,
// so that every month has it. WeekOfMonth is 1–4 or LastWeek.
type Rule struct {
	Frequency   string
	Weekday     int
	MonthDay    int
	WeekOfMonth int
}

const dateLayout = "2006-01-02"

// civil is a date in Asia/Shanghai at midnight. China keeps no daylight saving, so adding days and
// minutes to it gives the wall-clock time.
func civil(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, clock.Shanghai)
}

// isoWeekday is t's weekday, 1 Monday … 7 Sunday.
func isoWeekday(t time.Time) int {
	if wd := int(t.Weekday()); wd != 0 {
		return wd
	}
	return 7
}

// inMonth is the date of the rule in month m of year y, ok false when the month has none after
// from.
func (r Rule) inMonth(y int, m time.Month) time.Time {
	if r.Frequency == FrequencyMonthlyDay {
		return civil(y, m, r.MonthDay)
	}
	if r.WeekOfMonth == LastWeek {
		last := civil(y, m+1, 0)
		return last.AddDate(0, 0, -((isoWeekday(last) - r.Weekday + 7) % 7))
	}
	first := civil(y, m, 1)
	return first.AddDate(0, 0, (r.Weekday-isoWeekday(first)+7)%7+7*(r.WeekOfMonth-1))
}

// Dates calls fn with the rule's dates on or after from, numbered from 1, until fn returns false.
func (r Rule) Dates(from time.Time, fn func(seq int, day time.Time) bool) {
	from = civil(from.In(clock.Shanghai).Date())
	seq := 1
	if r.Frequency == FrequencyWeekly {
		d := from.AddDate(0, 0, (r.Weekday-isoWeekday(from)+7)%7)
		for ; fn(seq, d); seq++ {
			d = d.AddDate(0, 0, 7)
		}
		return
	}
	y, m, _ := from.Date()
	for i := 0; ; i++ {
		d := r.inMonth(y, m+time.Month(i))
		if d.Before(from) {
			continue
		}
		if !fn(seq, d) {
			return
		}
		seq++
	}
}

var weekdayNames = []string{"", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"}
var weekNames = map[int]string{1: "第一个", 2: "第二个", 3: "第三个", 4: "第四个", LastWeek: "最后一个"}

// Text says the rule in words: "每月第一个星期一".
func (r Rule) Text() string {
	switch r.Frequency {
	case FrequencyWeekly:
		return "每周" + weekdayNames[r.Weekday]
	case FrequencyMonthlyDay:
		return fmt.Sprintf("每月%d日", r.MonthDay)
	}
	return "每月" + weekNames[r.WeekOfMonth] + weekdayNames[r.Weekday]
}
