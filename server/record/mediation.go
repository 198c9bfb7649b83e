package record

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/roster"
	"gorm.io/gorm"
)

// Dispute mediation records (矛盾纠纷调解记录): follow-up visits are appended later by
// the mediator or staff, and disputes not settled stay on the county's list.
var mediationKind = &Kind{
	Name: "mediation", Path: "mediations", Label: "矛盾纠纷调解记录", Steps: outbox.MediationSteps,
	Initial:  "submitted",
	Statuses: []Code{{Code: "submitted", Label: "已提交"}},
	Codes:    map[string][]Code{"dispute_kind": DisputeKinds, "mediation_outcome": Outcomes, "party_role": PartyRoles},
	New:      func() Detail { return &Mediation{} },
	Load:     loadMediations,
	Columns:  mediationColumns,
	Filter: func(q *gorm.DB, get func(string) string, f *fields) *gorm.DB {
		switch get("unsettled") {
		case "":
		case "true":
			q = q.Where("status <> ? AND id IN (SELECT record_id FROM record_mediations WHERE outcome <> ?)", StatusWithdrawn, OutcomeSettled)
		case "false":
			q = q.Where("id IN (SELECT record_id FROM record_mediations WHERE outcome = ?)", OutcomeSettled)
		default:
			f.fail("unsettled", "unsettled应为true或false")
		}
		if o := get("outcome"); o != "" {
			f.oneOf("outcome", "调解结果", o, false, Outcomes)
			q = q.Where("id IN (SELECT record_id FROM record_mediations WHERE outcome = ?)", o)
		}
		if dk := get("dispute_kind"); dk != "" {
			f.oneOf("dispute_kind", "纠纷类型", dk, false, DisputeKinds)
			q = q.Where("id IN (SELECT record_id FROM record_mediations WHERE dispute_kind = ?)", dk)
		}
		return q
	},
	Actions: []Action{
		{Name: "followups", Label: "回访", Who: ByAuthorOrStaff, From: []string{"submitted", StatusReturned},
			Event: outbox.MediationFollowedUp, Created: true, Apply: addFollowup},
	},
}

// OutcomeSettled is the outcome that takes a dispute off the unsettled list.
const OutcomeSettled = "settled"

// Outcomes of a mediation.
var Outcomes = []Code{
	{Code: OutcomeSettled, Label: "调解成功"},
	{Code: "partly_settled", Label: "部分调解成功"},
	{Code: "failed", Label: "调解不成功"},
	{Code: "referred", Label: "已移交有关部门"},
}

// DisputeKinds classify disputes.
var DisputeKinds = []Code{
	{Code: "neighborhood", Label: "邻里纠纷"},
	{Code: "marriage_family", Label: "婚姻家庭纠纷"},
	{Code: "land", Label: "土地山林纠纷"},
	{Code: "housing", Label: "房屋宅基地纠纷"},
	{Code: "labor", Label: "劳动争议"},
	{Code: "contract_debt", Label: "合同债务纠纷"},
	{Code: "business", Label: "经营纠纷"},
	{Code: "customs", Label: "风俗习惯纠纷"},
	{Code: "religious", Label: "涉及宗教因素纠纷"},
	{Code: "other", Label: "其他"},
}

// PartyRoles are the parts people play in a dispute.
var PartyRoles = []Code{
	{Code: "applicant", Label: "申请人"},
	{Code: "respondent", Label: "被申请人"},
	{Code: "interested", Label: "利害关系人"},
	{Code: "other", Label: "其他"},
}

const maxParties = 20

// Party is one party to a dispute.
type Party struct {
	Name      string `json:"name"`
	Ethnicity string `json:"ethnicity"`
	Role      string `json:"role"`
}

// Mediation is a mediation record's own fields. The current outcome may change with a follow-up.
type Mediation struct {
	RecordID    int64 `gorm:"primaryKey;autoIncrement:false"`
	DisputeKind string
	Parties     string // JSON array of Party
	Process     string
	Outcome     string
	Agreement   string

	followups []Followup
}

