package record

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/sweep"
	"github.com/shiliu/shiliu/server/region"
	"gorm.io/gorm"
)

// Risk and early-warning tips (风险隐患/预警线索): county staff acknowledge, handle and
// resolve them, or escalate them to the city (general, serious) or the province (major,
// critical). A tip left unacknowledged past its level's deadline escalates by itself.
var tipKind = &Kind{
	Name: "tip", Path: "tips", Label: "风险隐患线索", Steps: outbox.TipSteps,
	Initial:  "submitted",
	Final:    []string{"resolved"},
	Statuses: tipStatuses,
	Codes:    map[string][]Code{"tip_level": TipLevels, "tip_kind": TipKinds, "escalation_level": EscalationLevels},
	New:      func() Detail { return &Tip{} },
	Load:     loadTips,
	Columns:  tipColumns,
	Filter:   filterTips,
	Prepare:  prepareTip,
	Guard: func(c *change) error {
		if d := c.detail.(*Tip); d.DuplicateOf != nil {
			return apperr.New(http.StatusConflict, "tip_is_duplicate",
				fmt.Sprintf("该线索已标记为重复线索,随原线索#%d处理,请处理原线索", *d.DuplicateOf))
		}
		return nil
	},
	After: moveDuplicates,
	Actions: []Action{
		{Name: "acknowledge", Label: "签收", Who: ByStaff, From: []string{"submitted", "escalated"}, To: "acknowledged", Event: outbox.TipAcknowledged,
			Apply: func(c *change, f *fields) { c.detail.(*Tip).acknowledge(c.now) }},
		{Name: "handle", Label: "处置", Who: ByStaff, From: []string{"acknowledged", "escalated"}, To: "handling", Event: outbox.TipHandling,
			Apply: func(c *change, f *fields) { c.detail.(*Tip).acknowledge(c.now) }},
		{Name: "resolve", Label: "化解", Who: ByStaff, From: []string{"acknowledged", "handling", "escalated"}, To: "resolved", Event: outbox.TipResolved,
			Apply: func(c *change, f *fields) {
				d := c.detail.(*Tip)
				d.acknowledge(c.now)
				d.ResolvedAt = ptr(c.now)
			}},
		{Name: "escalate", Label: "上报", Who: ByStaff, From: []string{"submitted", "acknowledged", "handling"}, To: "escalated", Event: outbox.TipEscalated,
			Apply: func(c *change, f *fields) { c.err = escalate(c) }},
		{Name: "duplicate", Label: "标记为重复线索", Who: ByStaff, From: []string{"submitted", "acknowledged", "handling", "escalated"}, Event: outbox.TipDuplicate,
			Apply: markDuplicate},
	},
}

var tipStatuses = []Code{
	{Code: "submitted", Label: "待签收"},
	{Code: "acknowledged", Label: "已签收"},
	{Code: "handling", Label: "处置中"},
	{Code: "escalated", Label: "已上报"},
	{Code: "resolved", Label: "已化解"},
}

// TipLevels are fixed by the measures' grading.
var TipLevels = []Code{
	{Code: "general", Label: "一般"},
	{Code: "serious", Label: "较大"},
	{Code: "major", Label: "重大"},
	{Code: "critical", Label: "特别重大"},
}

// TipKinds: tendency (倾向性), sign (苗头性), hazard (风险隐患).
var TipKinds = []Code{
	{Code: "tendency", Label: "倾向性"},
	{Code: "sign", Label: "苗头性"},
	{Code: "hazard", Label: "风险隐患"},
}

// EscalationLevels a tip can be escalated to.
var EscalationLevels = []Code{{Code: "city", Label: "市级"}, {Code: "province", Label: "省级"}}

// Tip is a tip's own fields and its workflow state. AckDeadline is set while the tip waits for
// acknowledgement: the sweep finds overdue tips by it, so the timer survives restarts.
type Tip struct {
	RecordID       int64 `gorm:"primaryKey;autoIncrement:false"`
	Level          string
	TipKind        string
	PeopleInvolved int
	GroupsInvolved string
	Description    string
	Ongoing        bool
	SubmittedAt    time.Time
	AckDeadline    *time.Time
	AcknowledgedAt *time.Time
	// EscalatedToLevel is the region level the tip went up to: 2 city, 1 province, 0 not escalated.
	EscalatedToLevel int
	EscalatedAt      *time.Time
	ResolvedAt       *time.Time
	DuplicateOf      *int64

	originalStatus string
}

