package record

import (
	"time"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"gorm.io/gorm"
)

// Public sentiment reports (民情报告) close a loop: the county forwards the report to
// a named department, records its answer, and the reporting instructor sees that answer.
var sentimentKind = &Kind{
	Name: "sentiment", Path: "sentiments", Label: "民情报告", Steps: outbox.SentimentSteps,
	Initial: "open",
	Final:   []string{"closed"},
	Statuses: []Code{
		{Code: "open", Label: "待处理"},
		{Code: "forwarded", Label: "已转达"},
		{Code: "answered", Label: "已答复"},
		{Code: "closed", Label: "已办结"},
	},
	Codes: map[string][]Code{"sentiment_category": SentimentCategories, "urgency": Urgencies},
	New:   func() Detail { return &Sentiment{} },
	Load:  loadRows[Sentiment],
	Filter: func(q *gorm.DB, get func(string) string, f *fields) *gorm.DB {
		if u := get("urgency"); u != "" {
			f.oneOf("urgency", "紧急程度", u, false, Urgencies)
			q = q.Where("id IN (SELECT record_id FROM record_sentiments WHERE urgency = ?)", u)
		}
		if cat := get("category"); cat != "" {
			f.oneOf("category", "类别", cat, false, SentimentCategories)
			q = q.Where("id IN (SELECT record_id FROM record_sentiments WHERE category = ?)", cat)
		}
		return q
	},
	Columns: sentimentColumns,
	Actions: []Action{
		{Name: "forward", Label: "转达", Who: ByStaff, From: []string{"open", "forwarded"}, To: "forwarded", Event: outbox.SentimentForwarded,
			Apply: func(c *change, f *fields) {
				d := c.detail.(*Sentiment)
				var dept string
				f.str("department", "转达部门", &dept)
				f.required("department", "转达部门", dept, 50)
				d.ForwardedTo, d.ForwardedAt = dept, ptr(c.now)
				c.facts.Department = dept
			}},
		{Name: "answer", Label: "答复", Who: ByStaff, From: []string{"open", "forwarded", "answered"}, To: "answered", Event: outbox.SentimentAnswered,
			Apply: func(c *change, f *fields) {
				d := c.detail.(*Sentiment)
				var answer string
				f.str("answer", "答复内容", &answer)
				f.required("answer", "答复内容", answer, 2000)
				d.Answer, d.AnsweredAt = answer, ptr(c.now)
				c.facts.Answer = answer
			}},
		{Name: "close", Label: "办结", Who: ByStaff, From: []string{"answered"}, To: "closed", Event: outbox.SentimentClosed,
			Apply: func(c *change, f *fields) { c.detail.(*Sentiment).ClosedAt = ptr(c.now) }},
	},
}

// SentimentCategories classify what people raise.
var SentimentCategories = []Code{
	{Code: "livelihood", Label: "民生诉求"},
	{Code: "employment", Label: "就业创业"},
	{Code: "education", Label: "教育"},
	{Code: "healthcare", Label: "医疗卫生"},
	{Code: "social_security", Label: "社会保障"},
	{Code: "land_housing", Label: "土地房屋"},
	{Code: "ethnic_relations", Label: "民族关系"},
	{Code: "religious_affairs", Label: "宗教事务"},
	{Code: "public_order", Label: "社会治安"},
	{Code: "policy", Label: "政策落实"},
	{Code: "customs_culture", Label: "风俗文化"},
	{Code: "other", Label: "其他"},
}

// Urgencies of a sentiment report.
var Urgencies = []Code{
	{Code: "normal", Label: "一般"},
	{Code: "urgent", Label: "紧急"},
	{Code: "very_urgent", Label: "特别紧急"},
}

// Sentiment is a sentiment report's own fields; the forwarding and the answer are set by staff.
type Sentiment struct {
	RecordID       int64 `gorm:"primaryKey;autoIncrement:false"`
	Category       string
	Content        string
	PeopleAffected int
	Urgency        string
	Suggestion     string
	ForwardedTo    string
	ForwardedAt    *time.Time
	Answer         string
	AnsweredAt     *time.Time
	ClosedAt       *time.Time
}

func (Sentiment) TableName() string { return "record_sentiments" }

func (d *Sentiment) recordID() int64      { return d.RecordID }
func (d *Sentiment) setRecordID(id int64) { d.RecordID = id }
func (d *Sentiment) text() string         { return d.Content + "\n" + d.Suggestion }

func (d *Sentiment) apply(f *fields) {
	f.str("category", "类别", &d.Category)
	f.str("content", "民情内容", &d.Content)
	f.integer("people_affected", "涉及人数", &d.PeopleAffected)
	f.str("urgency", "紧急程度", &d.Urgency)
	f.str("suggestion", "意见建议", &d.Suggestion)
}

func (d *Sentiment) check(f *fields) {
	f.oneOf("category", "类别", d.Category, true, SentimentCategories)
	f.required("content", "民情内容", d.Content, 2000)
	f.between("people_affected", "涉及人数", d.PeopleAffected, 0, 1000000)
	f.oneOf("urgency", "紧急程度", d.Urgency, true, Urgencies)
	f.maxLen("suggestion", "意见建议", d.Suggestion, 1000)
}

// SentimentView is a sentiment report's own fields as the API shows them; the answer is what
// the reporting instructor reads as feedback.
type SentimentView struct {
	Category       string       `json:"category"`
	CategoryName   string       `json:"category_name"`
	Content        string       `json:"content"`
	PeopleAffected int          `json:"people_affected"`
	Urgency        string       `json:"urgency"`
	UrgencyName    string       `json:"urgency_name"`
	Suggestion     string       `json:"suggestion"`
	ForwardedTo    string       `json:"forwarded_to"`
	ForwardedAt    *clock.Stamp `json:"forwarded_at,omitempty"`
	Answer         string       `json:"answer"`
	AnsweredAt     *clock.Stamp `json:"answered_at,omitempty"`
	ClosedAt       *clock.Stamp `json:"closed_at,omitempty"`
}

func (d *Sentiment) view() any {
	return SentimentView{
		Category: d.Category, CategoryName: label(SentimentCategories, d.Category), Content: d.Content,
		PeopleAffected: d.PeopleAffected, Urgency: d.Urgency, UrgencyName: label(Urgencies, d.Urgency),
		Suggestion: d.Suggestion, ForwardedTo: d.ForwardedTo, ForwardedAt: clock.ShownPtr(d.ForwardedAt),
		Answer: d.Answer, AnsweredAt: clock.ShownPtr(d.AnsweredAt), ClosedAt: clock.ShownPtr(d.ClosedAt),
	}
}

func ptr[T any](v T) *T { return &v }

var sentimentColumns = []Column{
	own("类别", 10, func(v SentimentView) any { return v.CategoryName }),
	own("紧急程度", 9, func(v SentimentView) any { return v.UrgencyName }),
	own("涉及人数", 8, func(v SentimentView) any { return v.PeopleAffected }),
	own("民情内容", 40, func(v SentimentView) any { return v.Content }),
	own("意见建议", 30, func(v SentimentView) any { return v.Suggestion }),
	own("转达部门", 14, func(v SentimentView) any { return v.ForwardedTo }),
	own("转达时间", 17, func(v SentimentView) any { return whenPtr(v.ForwardedAt) }),
	own("答复内容", 30, func(v SentimentView) any { return v.Answer }),
	own("答复时间", 17, func(v SentimentView) any { return whenPtr(v.AnsweredAt) }),
	own("办结时间", 17, func(v SentimentView) any { return whenPtr(v.ClosedAt) }),
}