func (Mediation) TableName() string { return "record_mediations" }

// Followup is a follow-up visit appended to a mediation record.
type Followup struct {
	ID             int64
	RecordID       int64
	VisitedAt      time.Time
	Content        string
	Outcome        string
	ActorAccountID int64
	ActorRole      string
	ActorName      string
	CreatedAt      time.Time
}

func (Followup) TableName() string { return "mediation_followups" }

func (d *Mediation) recordID() int64      { return d.RecordID }
func (d *Mediation) setRecordID(id int64) { d.RecordID = id }
func (d *Mediation) text() string         { return d.Process + "\n" + d.Agreement }

func (d *Mediation) parties() []Party {
	var ps []Party
	if d.Parties != "" {
		_ = json.Unmarshal([]byte(d.Parties), &ps)
	}
	return ps
}

func (d *Mediation) apply(f *fields) {
	f.str("dispute_kind", "纠纷类型", &d.DisputeKind)
	var ps []Party
	if f.decode("parties", "当事人", "对象数组(每项含name、ethnicity、role)", &ps) {
		for i := range ps {
			ps[i].Name = strings.TrimSpace(ps[i].Name)
		}
		b, _ := json.Marshal(ps)
		d.Parties = string(b)
	}
	f.str("process", "调解过程", &d.Process)
	f.str("outcome", "调解结果", &d.Outcome)
	f.str("agreement", "调解协议", &d.Agreement)
}

func (d *Mediation) check(f *fields) {
	f.oneOf("dispute_kind", "纠纷类型", d.DisputeKind, true, DisputeKinds)
	ps := d.parties()
	f.check(len(ps) > 0, "parties", "当事人不能为空")
	f.check(len(ps) <= maxParties, "parties", fmt.Sprintf("当事人最多%d个", maxParties))
	for i, p := range ps {
		n := fmt.Sprintf("parties[%d].", i)
		f.required(n+"name", "当事人姓名", p.Name, 50)
		f.oneOf(n+"ethnicity", "当事人民族", p.Ethnicity, true, roster.Ethnicities)
		f.oneOf(n+"role", "当事人角色", p.Role, true, PartyRoles)
	}
	f.required("process", "调解过程", d.Process, 2000)
	f.oneOf("outcome", "调解结果", d.Outcome, true, Outcomes)
	f.maxLen("agreement", "调解协议", d.Agreement, 2000)
}

func loadMediations(db *gorm.DB, ids []int64) (map[int64]Detail, error) {
	m, err := loadRows[Mediation](db, ids)
	if err != nil {
		return nil, err
	}
	var rows []Followup
	if err := db.Where("record_id IN ?", ids).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		if d, ok := m[r.RecordID]; ok {
			md := d.(*Mediation)
			md.followups = append(md.followups, r)
		}
	}
	return m, nil
}

// addFollowup appends a follow-up visit; an outcome given with it becomes the dispute's outcome.
func addFollowup(c *change, f *fields) {
	d := c.detail.(*Mediation)
	fu := Followup{RecordID: c.rec.ID, ActorAccountID: c.actor.AccountID, ActorRole: c.actor.Role, ActorName: c.actor.Name, CreatedAt: c.now}
	if f.time("visited_at", "回访时间", &fu.VisitedAt) {
		f.check(!fu.VisitedAt.After(c.now.Add(MaxFuture)), "visited_at", "回访时间不能晚于当前时间")
		f.check(!fu.VisitedAt.Before(c.now.Add(-MaxPast)), "visited_at", "回访时间不能早于一年前")
	} else if !f.has("visited_at") {
		f.fail("visited_at", "回访时间不能为空")
	}
	f.str("content", "回访情况", &fu.Content)
	f.required("content", "回访情况", fu.Content, 1000)
	if f.str("outcome", "调解结果", &fu.Outcome) {
		f.oneOf("outcome", "调解结果", fu.Outcome, false, Outcomes)
	}
	if f.v.Err() != nil {
		return
	}
	if err := c.tx.Create(&fu).Error; err != nil {
		c.err = err
		return
	}
	if fu.Outcome != "" {
		d.Outcome = fu.Outcome
	}
	d.followups = append(d.followups, fu)
	c.facts.FollowupID = fu.ID
	if c.note == "" {
		c.note = fu.Content
	}
}