func (Tip) TableName() string { return "record_tips" }

func (d *Tip) recordID() int64      { return d.RecordID }
func (d *Tip) setRecordID(id int64) { d.RecordID = id }
func (d *Tip) text() string         { return d.Description + "\n" + d.GroupsInvolved }

func (d *Tip) apply(f *fields) {
	f.str("level", "风险等级", &d.Level)
	f.str("kind", "线索类型", &d.TipKind)
	f.integer("people_involved", "涉及人数", &d.PeopleInvolved)
	f.str("groups_involved", "涉及群体", &d.GroupsInvolved)
	f.str("description", "线索描述", &d.Description)
	f.boolean("ongoing", "是否正在发生", &d.Ongoing)
}

func (d *Tip) check(f *fields) {
	f.oneOf("level", "风险等级", d.Level, true, TipLevels)
	f.oneOf("kind", "线索类型", d.TipKind, true, TipKinds)
	f.between("people_involved", "涉及人数", d.PeopleInvolved, 0, 1000000)
	f.maxLen("groups_involved", "涉及群体", d.GroupsInvolved, 200)
	f.required("description", "线索描述", d.Description, 2000)
}

func (d *Tip) acknowledge(now time.Time) {
	if d.AcknowledgedAt == nil {
		d.AcknowledgedAt = ptr(now)
	}
}

func (d *Tip) followedStatus() string {
	if d.DuplicateOf != nil && slices.ContainsFunc(tipStatuses, func(c Code) bool { return c.Code == d.originalStatus }) {
		return d.originalStatus
	}
	return ""
}

// TipView is a tip's own fields as the API shows them. The tip's kind is "kind" here: inside the
// "tip" object it cannot be mistaken for the record kind.
type TipView struct {
	Level           string       `json:"level"`
	LevelName       string       `json:"level_name"`
	Kind            string       `json:"kind"`
	KindName        string       `json:"kind_name"`
	PeopleInvolved  int          `json:"people_involved"`
	GroupsInvolved  string       `json:"groups_involved"`
	Description     string       `json:"description"`
	Ongoing         bool         `json:"ongoing"`
	AckDeadline     *clock.Stamp `json:"ack_deadline,omitempty"`
	AcknowledgedAt  *clock.Stamp `json:"acknowledged_at,omitempty"`
	EscalatedTo     string       `json:"escalated_to"`
	EscalatedToName string       `json:"escalated_to_name"`
	EscalatedAt     *clock.Stamp `json:"escalated_at,omitempty"`
	ResolvedAt      *clock.Stamp `json:"resolved_at,omitempty"`
	DuplicateOf     *int64       `json:"duplicate_of,omitempty"`
}

func (d *Tip) view() any {
	to := escalationName(d.EscalatedToLevel)
	return TipView{
		Level: d.Level, LevelName: label(TipLevels, d.Level), Kind: d.TipKind, KindName: label(TipKinds, d.TipKind),
		PeopleInvolved: d.PeopleInvolved, GroupsInvolved: d.GroupsInvolved, Description: d.Description, Ongoing: d.Ongoing,
		AckDeadline: clock.ShownPtr(d.AckDeadline), AcknowledgedAt: clock.ShownPtr(d.AcknowledgedAt),
		EscalatedTo: to, EscalatedToName: label(EscalationLevels, to), EscalatedAt: clock.ShownPtr(d.EscalatedAt),
		ResolvedAt: clock.ShownPtr(d.ResolvedAt), DuplicateOf: d.DuplicateOf,
	}
}

func escalationName(level int) string {
	switch level {
	case region.LevelCity:
		return "city"
	case region.LevelProvince:
		return "province"
	}
	return ""
}

// escalationTarget is where a tip of this level goes: the province for major and critical ones,
// the city otherwise.
func escalationTarget(level string) int {
	if level == "major" || level == "critical" {
		return region.LevelProvince
	}
	return region.LevelCity
}

