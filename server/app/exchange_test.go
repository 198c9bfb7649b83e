package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// The platform for exchange (measures §五(一)): bulletins corrected and withdrawn, and the
// instructors' experience shares.

type exVersion struct {
	Version int    `json:"version"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Note    string `json:"note"`
	Current bool   `json:"current"`
}

type exBulletin struct {
	bulletinView
	Version        int         `json:"version"`
	CorrectedAt    *time.Time  `json:"corrected_at"`
	CorrectionNote string      `json:"correction_note"`
	WithdrawnAt    *time.Time  `json:"withdrawn_at"`
	WithdrawReason string      `json:"withdraw_reason"`
	SourceShareID  int64       `json:"source_share_id"`
	Versions       []exVersion `json:"versions"`
}

func exGet(t *testing.T, c *apitest.Client, id int64) exBulletin {
	t.Helper()
	var v exBulletin
	c.Must(http.StatusOK, "GET", bulletinPath(id), nil).JSON(t, &v)
	return v
}

func exField(t *testing.T, r *apitest.Response, field string) {
	t.Helper()
	e := r.Err(t)
	if len(e.Details) == 0 || e.Details[0].Field != field {
		t.Fatalf("want an error on %s, got %+v", field, e)
	}
}

// exNotified is the accounts a bulletin's event of kind was sent to, one entry per notification.
func exNotified(t *testing.T, e *apitest.Env, kind string, id int64) []string {
	t.Helper()
	var targets []string
	if err := e.DB().Table("notifications").Where("event_kind = ? AND subject_id = ?", kind, id).Order("target").
		Pluck("target", &targets).Error; err != nil {
		t.Fatal(err)
	}
	return targets
}

// exChangeReaders is how many readers the one event of kind counted.
func exChangeReaders(t *testing.T, e *apitest.Env, id int64, kind string) int64 {
	t.Helper()
	raw := eventPayloads(t, e, "bulletin", id, kind)
	if len(raw) != 1 {
		t.Fatalf("%d %s events", len(raw), kind)
	}
	var p struct {
		Readers int64 `json:"readers"`
	}
	if err := json.Unmarshal([]byte(raw[0]), &p); err != nil {
		t.Fatal(err)
	}
	return p.Readers
}

func TestBulletinCorrectionKeepsVersionsAndTellsReadersOnce(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	b := issueBulletin(t, w.staff, nil)
	first := exGet(t, w.ins[0], b.ID)
	exGet(t, w.ins[0], b.ID)
	exGet(t, w.ins[1], b.ID)
	path := bulletinPath(b.ID, "correct")
	body := map[string]any{"body": "## 本月工作\n\n走访少数民族群众**210户**。", "note": "走访户数有误,更正为210户"}

	// Another county's and another city's staff do not see it; instructors may not correct.
	w.callers["county_out"].Must(http.StatusNotFound, "POST", path, body)
	w.callers["city_out"].Must(http.StatusNotFound, "POST", path, body)
	w.ins[0].Must(http.StatusForbidden, "POST", path, body)
	exField(t, w.staff.Must(http.StatusBadRequest, "POST", path, map[string]any{"body": "新正文"}), "note")
	exField(t, w.staff.Must(http.StatusBadRequest, "POST", path, map[string]any{"body": *b.Body, "note": "无改动"}), "body")

	var v exBulletin
	w.staff.Must(http.StatusOK, "POST", path, body).JSON(t, &v)
	if v.Version != 2 || v.CorrectedAt == nil || v.CorrectionNote != body["note"] || *v.Body != body["body"] || v.Title != b.Title ||
		len(v.Versions) != 2 || v.Versions[0].Version != 1 || v.Versions[0].Body != *b.Body || v.Versions[0].Current ||
		!v.Versions[1].Current || v.Versions[1].Note != body["note"] || v.ReadCount == nil || *v.ReadCount != 2 {
		t.Fatalf("corrected: %+v", v)
	}
	// The city above sees the history too.
	if c := exGet(t, w.callers["city_in"], b.ID); len(c.Versions) != 2 {
		t.Fatalf("city: %+v", c.Versions)
	}

	// The two readers, each once, are told; the one who never opened it is not.
	if n := exChangeReaders(t, e, b.ID, "bulletin.corrected"); n != 2 {
		t.Fatalf("%d readers, want 2", n)
	}
	want := []string{fmt.Sprint(accountID(t, w.ins[0])), fmt.Sprint(accountID(t, w.ins[1]))}
	slices.Sort(want)
	ntWait(t, "the readers' notices", func() bool { return len(exNotified(t, e, "bulletin.corrected", b.ID)) >= 2 })
	time.Sleep(200 * time.Millisecond)
	if got := exNotified(t, e, "bulletin.corrected", b.ID); !slices.Equal(got, want) {
		t.Fatalf("notified %v, want %v", got, want)
	}

	// The phone shows the corrected text with the note; the receipt is the first one.
	r := exGet(t, w.ins[0], b.ID)
	if r.Version != 2 || r.CorrectionNote != body["note"] || r.CorrectedAt == nil || *r.Body != body["body"] ||
		r.Read == nil || !*r.Read || !r.ReadAt.Equal(*first.ReadAt) || r.Versions != nil {
		t.Fatalf("reader: %+v", r)
	}
	if l, ok := listBulletins(t, w.ins[2], "").find(b.ID); !ok || l.Read == nil || *l.Read {
		t.Fatalf("the instructor who had not read it: %+v", l)
	}
}

func TestBulletinWithdrawalNeedsAReasonAndShowsOnThePhone(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	b := issueBulletin(t, w.staff, nil)
	exGet(t, w.ins[0], b.ID)
	path := bulletinPath(b.ID, "withdraw")
	reason := "内容涉及尚未公开的工作安排"

	exField(t, w.staff.Must(http.StatusBadRequest, "POST", path, map[string]any{"reason": "  "}), "reason")
	exField(t, w.staff.Must(http.StatusBadRequest, "POST", path, map[string]any{}), "reason")
	w.callers["county_out"].Must(http.StatusNotFound, "POST", path, map[string]any{"reason": reason})
	w.ins[0].Must(http.StatusForbidden, "POST", path, map[string]any{"reason": reason})

	var v exBulletin
	w.staff.Must(http.StatusOK, "POST", path, map[string]any{"reason": reason}).JSON(t, &v)
	if v.Status != "withdrawn" || v.WithdrawReason != reason || v.WithdrawnAt == nil || v.Body == nil {
		t.Fatalf("withdrawn: %+v", v)
	}
	// A retry changes nothing; another reason, or a correction now, is refused.
	w.staff.Must(http.StatusOK, "POST", path, map[string]any{"reason": reason})
	w.staff.Must(http.StatusConflict, "POST", path, map[string]any{"reason": "另一个原因"})
	w.staff.Must(http.StatusConflict, "POST", bulletinPath(b.ID, "correct"), map[string]any{"body": "x", "note": "y"})

	// Both instructors see it withdrawn, with the reason and without the body, instead of a 404.
	for i, c := range w.ins[:2] {
		r := exGet(t, c, b.ID)
		if r.Status != "withdrawn" || r.WithdrawReason != reason || r.Body != nil || r.Summary != "" || r.Read == nil || *r.Read != (i == 0) {
			t.Fatalf("instructor %d: %+v", i, r)
		}
		l, ok := listBulletins(t, c, "").find(b.ID)
		if !ok || l.Status != "withdrawn" || l.Summary != "" {
			t.Fatalf("instructor %d list: %+v", i, l)
		}
		if _, ok := listBulletins(t, c, "?unread=true").find(b.ID); ok {
			t.Fatalf("instructor %d: a withdrawn bulletin counts as unread", i)
		}
	}
	if n := exChangeReaders(t, e, b.ID, "bulletin.withdrawn"); n != 1 {
		t.Fatalf("%d readers, want 1", n)
	}
	me := fmt.Sprint(accountID(t, w.ins[0]))
	ntWait(t, "the reader's notice", func() bool { return len(exNotified(t, e, "bulletin.withdrawn", b.ID)) >= 1 })
	if got := exNotified(t, e, "bulletin.withdrawn", b.ID); !slices.Equal(got, []string{me}) {
		t.Fatalf("notified %v, want %v", got, me)
	}
}

type exShare struct {
	ID             int64        `json:"id"`
	ClientID       string       `json:"client_id"`
	Title          string       `json:"title"`
	Text           string       `json:"text"`
	Attachments    []uploadView `json:"attachments"`
	Audience       string       `json:"audience"`
	AudienceCode   string       `json:"audience_code"`
	Status         string       `json:"status"`
	RejectReason   string       `json:"reject_reason"`
	InstructorName string       `json:"instructor_name"`
	UnitName       string       `json:"unit_name"`
	Mine           bool         `json:"mine"`
	CanReview      bool         `json:"can_review"`
	BulletinID     int64        `json:"bulletin_id"`
}

func exShares(t *testing.T, c *apitest.Client, query string) []exShare {
	t.Helper()
	var l struct {
		Items []exShare `json:"items"`
	}
	c.Must(http.StatusOK, "GET", "/api/v1/shares"+query, nil).JSON(t, &l)
	return l.Items
}

func exHas(items []exShare, id int64) bool {
	return slices.ContainsFunc(items, func(s exShare) bool { return s.ID == id })
}

func exSubmit(t *testing.T, c *apitest.Client, audience string) exShare {
	t.Helper()
	var s exShare
	c.Must(http.StatusCreated, "POST", "/api/v1/shares", map[string]any{"client_id": apitest.ClientID(),
		"title": "入户走访的三点体会" + apitest.Unique(), "text": "一、提前了解户情。\n二、用群众听得懂的话讲政策。", "audience": audience}).JSON(t, &s)
	return s
}

func TestSharesAreSeenByTheirAudienceOnceApproved(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	a := e.Area(t)
	beside := e.AreaBeside(t, a)
	county := e.Staff(t, "county_staff", a.County)
	besideCounty := e.Staff(t, "county_staff", beside.County)
	city := e.Staff(t, "city_staff", a.City)
	otherCity := e.Staff(t, "city_staff", apitest.CityB)
	unit := county.Unit("village", a.Township())
	author, _ := e.InstructorClient(t, county, unit)
	peer, _ := e.InstructorClient(t, county, county.Unit("community", a.County))
	neighbour, _ := e.InstructorClient(t, besideCounty, besideCounty.Unit("village", beside.Township()))
	outStaff := e.Staff(t, "county_staff", apitest.CountyB1)
	outsider, _ := e.InstructorClient(t, outStaff, outStaff.Unit("village", apitest.TownshipB1))

	// Submitted once however often it is retried; the same id with other content is a conflict.
	photo := mustUpload(t, author, "走访.png", pngImage(t))
	body := map[string]any{"client_id": apitest.ClientID(), "title": "民族团结进步宣传月的做法",
		"text": "我们把政策编成顺口溜,\n在村广播里每天播两遍。", "audience": "county", "attachments": []int64{photo.ID}}
	var s, again exShare
	author.Must(http.StatusCreated, "POST", "/api/v1/shares", body).JSON(t, &s)
	author.Must(http.StatusOK, "POST", "/api/v1/shares", body).JSON(t, &again)
	var stored int64
	e.DB().Table("shares").Where("client_id = ?", body["client_id"]).Count(&stored)
	if s.Status != "pending" || again.ID != s.ID || stored != 1 || len(s.Attachments) != 1 || s.AudienceCode != a.County ||
		!s.Mine || s.ClientID != body["client_id"] {
		t.Fatalf("submitted %+v, retried %+v, stored %d", s, again, stored)
	}
	changed := map[string]any{"client_id": body["client_id"], "title": "另一篇", "text": "x", "audience": "county"}
	exField(t, author.Must(http.StatusConflict, "POST", "/api/v1/shares", changed), "client_id")
	exField(t, author.Must(http.StatusBadRequest, "POST", "/api/v1/shares", map[string]any{"client_id": apitest.ClientID(),
		"title": "t", "text": "x", "audience": "province"}), "audience")
	county.Must(http.StatusForbidden, "POST", "/api/v1/shares", map[string]any{"client_id": apitest.ClientID(), "title": "t", "text": "x", "audience": "county"})

	// Pending: nobody else sees it; the author sees it among their own.
	sharePath := fmt.Sprintf("/api/v1/shares/%d", s.ID)
	if exHas(exShares(t, peer, ""), s.ID) || !exHas(exShares(t, author, "?mine=true"), s.ID) {
		t.Fatal("a pending share is listed to a peer, or not to its author")
	}
	peer.Must(http.StatusNotFound, "GET", sharePath, nil)

	// Review: a reason is required to reject; staff outside the audience cannot review.
	exField(t, county.Must(http.StatusBadRequest, "POST", sharePath+"/reject", map[string]any{"reason": ""}), "reason")
	besideCounty.Must(http.StatusNotFound, "POST", sharePath+"/approve", nil)
	otherCity.Must(http.StatusNotFound, "POST", sharePath+"/approve", nil)
	peer.Must(http.StatusForbidden, "POST", sharePath+"/approve", nil)
	if q := exShares(t, county, "?status=pending"); !exHas(q, s.ID) || !q[slices.IndexFunc(q, func(x exShare) bool { return x.ID == s.ID })].CanReview {
		t.Fatal("the county's queue lacks the share")
	}
	var ok exShare
	county.Must(http.StatusOK, "POST", sharePath+"/approve", nil).JSON(t, &ok)
	if ok.Status != "approved" || ok.CanReview {
		t.Fatalf("approved: %+v", ok)
	}
	county.Must(http.StatusOK, "POST", sharePath+"/approve", nil)
	county.Must(http.StatusConflict, "POST", sharePath+"/reject", map[string]any{"reason": "改主意了"})

	// Approved: the county's instructors see it, with its photo; the next county and another city do not.
	if l := exShares(t, peer, ""); !exHas(l, s.ID) {
		t.Fatal("a peer of the county does not see the approved share")
	}
	var seen exShare
	peer.Must(http.StatusOK, "GET", sharePath, nil).JSON(t, &seen)
	if seen.Mine || seen.ClientID != "" || len(seen.Attachments) != 1 || seen.InstructorName == "" {
		t.Fatalf("peer sees %+v", seen)
	}
	for _, c := range []*apitest.Client{neighbour, outsider} {
		if exHas(exShares(t, c, ""), s.ID) {
			t.Fatal("an instructor outside the audience sees the share")
		}
		c.Must(http.StatusNotFound, "GET", sharePath, nil)
	}

	// A city-wide share: the county sees it but only the city reviews it; then the next county
	// sees it too, another city still not.
	cs := exSubmit(t, author, "city")
	csPath := fmt.Sprintf("/api/v1/shares/%d", cs.ID)
	if q := exShares(t, county, "?status=pending"); !exHas(q, cs.ID) || q[slices.IndexFunc(q, func(x exShare) bool { return x.ID == cs.ID })].CanReview {
		t.Fatal("the county's queue: the city share missing or reviewable")
	}
	county.Must(http.StatusForbidden, "POST", csPath+"/approve", nil)
	city.Must(http.StatusOK, "POST", csPath+"/approve", nil)
	if !exHas(exShares(t, neighbour, ""), cs.ID) || exHas(exShares(t, outsider, ""), cs.ID) {
		t.Fatal("the city share's audience is wrong")
	}

	// Rejected: the author reads the reason; nobody else sees it.
	rs := exSubmit(t, author, "county")
	reason := "内容与宣传月无关,请补充具体做法后重新分享"
	var rej exShare
	county.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/shares/%d/reject", rs.ID), map[string]any{"reason": reason}).JSON(t, &rej)
	mine := exShares(t, author, "?mine=true")
	i := slices.IndexFunc(mine, func(x exShare) bool { return x.ID == rs.ID })
	if rej.Status != "rejected" || i < 0 || mine[i].RejectReason != reason || exHas(exShares(t, peer, ""), rs.ID) {
		t.Fatalf("rejected: %+v", rej)
	}

	// Promotion: only approved shares; a draft bulletin that credits the author, made once.
	county.Must(http.StatusConflict, "POST", fmt.Sprintf("/api/v1/shares/%d/promote", rs.ID), nil)
	peer.Must(http.StatusForbidden, "POST", sharePath+"/promote", nil)
	var d, d2 exBulletin
	county.Must(http.StatusCreated, "POST", sharePath+"/promote", nil).JSON(t, &d)
	county.Must(http.StatusOK, "POST", sharePath+"/promote", nil).JSON(t, &d2)
	if d.Status != "draft" || d2.ID != d.ID || d.Title != s.Title || d.SourceShareID != s.ID || d.Body == nil ||
		!strings.Contains(*d.Body, seen.InstructorName) || !strings.Contains(*d.Body, seen.UnitName) ||
		!strings.HasPrefix(*d.Body, s.Text) || len(d.Scope) != 1 || d.Scope[0].Code != a.County {
		t.Fatalf("draft %+v, again %+v", d, d2)
	}
	// A draft reaches nobody until published.
	peer.Must(http.StatusNotFound, "GET", bulletinPath(d.ID), nil)
	if n := len(eventPayloads(t, e, "bulletin", d.ID, "bulletin.published")); n != 0 {
		t.Fatalf("%d publish events for a draft", n)
	}
	besideCounty.Must(http.StatusNotFound, "POST", bulletinPath(d.ID, "publish"), map[string]any{})
	var pub exBulletin
	county.Must(http.StatusOK, "POST", bulletinPath(d.ID, "publish"), map[string]any{"title": "经验交流:" + s.Title}).JSON(t, &pub)
	if pub.Status != "published" || pub.Title != "经验交流:"+s.Title {
		t.Fatalf("published: %+v", pub)
	}
	county.Must(http.StatusConflict, "POST", bulletinPath(d.ID, "publish"), map[string]any{})
	if got := exGet(t, peer, d.ID); got.Body == nil || !strings.Contains(*got.Body, seen.InstructorName) {
		t.Fatalf("the peer reads %+v", got)
	}
	var shown exShare
	county.Must(http.StatusOK, "GET", sharePath, nil).JSON(t, &shown)
	if shown.BulletinID != d.ID {
		t.Fatalf("the share does not name its bulletin: %+v", shown)
	}

	// Each step is audited.
	var n int64
	e.DB().Table("audit_log").Where("subject_type = ? AND subject_id = ?", "share", s.ID).Count(&n)
	if n < 2 {
		t.Fatalf("%d audit entries for the share", n)
	}
}