// MediationView is a mediation record's own fields as the API shows them.
type MediationView struct {
	DisputeKind     string         `json:"dispute_kind"`
	DisputeKindName string         `json:"dispute_kind_name"`
	Parties         []PartyView    `json:"parties"`
	Process         string         `json:"process"`
	Outcome         string         `json:"outcome"`
	OutcomeName     string         `json:"outcome_name"`
	Settled         bool           `json:"settled"`
	Agreement       string         `json:"agreement"`
	Followups       []FollowupView `json:"followups"`
}

// PartyView is a party with the names of its codes.
type PartyView struct {
	Name          string `json:"name"`
	Ethnicity     string `json:"ethnicity"`
	EthnicityName string `json:"ethnicity_name"`
	Role          string `json:"role"`
	RoleName      string `json:"role_name"`
}

// FollowupView is a follow-up visit as the API shows it.
type FollowupView struct {
	ID          int64     `json:"id"`
	VisitedAt   time.Time `json:"visited_at"`
	Content     string    `json:"content"`
	Outcome     string    `json:"outcome"`
	OutcomeName string    `json:"outcome_name"`
	Actor       Actor     `json:"actor"`
	CreatedAt   time.Time `json:"created_at"`
}

func (d *Mediation) view() any {
	v := MediationView{
		DisputeKind: d.DisputeKind, DisputeKindName: label(DisputeKinds, d.DisputeKind), Parties: []PartyView{},
		Process: d.Process, Outcome: d.Outcome, OutcomeName: label(Outcomes, d.Outcome), Settled: d.Outcome == OutcomeSettled,
		Agreement: d.Agreement, Followups: []FollowupView{},
	}
	for _, p := range d.parties() {
		v.Parties = append(v.Parties, PartyView{Name: p.Name, Ethnicity: p.Ethnicity, EthnicityName: label(roster.Ethnicities, p.Ethnicity),
			Role: p.Role, RoleName: label(PartyRoles, p.Role)})
	}
	for _, fu := range d.followups {
		v.Followups = append(v.Followups, FollowupView{ID: fu.ID, VisitedAt: clock.Local(fu.VisitedAt), Content: fu.Content,
			Outcome: fu.Outcome, OutcomeName: label(Outcomes, fu.Outcome),
			Actor: Actor{AccountID: fu.ActorAccountID, Role: fu.ActorRole, Name: fu.ActorName}, CreatedAt: clock.Local(fu.CreatedAt)})
	}
	return v
}

var mediationColumns = []Column{
	own("纠纷类型", 14, func(v MediationView) any { return v.DisputeKindName }),
	own("当事人", 30, func(v MediationView) any {
		ps := make([]string, len(v.Parties))
		for i, p := range v.Parties {
			ps[i] = p.Name + "(" + p.EthnicityName + "," + p.RoleName + ")"
		}
		return strings.Join(ps, ";")
	}),
	own("调解过程", 40, func(v MediationView) any { return v.Process }),
	own("调解结果", 12, func(v MediationView) any { return v.OutcomeName }),
	own("调解协议", 30, func(v MediationView) any { return v.Agreement }),
	own("回访次数", 8, func(v MediationView) any { return len(v.Followups) }),
	own("最近回访", 40, func(v MediationView) any {
		if len(v.Followups) == 0 {
			return ""
		}
		last := v.Followups[len(v.Followups)-1]
		return when(clock.Shown(last.VisitedAt)) + " " + last.Content
	}),
}