func escalate(c *change) error {
	d := c.detail.(*Tip)
	target := escalationTarget(d.Level)
	if d.EscalatedToLevel != 0 && d.EscalatedToLevel <= target {
		return apperr.New(http.StatusConflict, "already_escalated",
			"该线索已上报至"+label(EscalationLevels, escalationName(d.EscalatedToLevel)))
	}
	d.EscalatedToLevel, d.EscalatedAt = target, ptr(c.now)
	c.facts.EscalatedTo = escalationName(target)
	return nil
}

func loadTips(db *gorm.DB, ids []int64) (map[int64]Detail, error) {
	m, err := loadRows[Tip](db, ids)
	if err != nil {
		return nil, err
	}
	var originals []int64
	for _, d := range m {
		if t := d.(*Tip); t.DuplicateOf != nil {
			originals = append(originals, *t.DuplicateOf)
		}
	}
	if len(originals) == 0 {
		return m, nil
	}
	var rows []struct {
		ID     int64
		Status string
	}
	if err := db.Model(&Record{}).Select("id", "status").Where("id IN ?", originals).Find(&rows).Error; err != nil {
		return nil, err
	}
	status := map[int64]string{}
	for _, r := range rows {
		status[r.ID] = r.Status
	}
	for _, d := range m {
		if t := d.(*Tip); t.DuplicateOf != nil {
			t.originalStatus = status[*t.DuplicateOf]
		}
	}
	return m, nil
}

func filterTips(q *gorm.DB, get func(string) string, f *fields) *gorm.DB {
	if lv := get("level"); lv != "" {
		f.oneOf("level", "风险等级", lv, false, TipLevels)
		q = q.Where("id IN (SELECT record_id FROM record_tips WHERE level = ?)", lv)
	}
	if k := get("tip_kind"); k != "" {
		f.oneOf("tip_kind", "线索类型", k, false, TipKinds)
		q = q.Where("id IN (SELECT record_id FROM record_tips WHERE tip_kind = ?)", k)
	}
	if to := get("escalated_to"); to != "" {
		f.oneOf("escalated_to", "上报层级", to, false, EscalationLevels)
		lv := region.LevelCity
		if to == "province" {
			lv = region.LevelProvince
		}
		q = q.Where("id IN (SELECT record_id FROM record_tips WHERE escalated_to_level = ?)", lv)
	}
	return q
}

// prepareTip keeps the acknowledge deadline in step with the tip: set from the (re)submission
// time while the tip waits for acknowledgement, cleared otherwise.
func prepareTip(c *change) error {
	d := c.detail.(*Tip)
	c.facts.Level = d.Level
	if c.rec.Status != "submitted" || d.DuplicateOf != nil {
		d.AckDeadline = nil
		return nil
	}
	if c.action == "submit" || c.action == "resubmit" || d.SubmittedAt.IsZero() {
		// A resubmitted tip starts over at the county, waiting for acknowledgement again.
		d.SubmittedAt, d.AcknowledgedAt, d.EscalatedToLevel, d.EscalatedAt = c.now, nil, 0, nil
	}
	dl := d.SubmittedAt.Add(c.s.ackDeadline(d.Level))
	d.AckDeadline = &dl
	c.facts.AckDeadline = clock.LocalPtr(&dl)
	return nil
}

func (s *Service) ackDeadline(level string) time.Duration {
	return AckDeadline(s.opt.AckDeadlines, level)
}

// AckDeadline is how long a tip of the level may wait for acknowledgement under the configured
// deadlines (Options.AckDeadlines): a level missing from them waits a day. The statistics count
// times to acknowledge against the same rule.
func AckDeadline(deadlines map[string]time.Duration, level string) time.Duration {
	if d, ok := deadlines[level]; ok && d > 0 {
		return d
	}
	return 24 * time.Hour
}

