package stats

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/record"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Fact is what one record counts for, as last tallied: its region and month and the metrics it
// adds one to. Keeping it lets a change subtract exactly what the record counted for before,
// whatever changed (status, occurred_at, a tip's level or timestamps, a mediation's outcome).
type Fact struct {
	RecordID   int64 `gorm:"primaryKey;autoIncrement:false"`
	RegionCode string
	Month      int // YYYYMM of occurred_at in Beijing time
	OccurredAt time.Time
	Counted    bool   // false once withdrawn
	Metrics    string // metric keys, sorted, space separated
}

func (Fact) TableName() string { return "stats_record_facts" }

// Count is one part of a cell of the monthly aggregate: how many records of a region (at one
// grain) in one month count for a metric, among the records of one slot. A cell is the sum of its
// slots: each record counts in the slot of its id, so concurrent submissions in one county update
// different rows instead of queueing on one lock (the county's and its city's rows were taken by
// every submission's transaction), and readers sum, which they do anyway across regions.
type Count struct {
	Grain      int    `gorm:"primaryKey;autoIncrement:false"`
	RegionCode string `gorm:"primaryKey"`
	Month      int    `gorm:"primaryKey;autoIncrement:false"`
	Metric     string `gorm:"primaryKey"`
	Slot       int    `gorm:"primaryKey;autoIncrement:false"`
	N          int64
}

// Slots is how many rows a cell is spread over: two cores' worth of writers per county and a
// margin; a county query sums at most 16 rows per month and metric.
const Slots = 16

func slotOf(recordID int64) int { return int(recordID % Slots) }

func (Count) TableName() string { return "stats_monthly" }

// Grains of the aggregate. Each record counts twice: under its city and under its county. A
// province or city query reads city rows (11 per month and metric), a county query its county's.
// Below a county there are too few records to be worth aggregating (a township has a few thousand
// a year): those queries count the records themselves (countRecords).
const (
	GrainCity   = 2
	GrainCounty = 3
)

var grains = []int{GrainCity, GrainCounty}

// grainCode is the region a record at code counts under at grain g.
func grainCode(code string, g int) string {
	if g == GrainCity {
		return code[:4] + "00000000"
	}
	return code[:6] + "000000"
}

// grainFor is the grain a query for a region at this level (province, city or county) reads.
func grainFor(level int) int {
	if level <= 2 {
		return GrainCity
	}
	return GrainCounty
}

// Metric keys. Each counted record adds one to "r:<kind>"; a tip also to its level and state (a
// tip marked as a duplicate of another only to "t:dup"), and to the bucket of its time to
// acknowledge and to resolve under its level ("a:<level>:<bucket>", "z:<level>:<bucket>": the
// acknowledge deadline is per level, so on-time counts need the level); a mediation to its
// current outcome. Keys written before migration 32 had no level ("a:<bucket>"); readers still
// count them in the totals, and the migration's recount replaces them.
const (
	metricRecords   = "r:"
	metricTip       = "t:"
	metricDuplicate = "t:dup"
	metricAck       = "a:"
	metricResolve   = "z:"
	metricOutcome   = "m:"
	// A counted record also adds one to its role of the five (§三) and to each of its tags.
	metricRole = "role:"
	metricTag  = "tag:"
)

// monthOf is the YYYYMM of t in Beijing time.
func monthOf(t time.Time) int {
	l := t.In(clock.Shanghai)
	return l.Year()*100 + int(l.Month())
}

// source is what a fact is computed from: a record, and its tip or mediation fields.
type source struct {
	Kind       string
	RegionCode string
	Status     string
	OccurredAt time.Time
	Role, Tags string
	Tip        *record.Tip
	Outcome    string
}

// sourceOfRecord is what a fact is computed from that the record row holds.
func sourceOfRecord(rec *record.Record) source {
	return source{Kind: rec.Kind, RegionCode: rec.RegionCode, Status: rec.Status, OccurredAt: rec.OccurredAt, Role: rec.Role, Tags: rec.Tags}
}

func sourceOf(rec *record.Record, d record.Detail) source {
	s := sourceOfRecord(rec)
	switch v := d.(type) {
	case *record.Tip:
		s.Tip = v
	case *record.Mediation:
		s.Outcome = v.Outcome
	}
	return s
}

func factOf(id int64, s source) Fact {
	f := Fact{RecordID: id, RegionCode: s.RegionCode, Month: monthOf(s.OccurredAt), OccurredAt: s.OccurredAt.UTC(),
		Counted: s.Status != record.StatusWithdrawn}
	if !f.Counted {
		return f
	}
	keys := []string{metricRecords + s.Kind}
	if t := s.Tip; t != nil {
		if t.DuplicateOf != nil {
			keys = append(keys, metricDuplicate)
		} else {
			keys = append(keys, metricTip+t.Level+":"+s.Status)
			if t.AcknowledgedAt != nil {
				keys = append(keys, metricAck+t.Level+":"+strconv.FormatInt(bucketOf(t.AcknowledgedAt.Sub(t.SubmittedAt)), 10))
			}
			if t.ResolvedAt != nil && s.Status == "resolved" {
				keys = append(keys, metricResolve+t.Level+":"+strconv.FormatInt(bucketOf(t.ResolvedAt.Sub(t.SubmittedAt)), 10))
			}
		}
	}
	if s.Outcome != "" {
		keys = append(keys, metricOutcome+s.Outcome)
	}
	if s.Role != "" {
		keys = append(keys, metricRole+s.Role)
	}
	if s.Tags != "" {
		for _, t := range record.SplitTags(s.Tags) {
			keys = append(keys, metricTag+t)
		}
	}
	slices.Sort(keys)
	f.Metrics = strings.Join(keys, " ")
	return f
}

