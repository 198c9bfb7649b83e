package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// recordView is a record as the tests read it.
type recordView struct {
	ID             int64   `json:"id"`
	Kind           string  `json:"kind"`
	ClientID       string  `json:"client_id"`
	Title          string  `json:"title"`
	Status         string  `json:"status"`
	StatusName     string  `json:"status_name"`
	AuthorID       int64   `json:"author_id"`
	AuthorName     string  `json:"author_name"`
	UnitID         int64   `json:"unit_id"`
	UnitName       string  `json:"unit_name"`
	RegionCode     string  `json:"region_code"`
	RegionName     string  `json:"region_name"`
	Version        int     `json:"version"`
	Editable       bool    `json:"editable"`
	ReturnNote     string  `json:"return_note"`
	WithdrawReason string  `json:"withdraw_reason"`
	Latitude       float64 `json:"latitude"`
	Attachments    []struct {
		ID   int64  `json:"id"`
		Kind string `json:"kind"`
		URL  string `json:"url"`
	} `json:"attachments"`
	Timeline []struct {
		Action     string         `json:"action"`
		FromStatus string         `json:"from_status"`
		ToStatus   string         `json:"to_status"`
		Note       string         `json:"note"`
		Data       map[string]any `json:"data"`
		Actor      struct {
			AccountID int64  `json:"account_id"`
			Role      string `json:"role"`
			Name      string `json:"name"`
		} `json:"actor"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"timeline"`
	Visit *struct {
		VisitKind      string   `json:"visit_kind"`
		Ethnicities    []string `json:"ethnicities"`
		EthnicityNames []string `json:"ethnicity_names"`
		Content        string   `json:"content"`
	} `json:"visit"`
	Sentiment *struct {
		Content     string `json:"content"`
		ForwardedTo string `json:"forwarded_to"`
		Answer      string `json:"answer"`
	} `json:"sentiment"`
	Tip *struct {
		Level       string     `json:"level"`
		Kind        string     `json:"kind"`
		AckDeadline *time.Time `json:"ack_deadline"`
		EscalatedTo string     `json:"escalated_to"`
		DuplicateOf int64      `json:"duplicate_of"`
		Description string     `json:"description"`
	} `json:"tip"`
	Mediation *struct {
		Outcome   string `json:"outcome"`
		Settled   bool   `json:"settled"`
		Followups []struct {
			Content string `json:"content"`
			Outcome string `json:"outcome"`
			Actor   struct {
				Role string `json:"role"`
			} `json:"actor"`
		} `json:"followups"`
		Parties []struct {
			Name          string `json:"name"`
			EthnicityName string `json:"ethnicity_name"`
		} `json:"parties"`
	} `json:"mediation"`
}

func (v recordView) actions() []string {
	out := make([]string, len(v.Timeline))
	for i, s := range v.Timeline {
		out[i] = s.Action
	}
	return out
}

type recordList struct {
	Items      []recordView `json:"items"`
	NextCursor string       `json:"next_cursor"`
}

func (l recordList) has(id int64) bool {
	for _, it := range l.Items {
		if it.ID == id {
			return true
		}
	}
	return false
}

// recordWorld is the set of callers around one instructor in a county of the test's own (see
// newWorld in scope_test.go for the same cast around the roster).
type recordWorld struct {
	e       *apitest.Env
	area    apitest.Area // the county of the test's own
	callers map[string]*apitest.Client
	author  *apitest.Client
	staff   *apitest.Client // the area's county staff
	unit    int64
	ins     int64
}

func newRecordWorld(t *testing.T) recordWorld {
	t.Helper()
	e := apitest.Shared(t)
	a := e.Area(t)
	w := recordWorld{e: e, area: a, callers: map[string]*apitest.Client{
		"county_in":  e.Staff(t, "county_staff", a.County),
		"county_out": e.Staff(t, "county_staff", a.Neighbour),
		"city_in":    e.Staff(t, "city_staff", a.City),
		"city_out":   e.Staff(t, "city_staff", apitest.CityB),
		"province":   e.Staff(t, "province_staff", apitest.Province),
	}}
	w.staff = w.callers["county_in"]
	w.unit = w.staff.Unit("village", a.Township())
	w.author, w.ins = e.InstructorClient(t, w.staff, w.unit)
	w.callers["author"] = w.author
	other := e.Staff(t, "county_staff", apitest.CountyB1)
	w.callers["instructor_other"], _ = e.InstructorClient(t, other, other.Unit("village", apitest.TownshipB1))
	w.callers["anonymous"] = e.Anon(t)
	return w
}

// phoneTime formats the shared clock's now plus d as the phone sends it (Beijing time).
func phoneTime(e *apitest.Env, d time.Duration) string {
	return e.Clock.Now().Add(d).In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
}

func recordPath(kind string, id int64, rest ...string) string {
	p := fmt.Sprintf("/api/v1/%s/%d", apitest.RecordPaths[kind], id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func getRecord(t *testing.T, c *apitest.Client, kind string, id int64) recordView {
	t.Helper()
	var v recordView
	c.Must(200, "GET", recordPath(kind, id), nil).JSON(t, &v)
	return v
}

func countRows(t *testing.T, e *apitest.Env, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.DB().Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