// markDuplicate makes the tip follow another tip in the caller's scope: two instructors reporting
// one incident. A chain is flattened to its root, and the tip's own duplicates move to the root.
func markDuplicate(c *change, f *fields) {
	var of int64
	if !f.decode("of", "原线索编号", "正整数", &of) {
		if !f.has("of") {
			f.fail("of", "原线索编号不能为空")
		}
		return
	}
	inScope := access.InRegion(c.p, "region_code")
	orig, err := c.s.find(c.tx, inScope, c.kind, of)
	if err != nil {
		if errors.Is(err, errNotFound) {
			f.fail("of", "原线索不存在或不在您的管辖范围内")
			return
		}
		c.err = err
		return
	}
	od, err := c.s.detail(c.tx, c.kind, of)
	if err != nil {
		c.err = err
		return
	}
	if root := od.(*Tip).DuplicateOf; root != nil {
		if orig, err = c.s.find(c.tx, inScope, c.kind, *root); err != nil {
			f.fail("of", "原线索不存在或不在您的管辖范围内")
			return
		}
		if od, err = c.s.detail(c.tx, c.kind, orig.ID); err != nil {
			c.err = err
			return
		}
	}
	if orig.ID == c.rec.ID {
		f.fail("of", "不能标记为本线索的重复线索")
		return
	}
	if orig.Status == StatusReturned || orig.Status == StatusWithdrawn {
		c.err = apperr.New(http.StatusConflict, "invalid_original", "原线索已被退回或撤回,不能作为原线索")
		return
	}
	d, o := c.detail.(*Tip), od.(*Tip)
	d.DuplicateOf = &orig.ID
	d.EscalatedToLevel, d.EscalatedAt = o.EscalatedToLevel, o.EscalatedAt
	c.rec.Status = orig.Status
	c.facts.DuplicateOf = orig.ID
	// The original's author may no longer change what others' reports now hang on.
	if err := c.tx.Model(&Record{}).Where("id = ?", orig.ID).Update("locked", true).Error; err != nil {
		c.err = err
		return
	}
	if err := c.tx.Model(&Tip{}).Where("duplicate_of = ?", c.rec.ID).Pluck("record_id", &c.moved).Error; err != nil {
		c.err = err
		return
	}
	if err := c.tx.Model(&Tip{}).Where("duplicate_of = ?", c.rec.ID).Update("duplicate_of", orig.ID).Error; err != nil {
		c.err = err
		return
	}
	c.followOf = orig.ID
}

// moveDuplicates carries a workflow transition of an original tip over to its duplicates, in the
// same transaction, each with its own version and timeline step.
func moveDuplicates(c *change) error {
	root, ids := c.rec.ID, []int64(nil)
	switch c.action {
	case "duplicate":
		// The tip's former duplicates now hang on the root and take its state.
		root, ids = c.followOf, c.moved
	case "acknowledge", "handle", "resolve", "escalate":
		if err := c.tx.Model(&Tip{}).Where("duplicate_of = ?", root).Pluck("record_id", &ids).Error; err != nil {
			return err
		}
	default:
		return nil
	}
	t := c.detail.(*Tip)
	status, level, at := c.rec.Status, t.EscalatedToLevel, t.EscalatedAt
	for _, id := range ids {
		rec, err := c.s.find(c.tx, scopeFor(access.System()), c.kind, id)
		if err != nil {
			return err
		}
		d, err := c.s.detail(c.tx, c.kind, id)
		if err != nil {
			return err
		}
		dt := d.(*Tip)
		dt.EscalatedToLevel, dt.EscalatedAt = level, at
		from := rec.Status
		rec.Status, rec.Locked = status, true
		fc := &change{s: c.s, tx: c.tx, p: c.p, actor: c.actor, kind: c.kind, rec: &rec, detail: d, now: c.now,
			action: "follow", from: from, note: fmt.Sprintf("随原线索#%d变更", root), quiet: true}
		fc.facts.Original = root
		if err := fc.commit(); err != nil {
			return err
		}
	}
	return nil
}

// ---- automatic escalation ----

const sweepBatch = 100

// EscalateOverdue escalates every tip left unacknowledged past its deadline and returns how many
// it escalated. Several instances may run it at once: each tip is claimed by an update guarded
// by the version it was read at, so a tip escalates once.
func (s *Service) EscalateOverdue(ctx context.Context) (int, error) {
	now := s.clock.Now()
	done := 0
	for {
		var ids []int64
		err := s.db.WithContext(ctx).Model(&Tip{}).Where("ack_deadline <= ?", now).Order("ack_deadline").
			Limit(sweepBatch).Pluck("record_id", &ids).Error
		if err != nil {
			return done, err
		}
		claimed := 0
		for _, id := range ids {
			ok, err := s.escalateOne(ctx, id, now)
			if err != nil {
				return done, err
			}
			if ok {
				done++
				claimed++
			}
		}
		if len(ids) < sweepBatch || claimed == 0 {
			return done, nil
		}
	}
}

