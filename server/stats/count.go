package stats

import (
	"strings"

	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/region"
	"gorm.io/gorm"
)

// monthMetric is how many records of a region count for one metric in one month.
type monthMetric struct {
	Month  int
	Metric string
	N      int64
}

// recordCounts reads the monthly aggregate for a county or above. Below a county it counts the
// records of the period themselves, with the same rules as the aggregate (factOf): a township
// has a few thousand records a year, and its range of the region index finds them.
func (s *Service) recordCounts(db *gorm.DB, sc scope, period Period) ([]monthMetric, error) {
	var rows []monthMetric
	if sc.level <= region.LevelCounty {
		q := db.Model(&Count{}).Select("month, metric, SUM(n) AS n").
			Where("grain = ? AND month >= ? AND month <= ?", grainFor(sc.level), period.From, period.To).
			Scopes(sc.where("region_code"))
		if sc.level > region.LevelProvince {
			// A city or county is one region of its grain: the key reads only the months asked.
			q = q.Where("region_code = ?", sc.code)
		}
		err := q.Group("month, metric").Scan(&rows).Error
		return rows, err
	}
	var recs []record.Record
	if err := db.Select(factColumns).Scopes(sc.where("region_code")).
		Where("occurred_at >= ? AND occurred_at < ? AND status <> ?", period.Start(), period.End(), record.StatusWithdrawn).
		Find(&recs).Error; err != nil {
		return nil, err
	}
	srcs, err := sources(db, recs)
	if err != nil {
		return nil, err
	}
	type key struct {
		month  int
		metric string
	}
	counts := map[key]int64{}
	for _, r := range recs {
		f := factOf(r.ID, srcs[r.ID])
		for _, m := range strings.Fields(f.Metrics) {
			counts[key{f.Month, m}]++
		}
	}
	for k, n := range counts {
		rows = append(rows, monthMetric{Month: k.month, Metric: k.metric, N: n})
	}
	return rows, nil
}
