package apitest

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"sync/atomic"
	"testing"
)

// Regions used by tests: two counties of one city, a county of another city.
const (
	Province   = "130000000000"
	CityA      = "130100000000" // 石家庄市
	CountyA1   = "130102000000" // 长安区
	CountyA2   = "130104000000" // 桥西区
	CityB      = "131000000000" // 廊坊市
	CountyB1   = "131028000000" // 大厂回族自治县
	TownshipA1 = "130102001000" // in 长安区
	TownshipB1 = "131028100000" // in 大厂回族自治县
)

const testPassword = "test-password-123"

// Staff creates a staff account bound to region and returns a client logged in as it.
func (e *Env) Staff(t testing.TB, role, regionCode string) *Client {
	t.Helper()
	username := fmt.Sprintf("%s_%s", role, Unique())
	if _, err := e.App.Auth.CreateUser(context.Background(), username, role, regionCode, testPassword, ""); err != nil {
		t.Fatalf("create %s: %v", role, err)
	}
	r := e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/password/login", map[string]string{"username": username, "password": testPassword})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.JSON(t, &tok)
	return e.As(t, tok.AccessToken)
}

// ID reads the "id" of a JSON object response.
func ID(t testing.TB, r *Response) int64 {
	t.Helper()
	var v struct {
		ID int64 `json:"id"`
	}
	r.JSON(t, &v)
	if v.ID == 0 {
		t.Fatalf("no id in %s", r.Body)
	}
	return v.ID
}

// Unit creates a unit through the API.
func (c *Client) Unit(kind, regionCode string) int64 {
	c.t.Helper()
	r := c.Must(http.StatusCreated, "POST", "/api/v1/units", map[string]any{
		"name": "测试单位" + Unique(), "kind": kind, "region_code": regionCode})
	return ID(c.t, r)
}

// Phone returns a valid mobile number no other call of this test binary returned (a counter from
// a random start): a phone number is unique on the roster.
func Phone() string {
	return fmt.Sprintf("13%09d", (phoneStart+phoneNext.Add(1))%1_000_000_000)
}

var (
	phoneStart = func() int64 {
		n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
		return n.Int64()
	}()
	phoneNext atomic.Int64
)

// InstructorBody is a valid instructor for unitID.
func InstructorBody(unitID int64) map[string]any {
	return map[string]any{
		"name": "测试" + Unique(), "gender": "female", "ethnicity": "03", "phone": Phone(),
		"source_category": "village_committee", "unit_id": unitID,
	}
}

// Instructor creates an active instructor in unitID.
func (c *Client) Instructor(unitID int64) int64 {
	c.t.Helper()
	return ID(c.t, c.Must(http.StatusCreated, "POST", "/api/v1/instructors", InstructorBody(unitID)))
}

// Invite issues an invite code.
func (c *Client) Invite(instructorID int64) string {
	c.t.Helper()
	var v struct {
		InviteCode string `json:"invite_code"`
	}
	c.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/instructors/%d/invite", instructorID), nil).JSON(c.t, &v)
	return v.InviteCode
}

// BindTicket logs in with a fresh WeChat code of an unknown user and returns the bind ticket.
func (e *Env) BindTicket(t testing.TB) string {
	t.Helper()
	var v struct {
		BindTicket string `json:"bind_ticket"`
	}
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": "code" + Unique() + Unique()}).JSON(t, &v)
	if v.BindTicket == "" {
		t.Fatal("no bind ticket")
	}
	return v.BindTicket
}

// Tokens is a login response.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// InstructorClient creates an instructor in unitID (through staff), binds a new WeChat user to it
// with an invite code and returns that user's client and the instructor id.
func (e *Env) InstructorClient(t testing.TB, staff *Client, unitID int64) (*Client, int64) {
	t.Helper()
	id := staff.Instructor(unitID)
	code := staff.Invite(id)
	var tok Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{
		"bind_ticket": e.BindTicket(t), "invite_code": code}).JSON(t, &tok)
	return e.As(t, tok.AccessToken), id
}

// ClientID returns a random UUID (version 4), as the mini-program generates for each record.
func ClientID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// RecordBody is a valid submission of a record of kind ("visit", "sentiment", "tip",
// "mediation") that happened at occurredAt (RFC 3339), with a fresh client id.
func RecordBody(kind, occurredAt string) map[string]any {
	body := map[string]any{
		"client_id": ClientID(), "title": "测试" + kind + Unique(), "occurred_at": occurredAt,
		"place": "西山村村委会", "latitude": 38.04, "longitude": 114.51, "attachments": []int64{},
	}
	switch kind {
	case "visit":
		body[kind] = map[string]any{"visit_kind": "home_visit", "households": 5, "people": 12,
			"ethnicities": []string{"03", "01"}, "content": "入户走访,宣讲民族政策", "follow_up_needed": false}
	case "sentiment":
		body[kind] = map[string]any{"category": "livelihood", "content": "村民反映饮水管道老化", "people_affected": 40,
			"urgency": "urgent", "suggestion": "尽快维修"}
	case "tip":
		body[kind] = map[string]any{"level": "general", "kind": "sign", "people_involved": 6,
			"groups_involved": "两户村民", "description": "两户村民因宅基地边界发生口角", "ongoing": true}
	case "mediation":
		body[kind] = map[string]any{"dispute_kind": "housing",
			"parties": []map[string]any{{"name": "马某", "ethnicity": "03", "role": "applicant"}, {"name": "张某", "ethnicity": "01", "role": "respondent"}},
			"process": "召集双方到村委会协商", "outcome": "partly_settled", "agreement": "双方同意重新测量边界"}
	}
	return body
}

// RecordPaths maps a record kind to its collection path.
var RecordPaths = map[string]string{"visit": "visits", "sentiment": "sentiments", "tip": "tips", "mediation": "mediations"}

// Submit posts a record body of kind and returns the new record's id.
func (c *Client) Submit(kind string, body map[string]any) int64 {
	c.t.Helper()
	return ID(c.t, c.Must(http.StatusCreated, "POST", "/api/v1/"+RecordPaths[kind], body))
}
