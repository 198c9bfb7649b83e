package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/region"
)

// bulletinView is a bulletin as the tests read it.
type bulletinView struct {
	ID          int64      `json:"id"`
	Title       string     `json:"title"`
	Summary     string     `json:"summary"`
	Body        *string    `json:"body"`
	Status      string     `json:"status"`
	PublishAt   time.Time  `json:"publish_at"`
	PublishedAt *time.Time `json:"published_at"`
	RegionCode  string     `json:"region_code"`
	RegionName  string     `json:"region_name"`
	Scope       []struct {
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"scope"`
	Attachments []uploadView `json:"attachments"`
	Read        *bool        `json:"read"`
	ReadAt      *time.Time   `json:"read_at"`
	ReadCount   *int64       `json:"read_count"`
}

type bulletinList struct {
	Items      []bulletinView `json:"items"`
	NextCursor string         `json:"next_cursor"`
}

func (l bulletinList) find(id int64) (bulletinView, bool) {
	i := slices.IndexFunc(l.Items, func(b bulletinView) bool { return b.ID == id })
	if i < 0 {
		return bulletinView{}, false
	}
	return l.Items[i], true
}

func bulletinPath(id int64, rest ...string) string {
	p := fmt.Sprintf("/api/v1/bulletins/%d", id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func bulletinBody(extra map[string]any) map[string]any {
	b := map[string]any{
		"title": "工作简报第" + apitest.Unique() + "期",
		"body":  "## 本月工作\n\n1. 开展**民族团结进步**宣传月活动\n2. 走访少数民族群众[120户](https://example.gov.cn/a)\n\n> 请各指导员认真学习。",
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func issueBulletin(t *testing.T, c *apitest.Client, extra map[string]any) bulletinView {
	t.Helper()
	var v bulletinView
	c.Must(http.StatusCreated, "POST", "/api/v1/bulletins", bulletinBody(extra)).JSON(t, &v)
	return v
}

func listBulletins(t *testing.T, c *apitest.Client, query string) bulletinList {
	t.Helper()
	var l bulletinList
	c.Must(http.StatusOK, "GET", "/api/v1/bulletins"+query, nil).JSON(t, &l)
	return l
}

func unreadCount(t *testing.T, c *apitest.Client) int64 {
	t.Helper()
	var v struct {
		Unread int64 `json:"unread"`
	}
	c.Must(http.StatusOK, "GET", "/api/v1/bulletins/unread-count", nil).JSON(t, &v)
	return v.Unread
}

func TestBulletinPublishedNowWithReadReceipts(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	reader, reader2 := w.ins[0], w.ins[1]
	before := unreadCount(t, reader)

	photo := mustUpload(t, w.staff, "宣传月.png", pngImage(t))
	b := issueBulletin(t, w.staff, map[string]any{"attachments": []int64{photo.ID}})
	if b.Status != "published" || b.PublishedAt == nil || b.RegionCode != w.area.County || len(b.Scope) != 1 ||
		b.Scope[0].Code != w.area.County || b.Scope[0].Name != w.area.CountyName || b.Body == nil || len(b.Attachments) != 1 ||
		b.Attachments[0].ID != photo.ID || strings.ContainsAny(b.Summary, "#*[>") {
		t.Fatalf("issued: %+v", b)
	}
	events := eventPayloads(t, e, "bulletin", b.ID, "bulletin.published")
	if len(events) != 1 {
		t.Fatalf("%d publish events", len(events))
	}
	var payload struct {
		BulletinID int64    `json:"bulletin_id"`
		Title      string   `json:"title"`
		Scope      []string `json:"scope"`
	}
	if err := json.Unmarshal([]byte(events[0]), &payload); err != nil || payload.BulletinID != b.ID ||
		payload.Title != b.Title || !slices.Equal(payload.Scope, []string{w.area.County}) {
		t.Fatalf("payload %s: %v", events[0], err)
	}

	// The instructors of the county see it unread, without the body in the list.
	l := listBulletins(t, reader, "")
	got, ok := l.find(b.ID)
	if !ok || got.Read == nil || *got.Read || got.Body != nil || got.ReadCount != nil || got.Summary == "" {
		t.Fatalf("instructor list: %+v", got)
	}
	if n := unreadCount(t, reader); n != before+1 {
		t.Fatalf("unread %d, want %d", n, before+1)
	}
	if _, ok := listBulletins(t, reader, "?unread=true").find(b.ID); !ok {
		t.Fatal("unread filter lacks the new bulletin")
	}

	// Opening it leaves one receipt, however often.
	var v bulletinView
	reader.Must(http.StatusOK, "GET", bulletinPath(b.ID), nil).JSON(t, &v)
	if v.Body == nil || !strings.Contains(*v.Body, "民族团结进步") || v.Read == nil || !*v.Read || v.ReadAt == nil ||
		len(v.Attachments) != 1 || !strings.HasPrefix(v.Attachments[0].URL, "/api/v1/files/") {
		t.Fatalf("opened: %+v", v)
	}
	firstRead := *v.ReadAt
	reader.Must(http.StatusOK, "GET", bulletinPath(b.ID), nil).JSON(t, &v)
	if !v.ReadAt.Equal(firstRead) {
		t.Fatalf("read again: %s, first %s", v.ReadAt, firstRead)
	}
	if n := unreadCount(t, reader); n != before {
		t.Fatalf("unread after reading %d, want %d", n, before)
	}
	if it, _ := listBulletins(t, reader, "").find(b.ID); it.Read == nil || !*it.Read {
		t.Fatalf("list after reading: %+v", it)
	}
	if _, ok := listBulletins(t, reader, "?unread=true").find(b.ID); ok {
		t.Fatal("unread filter still lists a read bulletin")
	}
	// The attachment downloads for whoever got the link.
	if r := e.Anon(t).DoRaw("GET", v.Attachments[0].URL, "", nil); r.Status != http.StatusOK {
		t.Fatalf("attachment download: %d", r.Status)
	}

	// Receipts: who read, when, and the rate over the county's active instructors.
	var rc struct {
		BulletinID int64   `json:"bulletin_id"`
		Recipients int64   `json:"recipients"`
		Read       int64   `json:"read"`
		ReadRate   float64 `json:"read_rate"`
		Items      []struct {
			InstructorID int64     `json:"instructor_id"`
			Name         string    `json:"name"`
			UnitName     string    `json:"unit_name"`
			ReadAt       time.Time `json:"read_at"`
		} `json:"items"`
	}
	active := int64(len(activeIn(t, e, region.Prefix(w.area.County))))
	w.staff.Must(http.StatusOK, "GET", bulletinPath(b.ID, "receipts"), nil).JSON(t, &rc)
	if rc.Read != 1 || rc.Recipients != active || len(rc.Items) != 1 || rc.Items[0].InstructorID != w.insIDs[0] ||
		rc.Items[0].Name == "" || rc.Items[0].UnitName == "" || !rc.Items[0].ReadAt.Equal(firstRead) ||
		rc.ReadRate < 1/float64(active)-1e-9 || rc.ReadRate > 1/float64(active)+1e-9 {
		t.Fatalf("receipts: %+v (active %d)", rc, active)
	}
	reader2.Must(http.StatusOK, "GET", bulletinPath(b.ID), nil)
	w.callers["city_in"].Must(http.StatusOK, "GET", bulletinPath(b.ID, "receipts")+"?limit=1", nil).JSON(t, &rc)
	if rc.Read != 2 || len(rc.Items) != 1 || rc.Items[0].InstructorID != w.insIDs[1] {
		t.Fatalf("receipts page: %+v", rc)
	}

	// Staff lists: issued within their subtree, with how many have read.
	staffList := listBulletins(t, w.staff, "")
	if it, ok := staffList.find(b.ID); !ok || it.ReadCount == nil || *it.ReadCount != 2 || it.Read != nil {
		t.Fatalf("staff list: %+v", it)
	}
	var detail bulletinView
	w.staff.Must(http.StatusOK, "GET", bulletinPath(b.ID), nil).JSON(t, &detail)
	if detail.ReadCount == nil || *detail.ReadCount != 2 || detail.Body == nil {
		t.Fatalf("staff detail: %+v", detail)
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM bulletin_reads WHERE bulletin_id = ?", b.ID); n != 2 {
		t.Fatalf("%d receipts stored", n)
	}
}

// Not parallel: servers an hour ahead run their sweeps over every test's data.
func TestBulletinScheduledThenPublishedBySweeper(t *testing.T) {
	w := newMeetingWorld(t)
	e := w.e
	ctx := context.Background()
	city := w.callers["city_in"]
	inTownship, inCounty := w.ins[0], w.ins[2] // units in the area's first township and in the county itself
	before := unreadCount(t, inTownship)
	t0 := e.Clock.Now()

	b := issueBulletin(t, city, map[string]any{"scope": []string{w.area.Township()}, "publish_at": phoneTime(e, time.Hour)})
	if b.Status != "scheduled" || b.PublishedAt != nil || b.RegionCode != w.area.City || !b.PublishAt.Equal(t0.Add(time.Hour).Truncate(time.Second)) {
		t.Fatalf("scheduled: %+v", b)
	}
	if n := len(eventPayloads(t, e, "bulletin", b.ID, "bulletin.published")); n != 0 {
		t.Fatalf("%d events before publishing", n)
	}
	if _, ok := listBulletins(t, inTownship, "").find(b.ID); ok {
		t.Fatal("a scheduled bulletin is visible to instructors")
	}
	inTownship.Must(http.StatusNotFound, "GET", bulletinPath(b.ID), nil)
	if it, ok := listBulletins(t, city, "?status=scheduled").find(b.ID); !ok || it.Status != "scheduled" {
		t.Fatal("the issuer does not list the scheduled bulletin")
	}

	publish := func(at time.Duration) {
		t.Helper()
		if _, err := apitest.Another(t, clock.NewFake(t0.Add(at))).App.Bulletins.PublishDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	publish(30 * time.Minute)
	if n := len(eventPayloads(t, e, "bulletin", b.ID, "bulletin.published")); n != 0 {
		t.Fatal("published half an hour early")
	}
	publish(61 * time.Minute)
	publish(62 * time.Minute)
	if n := len(eventPayloads(t, e, "bulletin", b.ID, "bulletin.published")); n != 1 {
		t.Fatalf("%d publish events, want 1", n)
	}
	var v bulletinView
	city.Must(http.StatusOK, "GET", bulletinPath(b.ID), nil).JSON(t, &v)
	if v.Status != "published" || v.PublishedAt == nil || v.PublishedAt.Before(t0.Add(time.Hour)) {
		t.Fatalf("after the sweep: %+v", v)
	}
	// Now it reaches the township's instructors, and only them.
	if it, ok := listBulletins(t, inTownship, "").find(b.ID); !ok || *it.Read {
		t.Fatalf("township instructor: %+v %v", it, ok)
	}
	if n := unreadCount(t, inTownship); n != before+1 {
		t.Fatalf("unread %d, want %d", n, before+1)
	}
	if _, ok := listBulletins(t, inCounty, "").find(b.ID); ok {
		t.Fatal("an instructor of the county outside the township sees a township bulletin")
	}
	inCounty.Must(http.StatusNotFound, "GET", bulletinPath(b.ID), nil)
}

// Not parallel: its province-wide bulletin reaches every instructor, whose unread counts other tests check.
func TestBulletinScope(t *testing.T) {
	w := newMeetingWorld(t)
	e := w.e
	county, city, province := w.staff, w.callers["city_in"], w.callers["province"]

	// A county bulletin reaches its county only; the province's reaches everyone.
	cb := issueBulletin(t, county, nil)
	pb := issueBulletin(t, province, nil)
	for who, c := range map[string]*apitest.Client{"in county": w.ins[0], "other county": w.outsider} {
		l := listBulletins(t, c, "")
		_, sawCounty := l.find(cb.ID)
		_, sawProvince := l.find(pb.ID)
		if sawCounty != (who == "in county") || !sawProvince {
			t.Errorf("%s: county bulletin %v, province bulletin %v", who, sawCounty, sawProvince)
		}
	}
	w.outsider.Must(http.StatusNotFound, "GET", bulletinPath(cb.ID), nil)
	w.outsider.Must(http.StatusOK, "GET", bulletinPath(pb.ID), nil)

	// Staff see and follow what was issued in their subtree.
	for who, want := range map[string]int{"county_in": 200, "city_in": 200, "province": 200, "county_out": 404, "city_out": 404} {
		for _, path := range []string{bulletinPath(cb.ID), bulletinPath(cb.ID, "receipts")} {
			if r := w.callers[who].Do("GET", path, nil); r.Status != want {
				t.Errorf("%s GET %s: %d, want %d", who, path, r.Status, want)
			}
		}
		_, listed := listBulletins(t, w.callers[who], "").find(cb.ID)
		if listed != (want == 200) {
			t.Errorf("%s lists the county bulletin: %v", who, listed)
		}
	}
	w.ins[0].Must(http.StatusForbidden, "GET", bulletinPath(cb.ID, "receipts"), nil)
	w.staff.Must(http.StatusForbidden, "GET", "/api/v1/bulletins/unread-count", nil)
	e.Anon(t).Must(http.StatusUnauthorized, "GET", "/api/v1/bulletins/unread-count", nil)
	e.Anon(t).Must(http.StatusUnauthorized, "GET", "/api/v1/bulletins", nil)

	// A scope inside another chosen region is the same audience once; outside the subtree, refused.
	var v bulletinView
	city.Must(http.StatusCreated, "POST", "/api/v1/bulletins", bulletinBody(map[string]any{
		"scope": []string{w.area.Township(), w.area.County, w.area.Neighbour, w.area.County}})).JSON(t, &v)
	codes := make([]string, len(v.Scope))
	for i, s := range v.Scope {
		codes[i] = s.Code
	}
	if !slices.Equal(codes, sortedCodes(w.area.County, w.area.Neighbour)) || v.RegionName != w.area.CityName {
		t.Fatalf("scope %v, issuer %s", codes, v.RegionName)
	}
	if r := county.Must(http.StatusForbidden, "POST", "/api/v1/bulletins", bulletinBody(map[string]any{"scope": []string{w.area.Neighbour}})).Err(t); r.Details[0].Field != "scope" {
		t.Fatalf("scope outside: %+v", r)
	}
	w.ins[0].Must(http.StatusForbidden, "POST", "/api/v1/bulletins", bulletinBody(nil))
}

func TestBulletinBadInput(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"malformed", `{"title": "x"`, 400, ""},
		{"not an object", `"x"`, 400, ""},
		{"wrong type", bulletinBody(map[string]any{"title": 1}), 400, "title"},
		{"scope wrong type", bulletinBody(map[string]any{"scope": w.area.County}), 400, "scope"},
		{"attachments wrong type", bulletinBody(map[string]any{"attachments": []string{"a"}}), 400, "attachments"},
		{"no title", bulletinBody(map[string]any{"title": " "}), 400, "title"},
		{"long title", bulletinBody(map[string]any{"title": strings.Repeat("简", 61)}), 400, "title"},
		{"no body", bulletinBody(map[string]any{"body": ""}), 400, "body"},
		{"long body", bulletinBody(map[string]any{"body": strings.Repeat("报", 20001)}), 400, "body"},
		{"bad scope", bulletinBody(map[string]any{"scope": []string{"1301"}}), 400, "scope"},
		{"unknown region", bulletinBody(map[string]any{"scope": []string{region.Prefix(w.area.County) + "999999"}}), 400, "scope"},
		{"bad time", bulletinBody(map[string]any{"publish_at": "下周一"}), 400, "publish_at"},
		{"past", bulletinBody(map[string]any{"publish_at": phoneTime(e, -time.Hour)}), 400, "publish_at"},
		{"far future", bulletinBody(map[string]any{"publish_at": phoneTime(e, 400*24*time.Hour)}), 400, "publish_at"},
		{"someone else's upload", bulletinBody(map[string]any{"attachments": []int64{1 << 40}}), 400, "attachments"},
	}
	for _, c := range cases {
		r := w.staff.Do("POST", "/api/v1/bulletins", c.body)
		if r.Status != c.status {
			t.Errorf("%s: %d, want %d: %.300s", c.name, r.Status, c.status, r.Body)
			continue
		}
		eb := r.Err(t)
		if c.field != "" && (len(eb.Details) == 0 || eb.Details[0].Field != c.field) {
			t.Errorf("%s: details %+v, want field %s", c.name, eb.Details, c.field)
		}
	}
	// A body of exactly 20,000 characters of 4-byte UTF-8 fits.
	b := issueBulletin(t, w.staff, map[string]any{"body": strings.Repeat("𠀀", 20000)})
	var v bulletinView
	w.staff.Must(http.StatusOK, "GET", bulletinPath(b.ID), nil).JSON(t, &v)
	if v.Body == nil || len([]rune(*v.Body)) != 20000 {
		t.Fatal("a 20,000-character body did not survive")
	}
	for _, q := range []string{"?status=archived", "?unread=maybe", "?limit=0"} {
		w.staff.Must(http.StatusBadRequest, "GET", "/api/v1/bulletins"+q, nil)
	}
	w.staff.Must(http.StatusBadRequest, "GET", bulletinPath(b.ID, "receipts")+"?cursor=zzz", nil)
	w.staff.Must(http.StatusNotFound, "GET", "/api/v1/bulletins/0", nil)
}

// sortedCodes is codes in code order, as the API lists a scope.
func sortedCodes(codes ...string) []string {
	slices.Sort(codes)
	return codes
}

// unreadIDs reads every page of a bulletin's unread list.
func unreadIDs(t *testing.T, c *apitest.Client, id int64) []int64 {
	t.Helper()
	var ids []int64
	cursor := ""
	for range 100 {
		var page struct {
			BulletinID int64 `json:"bulletin_id"`
			Items      []struct {
				InstructorID int64  `json:"instructor_id"`
				Name         string `json:"name"`
				UnitName     string `json:"unit_name"`
				RegionCode   string `json:"region_code"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		c.Must(http.StatusOK, "GET", bulletinPath(id, "unread")+"?limit=50&cursor="+cursor, nil).JSON(t, &page)
		if page.BulletinID != id {
			t.Fatalf("unread page of %d", page.BulletinID)
		}
		for _, it := range page.Items {
			if it.Name == "" || it.UnitName == "" || it.RegionCode == "" {
				t.Fatalf("unread row: %+v", it)
			}
			ids = append(ids, it.InstructorID)
		}
		if cursor = page.NextCursor; cursor == "" {
			return ids
		}
	}
	t.Fatal("unread list does not end")
	return nil
}

// activeIn lists the ids of the active instructors under any of the region prefixes, newest first.
func activeIn(t *testing.T, e *apitest.Env, prefixes ...string) []int64 {
	t.Helper()
	var ids []int64
	for _, p := range prefixes {
		var part []int64
		e.DB().Table("instructors").Where("status = 'active' AND region_code LIKE ?", p+"%").Pluck("id", &part)
		ids = append(ids, part...)
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids
}

func TestBulletinUnreadList(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	b := issueBulletin(t, w.staff, nil)

	// Before anyone opens it, everyone the receipts count as recipients is unread.
	if got, want := unreadIDs(t, w.staff, b.ID), activeIn(t, e, region.Prefix(w.area.County)); !slices.Equal(got, want) || len(got) < 4 {
		t.Fatalf("unread %v, want the county's active instructors %v", got, want)
	}
	w.ins[0].Must(http.StatusOK, "GET", bulletinPath(b.ID), nil)
	got := unreadIDs(t, w.callers["city_in"], b.ID)
	if slices.Contains(got, w.insIDs[0]) || !slices.Contains(got, w.insIDs[1]) {
		t.Fatalf("after one read: %v (read %d)", got, w.insIDs[0])
	}
	var rc struct {
		Recipients int64 `json:"recipients"`
		Read       int64 `json:"read"`
	}
	w.staff.Must(http.StatusOK, "GET", bulletinPath(b.ID, "receipts"), nil).JSON(t, &rc)
	if int64(len(got)) != rc.Recipients-rc.Read {
		t.Fatalf("%d unread, receipts say %d of %d read", len(got), rc.Read, rc.Recipients)
	}

	// Paging: one a page, newest instructor first, a cursor to the next.
	var p1 struct {
		Items []struct {
			InstructorID int64 `json:"instructor_id"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	w.staff.Must(http.StatusOK, "GET", bulletinPath(b.ID, "unread")+"?limit=1", nil).JSON(t, &p1)
	if len(p1.Items) != 1 || p1.Items[0].InstructorID != got[0] || p1.NextCursor == "" {
		t.Fatalf("first page: %+v", p1)
	}

	// A scope of two regions: a township of the county (not the county's own units) and another
	// county of the city, with an instructor of its own.
	beside := e.AreaBeside(t, w.area)
	besideStaff := e.Staff(t, "county_staff", beside.County)
	besideIns := besideStaff.Instructor(besideStaff.Unit("village", beside.Township()))
	var cb bulletinView
	w.callers["city_in"].Must(http.StatusCreated, "POST", "/api/v1/bulletins", bulletinBody(map[string]any{
		"scope": []string{w.area.Township(), beside.County}})).JSON(t, &cb)
	got = unreadIDs(t, w.callers["city_in"], cb.ID)
	if want := activeIn(t, e, region.Prefix(w.area.Township()), region.Prefix(beside.County)); !slices.Equal(got, want) ||
		!slices.Contains(got, w.insIDs[0]) || !slices.Contains(got, besideIns) || slices.Contains(got, w.insIDs[2]) {
		t.Fatalf("two-region scope: %v, want %v", got, want)
	}

	// Only staff in scope; bad cursors are refused.
	w.ins[1].Must(http.StatusForbidden, "GET", bulletinPath(b.ID, "unread"), nil)
	w.callers["county_out"].Must(http.StatusNotFound, "GET", bulletinPath(b.ID, "unread"), nil)
	w.callers["anonymous"].Must(http.StatusUnauthorized, "GET", bulletinPath(b.ID, "unread"), nil)
	w.staff.Must(http.StatusNotFound, "GET", bulletinPath(999999999, "unread"), nil)
	w.staff.Must(http.StatusBadRequest, "GET", bulletinPath(b.ID, "unread")+"?cursor=zzz", nil)
}