func (s *Service) escalateOne(ctx context.Context, id int64, now time.Time) (bool, error) {
	escalated, regionCode := false, ""
	err := s.transact(ctx, func(tx *gorm.DB) error {
		escalated = false
		rec, err := s.find(tx, scopeFor(access.System()), tipKind, id)
		if err != nil {
			return err
		}
		d, err := s.detail(tx, tipKind, id)
		if err != nil {
			return err
		}
		t := d.(*Tip)
		if rec.Status != "submitted" || t.DuplicateOf != nil || t.AckDeadline == nil || t.AckDeadline.After(now) {
			if rec.Status != "submitted" {
				// A deadline left behind would be found again by every sweep.
				return tx.Model(&Tip{}).Where("record_id = ?", id).Update("ack_deadline", nil).Error
			}
			return nil
		}
		c := &change{s: s, tx: tx, p: access.System(), kind: tipKind, rec: &rec, detail: d, now: now, action: "escalate",
			from: rec.Status, event: outbox.TipEscalated, note: "超过签收时限未签收,系统自动上报"}
		if err := c.resolveActor(); err != nil {
			return err
		}
		c.facts.Automatic, c.facts.Deadline = true, clock.LocalPtr(t.AckDeadline)
		rec.Status, rec.Locked = "escalated", true
		if err := escalate(c); err != nil {
			return err
		}
		if err := c.commit(); err != nil {
			return err
		}
		escalated, regionCode = true, rec.RegionCode
		return nil
	})
	if err == nil && escalated {
		s.committed(tipKind, regionCode)
	}
	if errors.Is(err, errStale) || errors.Is(err, errNotFound) || apperr.Is(err, "already_escalated") {
		return false, nil // another instance or a staff member got there first
	}
	return escalated, err
}

// Sweep runs EscalateOverdue every interval until ctx ends; a zero interval disables it.
// It also writes the full-text entries left pending by a crash or a failed write
// (fulltext.Index.Repair).
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	if e, err := s.search.Setup(ctx); err != nil {
		s.log.Error("full-text index of records not set up", "err", err)
	} else if e == fulltext.None {
		s.log.Warn("no full-text index of records: keyword search reads every record in scope (LIKE). " +
			"On MariaDB install the Mroonga plugin (Debian: mariadb-plugin-mroonga) and restart")
	}
	repaired := make(chan struct{})
	go func() {
		defer close(repaired)
		s.search.Run(ctx, every, func(n int, err error) {
			if err != nil {
				s.log.Warn("full-text entries of records not written; retried", "err", err)
			} else {
				s.log.Debug("full-text entries of records written", "n", n)
			}
		})
	}()
	sweep.Counting(ctx, s.log, every, "tips escalated after their acknowledge deadline", s.EscalateOverdue)
	<-repaired
}

var tipColumns = []Column{
	own("风险等级", 9, func(v TipView) any { return v.LevelName }),
	own("线索类型", 9, func(v TipView) any { return v.KindName }),
	own("涉及人数", 8, func(v TipView) any { return v.PeopleInvolved }),
	own("涉及群体", 16, func(v TipView) any { return v.GroupsInvolved }),
	own("线索描述", 40, func(v TipView) any { return v.Description }),
	own("正在发生", 8, func(v TipView) any { return yesNo(v.Ongoing) }),
	own("签收时限", 17, func(v TipView) any { return whenPtr(v.AckDeadline) }),
	own("签收时间", 17, func(v TipView) any { return whenPtr(v.AcknowledgedAt) }),
	own("上报至", 7, func(v TipView) any { return v.EscalatedToName }),
	own("上报时间", 17, func(v TipView) any { return whenPtr(v.EscalatedAt) }),
	own("化解时间", 17, func(v TipView) any { return whenPtr(v.ResolvedAt) }),
	own("重复线索的原线索编号", 12, func(v TipView) any {
		if v.DuplicateOf == nil {
			return ""
		}
		return *v.DuplicateOf
	}),
}
