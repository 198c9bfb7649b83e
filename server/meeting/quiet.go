package meeting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Bounds of the quiet-county list's look-back.
const (
	DefaultQuietDays = 30
	MaxQuietDays     = 366
)

var errOverseerOnly = apperr.Forbidden("只有市级、省级民族工作部门可以查看各县例会召开情况")

// QuietCounty is a county that held no meeting in the period, with its last meeting held.
type QuietCounty struct {
	RegionCode    string     `json:"region_code"`
	RegionName    string     `json:"region_name"`
	CityCode      string     `json:"city_code"`
	CityName      string     `json:"city_name"`
	LastHeldAt    *time.Time `json:"last_held_at,omitempty"`
	LastMeetingID *int64     `json:"last_meeting_id,omitempty"`
	// DaysSince is how many days ago the last meeting started; absent when none ever was.
	DaysSince *int `json:"days_since,omitempty"`
}

// QuietView lists the counties of the caller's subtree that held no meeting since Since, those
// that never held one first, then the longest quiet.
type QuietView struct {
	Days     int           `json:"days"`
	Since    time.Time     `json:"since"`
	Counties int           `json:"counties"`
	Items    []QuietCounty `json:"items"`
}

// ParseQuietDays reads the days query parameter: empty for the default, else a whole number
// within the bounds.
func ParseQuietDays(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultQuietDays, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxQuietDays {
		return 0, apperr.Field("days", fmt.Sprintf("天数应为1到%d之间的整数", MaxQuietDays))
	}
	return n, nil
}

// QuietCounties lists the counties of the caller's subtree (narrowed to regionCode, a city, if
// given) where no meeting was held (started and not cancelled) in the last days days.
func (s *Service) QuietCounties(ctx context.Context, p *access.Principal, days int, regionCode string) (QuietView, error) {
	if !p.IsStaff() || region.LevelOf(p.RegionCode) > region.LevelCity {
		return QuietView{}, errOverseerOnly
	}
	var v validate.Checker
	v.RegionCode("region_code", regionCode)
	v.Check(days >= 1 && days <= MaxQuietDays, "days", fmt.Sprintf("天数应为1到%d之间的整数", MaxQuietDays))
	if regionCode != "" && v.Err() == nil {
		v.Check(p.CanSeeRegion(regionCode), "region_code", "地区不在您的管辖范围内")
		v.Check(region.LevelOf(regionCode) <= region.LevelCity, "region_code", "请选择市或省")
	}
	if err := v.Err(); err != nil {
		return QuietView{}, err
	}
	if regionCode == "" {
		regionCode = p.RegionCode
	}
	var cities []region.Region
	if region.LevelOf(regionCode) == region.LevelCity {
		c, err := s.regions.Get(ctx, regionCode)
		if err != nil {
			return QuietView{}, err
		}
		cities = []region.Region{c}
	} else {
		var err error
		if cities, err = s.regions.Children(ctx, regionCode); err != nil {
			return QuietView{}, err
		}
	}
	now := s.clock.Now()
	since := now.Add(-time.Duration(days) * 24 * time.Hour)
	db := s.db.WithContext(ctx)
	var held []string
	if err := db.Model(&Meeting{}).Scopes(access.InRegion(p, "region_code"), access.UnderRegion("region_code", regionCode)).
		Where("status = ? AND starts_at > ? AND starts_at <= ?", StatusScheduled, since, now).
		Distinct("region_code").Pluck("region_code", &held).Error; err != nil {
		return QuietView{}, err
	}
	active := map[string]bool{}
	for _, c := range held {
		active[c] = true
	}
	out := QuietView{Days: days, Since: clock.Local(since), Items: []QuietCounty{}}
	var never, quiet []QuietCounty
	for _, city := range cities {
		counties, err := s.regions.Children(ctx, city.Code)
		if err != nil {
			return QuietView{}, err
		}
		for _, c := range counties {
			out.Counties++
			if active[c.Code] {
				continue
			}
			q := QuietCounty{RegionCode: c.Code, RegionName: c.Name, CityCode: city.Code, CityName: city.Name}
			var last Meeting
			err := db.Select("id", "starts_at").Where("region_code = ? AND status = ? AND starts_at <= ?", c.Code, StatusScheduled, now).
				Order("starts_at DESC").Take(&last).Error
			switch {
			case errors.Is(err, gorm.ErrRecordNotFound):
				never = append(never, q)
				continue
			case err != nil:
				return QuietView{}, err
			}
			at, id, n := clock.Local(last.StartsAt), last.ID, int(now.Sub(last.StartsAt)/(24*time.Hour))
			q.LastHeldAt, q.LastMeetingID, q.DaysSince = &at, &id, &n
			quiet = append(quiet, q)
		}
	}
	// The longest quiet first.
	slices.SortStableFunc(quiet, func(a, b QuietCounty) int { return a.LastHeldAt.Compare(*b.LastHeldAt) })
	out.Items = append(append(out.Items, never...), quiet...)
	return out, nil
}