func (f Fact) same(g Fact) bool {
	return f.RegionCode == g.RegionCode && f.Month == g.Month && f.OccurredAt.Equal(g.OccurredAt) &&
		f.Counted == g.Counted && f.Metrics == g.Metrics
}

// cell is a key of the aggregate.
type cell struct {
	grain  int
	region string
	month  int
	metric string
	slot   int
}

type deltas map[cell]int64

func (d deltas) add(f Fact, sign int64) {
	if f.Metrics == "" {
		return
	}
	for _, m := range strings.Fields(f.Metrics) {
		for _, g := range grains {
			d[cell{g, grainCode(f.RegionCode, g), f.Month, m, slotOf(f.RecordID)}] += sign
		}
	}
}

// apply adds the deltas in one statement per 500 cells, in key order so that concurrent
// transactions lock shared rows in the same order.
func (d deltas) apply(tx *gorm.DB) error {
	cells := make([]cell, 0, len(d))
	for c, n := range d {
		if n != 0 {
			cells = append(cells, c)
		}
	}
	slices.SortFunc(cells, func(a, b cell) int {
		return cmp.Or(cmp.Compare(a.grain, b.grain), cmp.Compare(a.region, b.region), cmp.Compare(a.month, b.month),
			cmp.Compare(a.metric, b.metric), cmp.Compare(a.slot, b.slot))
	})
	upsert := "ON CONFLICT (grain, region_code, month, metric, slot) DO UPDATE SET n = stats_monthly.n + excluded.n"
	if tx.Dialector.Name() == "mysql" {
		upsert = "ON DUPLICATE KEY UPDATE n = n + VALUES(n)"
	}
	for chunk := range slices.Chunk(cells, 500) {
		var sb strings.Builder
		args := make([]any, 0, len(chunk)*6)
		sb.WriteString("INSERT INTO stats_monthly (grain, region_code, month, metric, slot, n) VALUES ")
		for i, c := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?,?,?)")
			args = append(args, c.grain, c.region, c.month, c.metric, c.slot, d[c])
		}
		sb.WriteByte(' ')
		sb.WriteString(upsert)
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("stats: update aggregate: %w", err)
		}
	}
	return nil
}

// Tally keeps the statistics in step with the records. It is the record service's hook
// (record.Options.Tally): every submission and change calls it in its own transaction once the
// record and its detail are saved, so the aggregate commits or rolls back with the change.
type Tally struct{}

// Tally recounts one record: it subtracts what the record counted for before and adds what it
// counts for now. A record being submitted (created) counted for nothing before, so its fact is
// not looked for.
func (Tally) Tally(tx *gorm.DB, rec *record.Record, d record.Detail, created bool) error {
	now := factOf(rec.ID, sourceOf(rec, d))
	var before *Fact
	if !created {
		var old []Fact
		if err := tx.Where("record_id = ?", rec.ID).Limit(1).Find(&old).Error; err != nil {
			return err
		}
		if len(old) == 1 {
			if old[0].same(now) {
				return nil
			}
			before = &old[0]
		}
	}
	dl := deltas{}
	if before != nil {
		dl.add(*before, -1)
	}
	dl.add(now, 1)
	if err := dl.apply(tx); err != nil {
		return err
	}
	save := tx
	if !created {
		save = tx.Clauses(clause.OnConflict{UpdateAll: true})
	}
	if err := save.Create(&now).Error; err != nil {
		return err
	}
	return touchActivity(tx, rec.AuthorID, before, now)
}

// touchActivity moves an instructor's latest record (instructors.last_record_at, migration 14)
// forward, or recounts it when the change took away what may have been the latest (a withdrawal,
// an earlier occurred_at).
func touchActivity(tx *gorm.DB, authorID int64, before *Fact, now Fact) error {
	if before != nil && before.Counted && (!now.Counted || now.OccurredAt.Before(before.OccurredAt)) {
		return recountActivity(tx, authorID)
	}
	if !now.Counted {
		return nil
	}
	return moveActivity(tx, authorID, now.OccurredAt)
}

// moveActivity sets an instructor's latest record unless a later one is there already.
func moveActivity(tx *gorm.DB, instructorID int64, at time.Time) error {
	return tx.Exec("UPDATE instructors SET last_record_at = ? WHERE id = ? AND (last_record_at IS NULL OR last_record_at < ?)",
		at.UTC(), instructorID, at.UTC()).Error
}

func recountActivity(tx *gorm.DB, authorID int64) error {
	var last []time.Time
	if err := tx.Model(&record.Record{}).Where("author_id = ? AND status <> ?", authorID, record.StatusWithdrawn).
		Order("occurred_at DESC").Limit(1).Pluck("occurred_at", &last).Error; err != nil {
		return err
	}
	var at *time.Time
	if len(last) > 0 {
		t := last[0].UTC()
		at = &t
	}
	return tx.Exec("UPDATE instructors SET last_record_at = ? WHERE id = ?", at, authorID).Error
}
