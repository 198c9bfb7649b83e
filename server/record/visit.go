package record

import (
	"slices"
	"strings"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/roster"
	"gorm.io/gorm"
)

// Visit logs (走访日志: policy publicity, condolence and home visits, help and activities) count
// toward an instructor's performance; staff may only return them for correction.
var visitKind = &Kind{
	Name: "visit", Path: "visits", Label: "走访日志", Steps: outbox.VisitSteps,
	Initial:  "submitted",
	Statuses: []Code{{Code: "submitted", Label: "已提交"}},
	Codes:    map[string][]Code{"visit_kind": VisitKinds},
	New:      func() Detail { return &Visit{} },
	Load:     loadRows[Visit],
	Columns:  visitColumns,
	Filter: func(q *gorm.DB, get func(string) string, f *fields) *gorm.DB {
		vk := get("visit_kind")
		f.oneOf("visit_kind", "走访类型", vk, false, VisitKinds)
		if vk != "" {
			q = q.Where("id IN (SELECT record_id FROM record_visits WHERE visit_kind = ?)", vk)
		}
		return q
	},
}

// VisitKinds are the kinds of visit work.
var VisitKinds = []Code{
	{Code: "policy_publicity", Label: "政策宣传"},
	{Code: "condolence", Label: "走访慰问"},
	{Code: "help_service", Label: "帮扶服务"},
	{Code: "activity", Label: "组织活动"},
	{Code: "home_visit", Label: "入户走访"},
	{Code: "other", Label: "其他"},
}

// Visit is a visit log's own fields.
type Visit struct {
	RecordID       int64 `gorm:"primaryKey;autoIncrement:false"`
	VisitKind      string
	Households     int
	People         int
	Ethnicities    string // GB/T 3304 codes, comma-separated
	Content        string
	FollowUpNeeded bool
}

func (Visit) TableName() string { return "record_visits" }

func (d *Visit) recordID() int64      { return d.RecordID }
func (d *Visit) setRecordID(id int64) { d.RecordID = id }
func (d *Visit) text() string         { return d.Content }

func (d *Visit) apply(f *fields) {
	f.str("visit_kind", "走访类型", &d.VisitKind)
	f.integer("households", "走访户数", &d.Households)
	f.integer("people", "走访人数", &d.People)
	var eth []string
	if f.strs("ethnicities", "涉及民族", &eth) {
		for _, e := range eth {
			f.oneOf("ethnicities", "涉及民族", e, true, roster.Ethnicities)
		}
		slices.Sort(eth)
		d.Ethnicities = strings.Join(slices.Compact(eth), ",")
	}
	f.str("content", "走访内容", &d.Content)
	f.boolean("follow_up_needed", "是否需要跟进", &d.FollowUpNeeded)
}

func (d *Visit) check(f *fields) {
	f.oneOf("visit_kind", "走访类型", d.VisitKind, true, VisitKinds)
	f.between("households", "走访户数", d.Households, 0, 100000)
	f.between("people", "走访人数", d.People, 0, 1000000)
	f.required("content", "走访内容", d.Content, 2000)
}

// VisitView is a visit log's own fields as the API shows them.
type VisitView struct {
	VisitKind      string   `json:"visit_kind"`
	VisitKindName  string   `json:"visit_kind_name"`
	Households     int      `json:"households"`
	People         int      `json:"people"`
	Ethnicities    []string `json:"ethnicities"`
	EthnicityNames []string `json:"ethnicity_names"`
	Content        string   `json:"content"`
	FollowUpNeeded bool     `json:"follow_up_needed"`
}

func (d *Visit) view() any {
	v := VisitView{VisitKind: d.VisitKind, VisitKindName: label(VisitKinds, d.VisitKind), Households: d.Households,
		People: d.People, Ethnicities: []string{}, EthnicityNames: []string{}, Content: d.Content, FollowUpNeeded: d.FollowUpNeeded}
	if d.Ethnicities != "" {
		v.Ethnicities = strings.Split(d.Ethnicities, ",")
		for _, e := range v.Ethnicities {
			v.EthnicityNames = append(v.EthnicityNames, label(roster.Ethnicities, e))
		}
	}
	return v
}

var visitColumns = []Column{
	own("走访类型", 10, func(v VisitView) any { return v.VisitKindName }),
	own("走访户数", 8, func(v VisitView) any { return v.Households }),
	own("走访人数", 8, func(v VisitView) any { return v.People }),
	own("涉及民族", 16, func(v VisitView) any { return joinNames(v.EthnicityNames) }),
	own("走访内容", 40, func(v VisitView) any { return v.Content }),
	own("需要跟进", 8, func(v VisitView) any { return yesNo(v.FollowUpNeeded) }),
}
