// Package stats is the statistics of the instructor database for a region
// subtree and a period of months: the roster by status, unit kind, ethnicity and source
// category; records by kind and month; tips by level and state with the median time to
// acknowledge and to resolve; the mediation settlement rate; meeting attendance; training hours;
// units without an instructor in office and instructors with no record in 90 days; and the
// per-instructor performance card the 3-year adjustment is decided on.
//
// Record counts for a county and above come from a monthly aggregate (per city and per county)
// kept in the transaction of every record change (Tally, the record service's hook), so the
// overview reads a few thousand aggregate rows however many million records there are; below a
// county the few thousand records of a period are counted directly. The attendance of ended
// meetings is counted once and kept. The roster and training are counted directly through
// covering indexes. docs/performance.md has the measurements.
package stats

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Defaults.
const (
	// InactiveDays is "no record in 90 days".
	InactiveDays = 90
	// SampleSize is how many units and instructors the overview names; the lists page through all.
	SampleSize = 10
	// MaxMonths bounds a period: the five years of the measures and then some.
	MaxMonths = 120
)

// Service reads the statistics. Every method takes the caller and answers only for regions in
// their subtree.
type Service struct {
	db      *gorm.DB
	regions *region.Store
	clock   clock.Clock
	// ackDeadlines are the configured acknowledge deadlines of tips by level (records.
	// tip_ack_deadlines), against which the times to acknowledge are counted.
	ackDeadlines map[string]time.Duration
}

// NewService wires the statistics. ackDeadlines is the record service's configuration; a level
// missing from it has the record service's default.
func NewService(db *gorm.DB, regions *region.Store, clk clock.Clock, ackDeadlines map[string]time.Duration) *Service {
	return &Service{db: db, regions: regions, clock: clk, ackDeadlines: ackDeadlines}
}

var (
	errStaffOnly        = apperr.Forbidden("只有民族工作部门工作人员可以查看统计")
	errRegionOutOfScope = apperr.Forbidden("该行政区划不在您的管辖范围内").WithField("region_code", "不在您的管辖范围内")
	errNotFound         = apperr.New(http.StatusNotFound, "instructor_not_found", "指导员不存在或不在您的管辖范围内")
)

// Period is a span of whole months in Beijing time, both ends included, as YYYYMM.
type Period struct {
	From, To int
}

func monthString(m int) string {
	return time.Date(m/100, time.Month(m%100), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

func monthStart(m int) time.Time {
	return time.Date(m/100, time.Month(m%100), 1, 0, 0, 0, 0, clock.Shanghai).UTC()
}

func nextMonth(m int) int {
	if m%100 == 12 {
		return (m/100+1)*100 + 1
	}
	return m + 1
}

// Start is the first instant of the period; End the first instant after it.
func (p Period) Start() time.Time { return monthStart(p.From) }
func (p Period) End() time.Time   { return monthStart(nextMonth(p.To)) }

// Months lists the period's months in order.
func (p Period) Months() []int {
	var out []int
	for m := p.From; m <= p.To; m = nextMonth(m) {
		out = append(out, m)
	}
	return out
}

func parseMonth(v *validate.Checker, field, s string) (int, bool) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		v.Fail(field, "月份应为“2025-01”格式,2000年至2100年之间")
		return 0, false
	}
	return t.Year()*100 + int(t.Month()), true
}

// ParsePeriod reads from and to ("2025-01"); by default the year so far.
func (s *Service) ParsePeriod(from, to string) (Period, error) {
	now := monthOf(s.clock.Now())
	p := Period{From: now/100*100 + 1, To: now}
	var v validate.Checker
	fromOK, toOK := true, true
	if from != "" {
		p.From, fromOK = parseMonth(&v, "from", from)
	}
	if to != "" {
		p.To, toOK = parseMonth(&v, "to", to)
	}
	if fromOK && toOK {
		switch {
		case p.From > p.To:
			v.Fail("to", "结束月份不能早于开始月份")
		case len(p.Months()) > MaxMonths:
			v.Fail("to", "统计期间最长"+strconv.Itoa(MaxMonths)+"个月")
		}
	}
	return p, v.Err()
}

// scope is a region subtree the caller asked about and may see.
type scope struct {
	p      *access.Principal
	code   string
	prefix string
	level  int
}

// where limits a query on regionColumn to the scope: the caller's subtree and the asked region.
func (sc scope) where(regionColumn string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Scopes(access.InRegion(sc.p, regionColumn), access.Subtree(regionColumn, sc.prefix))
	}
}

// resolve checks the caller is staff and the region (their own by default) exists and lies in
// their subtree.
func (s *Service) resolve(ctx context.Context, p *access.Principal, code string) (scope, region.Region, error) {
	if !p.IsStaff() {
		return scope{}, region.Region{}, errStaffOnly
	}
	if code == "" {
		code = p.RegionCode
	}
	if !region.ValidCode(code) {
		return scope{}, region.Region{}, apperr.Field("region_code", "行政区划代码应为12位数字")
	}
	r, err := s.regions.Get(ctx, code)
	if errors.Is(err, region.ErrNotFound) {
		return scope{}, region.Region{}, apperr.New(http.StatusNotFound, "region_not_found", "行政区划不存在").
			WithField("region_code", "行政区划代码不存在")
	}
	if err != nil {
		return scope{}, region.Region{}, err
	}
	if !p.CanSeeRegion(code) {
		return scope{}, region.Region{}, errRegionOutOfScope
	}
	return scope{p: p, code: code, prefix: region.Prefix(code), level: region.LevelOf(code)}, r, nil
}

func (s *Service) regionName(ctx context.Context, code string) string {
	if r, err := s.regions.Get(ctx, code); err == nil {
		return r.Name
	}
	return ""
}

// rate is part/whole rounded to four places, nil when there is no whole.
func rate(part, whole int64) *float64 {
	if whole <= 0 {
		return nil
	}
	v := float64(part) / float64(whole)
	v = float64(int64(v*10000+0.5)) / 10000
	return &v
}
