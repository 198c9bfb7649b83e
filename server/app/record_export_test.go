package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/sheet"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/region"
	"github.com/xuri/excelize/v2"
)

// exportSheet is an exported workbook read back: its header and rows.
type exportSheet struct {
	header []string
	rows   [][]string
}

// readExport opens an export response with excelize: one sheet named for the kind.
func readExport(t *testing.T, r *apitest.Response, sheetName string) exportSheet {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != xlsxType {
		t.Fatalf("content type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename*=utf-8''") {
		t.Fatalf("content disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if list := f.GetSheetList(); len(list) != 1 || list[0] != sheetName {
		t.Fatalf("sheets %v, want [%s]", list, sheetName)
	}
	rows, err := f.GetRows(sheetName)
	if err != nil || len(rows) == 0 {
		t.Fatalf("rows: %v %v", rows, err)
	}
	return exportSheet{header: rows[0], rows: rows[1:]}
}

// col is the cell of row i under header h ("" when the row is shorter: excelize drops empty
// trailing cells).
func (s exportSheet) col(t *testing.T, i int, h string) string {
	t.Helper()
	j := slices.Index(s.header, h)
	if j < 0 {
		t.Fatalf("no column %q in %v", h, s.header)
	}
	if j >= len(s.rows[i]) {
		return ""
	}
	return s.rows[i][j]
}

func (s exportSheet) ids(t *testing.T) []int64 {
	t.Helper()
	out := make([]int64, len(s.rows))
	for i := range s.rows {
		id, err := strconv.ParseInt(s.col(t, i, "编号"), 10, 64)
		if err != nil {
			t.Fatalf("row %d: id: %v", i, err)
		}
		out[i] = id
	}
	return out
}

func (s exportSheet) row(t *testing.T, id int64) int {
	t.Helper()
	i := slices.Index(s.ids(t), id)
	if i < 0 {
		t.Fatalf("record %d not in the export", id)
	}
	return i
}

var exportSheetNames = map[string]string{"visit": "走访日志", "sentiment": "民情报告", "tip": "风险隐患线索", "mediation": "矛盾纠纷调解记录", "": "全部记录"}

func exportPath(kind string, query url.Values) string {
	coll := "records"
	if kind != "" {
		coll = apitest.RecordPaths[kind]
	}
	return "/api/v1/" + coll + "/export.xlsx?" + query.Encode()
}

// TestRecordExportOfEachKind: each kind exports its own columns with Chinese headers, labels for
// codes and Beijing times; every kind's export reads the list's filters.
func TestRecordExportOfEachKind(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	occurred := phoneTime(e, -90*time.Minute)
	at, _ := time.Parse(time.RFC3339, occurred)
	ids := map[string]int64{}
	for _, kind := range []string{"visit", "sentiment", "tip", "mediation"} {
		b := apitest.RecordBody(kind, occurred)
		if kind == "visit" {
			b["tags"] = []string{"exchange", "shiliu_brand"}
		}
		ids[kind] = w.author.Submit(kind, b)
	}
	mine := url.Values{"author_id": {fmt.Sprint(w.ins)}}
	own := map[string]map[string]string{ // kind → header → cell of apitest.RecordBody's record
		"visit":     {"走访类型": "入户走访", "走访户数": "5", "涉及民族": "汉族、回族", "需要跟进": "否", "状态": "已提交", "发挥的作用": "民情联络员", "标签": "石榴花开、交往交流交融"},
		"sentiment": {"类别": "民生诉求", "紧急程度": "紧急", "民情内容": "村民反映饮水管道老化", "状态": "待处理", "发挥的作用": "民情联络员", "标签": ""},
		"tip":       {"风险等级": "一般", "线索类型": "苗头性", "涉及群体": "两户村民", "正在发生": "是", "状态": "待签收", "发挥的作用": "维稳调解员"},
		"mediation": {"纠纷类型": "房屋宅基地纠纷", "当事人": "马某(回族,申请人);张某(汉族,被申请人)", "调解结果": "部分调解成功", "回访次数": "0", "发挥的作用": "维稳调解员"},
	}
	for kind, cells := range own {
		s := readExport(t, w.staff.Must(http.StatusOK, "GET", exportPath(kind, mine), nil), exportSheetNames[kind])
		if got := s.ids(t); !slices.Equal(got, []int64{ids[kind]}) {
			t.Fatalf("%s export of the author: %v, want [%d]", kind, got, ids[kind])
		}
		if slices.Contains(s.header, "记录类型") {
			t.Errorf("%s export names the kind on every row: %v", kind, s.header)
		}
		for h, want := range cells {
			if got := s.col(t, 0, h); got != want {
				t.Errorf("%s %s = %q, want %q", kind, h, got, want)
			}
		}
		if got := s.col(t, 0, "发生时间"); got != at.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04") {
			t.Errorf("%s occurred at %q, sent %s", kind, got, occurred)
		}
		if s.col(t, 0, "指导员") == "" || s.col(t, 0, "所在单位") == "" || s.col(t, 0, "所属县(市、区)") != w.area.CountyName ||
			s.col(t, 0, "区划代码") != w.area.Township() || s.col(t, 0, "地点") != "西山村村委会" {
			t.Errorf("%s common columns: %v", kind, s.rows[0])
		}
	}

	// All kinds at once: each row says its kind, and an instructor exports only their own.
	s := readExport(t, w.author.Must(http.StatusOK, "GET", exportPath("", nil), nil), "全部记录")
	got := s.ids(t)
	slices.Sort(got)
	want := []int64{ids["visit"], ids["sentiment"], ids["tip"], ids["mediation"]}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the author's export of all kinds: %v, want %v", got, want)
	}
	if k := s.col(t, s.row(t, ids["tip"]), "记录类型"); k != "风险隐患线索" {
		t.Errorf("kind of the tip row: %q", k)
	}
	// Newest first, as the list.
	if !slices.IsSortedFunc(s.ids(t), func(a, b int64) int { return int(b - a) }) {
		t.Errorf("export order: %v", s.ids(t))
	}
}

// TestRecordExportHonoursFiltersAndScope: an export holds what the list with the same filters
// shows the caller, all pages of it, and nothing of another county.
func TestRecordExportHonoursFiltersAndScope(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	keyword := "导出关键词" + apitest.Unique()
	major := apitest.RecordBody("tip", phoneTime(e, -time.Hour))
	major["tip"].(map[string]any)["level"] = "major"
	major["tip"].(map[string]any)["description"] = "村民反映" + keyword
	majorID := w.author.Submit("tip", major)
	var general []int64
	for i := 0; i < 3; i++ {
		general = append(general, w.author.Submit("tip", apitest.RecordBody("tip", phoneTime(e, -time.Duration(48+i)*time.Hour))))
	}
	outStaff := w.callers["county_out"]
	outAuthor, outIns := e.InstructorClient(t, outStaff, outStaff.Unit("village", w.area.Neighbour))
	outTip := outAuthor.Submit("tip", apitest.RecordBody("tip", phoneTime(e, -time.Hour)))

	mine := func(kv ...string) url.Values {
		q := url.Values{"author_id": {fmt.Sprint(w.ins)}}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	yesterday := e.Clock.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -1).Format("2006-01-02")
	all := append([]int64{majorID}, general...)
	cases := []struct {
		name  string
		kind  string
		query url.Values
		want  []int64
	}{
		{"all of the author's tips", "tip", mine(), all},
		{"by level", "tip", mine("level", "major"), []int64{majorID}},
		{"by keyword", "tip", mine("q", keyword), []int64{majorID}},
		{"by keyword over all kinds", "", url.Values{"q": {keyword}}, []int64{majorID}},
		{"by kind over all kinds", "", mine("kind", "tip", "level", "general"), general},
		{"from a date", "tip", mine("from", yesterday), []int64{majorID}},
		{"up to a time", "tip", mine("to", e.Clock.Now().Add(-24*time.Hour).Format(time.RFC3339)), general},
		{"in a window", "", mine("from", e.Clock.Now().Add(-49*time.Hour-time.Minute).Format(time.RFC3339), "to", e.Clock.Now().Add(-47*time.Hour).Format(time.RFC3339)), general[:2]},
		{"by status", "tip", mine("status", "acknowledged"), nil},
		{"by unit", "tip", url.Values{"unit_id": {fmt.Sprint(w.unit)}}, all},
		{"by region", "tip", mine("region_code", w.area.Neighbour), nil},
	}
	for _, tc := range cases {
		name := exportSheetNames[tc.kind]
		if k := tc.query.Get("kind"); k != "" {
			name = exportSheetNames[k] // all records of one kind are that kind's export
		}
		s := readExport(t, w.staff.Must(http.StatusOK, "GET", exportPath(tc.kind, tc.query), nil), name)
		got := s.ids(t)
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", tc.name, got, want)
		}
	}

	// Who sees the author's tips in an export: the county, its city and the province; not the
	// neighbouring county, another city or another instructor.
	inScope := map[string]bool{"county_in": true, "city_in": true, "province": true, "author": true}
	for who, c := range w.callers {
		r := c.Do("GET", exportPath("tip", mine()), nil)
		if who == "anonymous" {
			if r.Status != http.StatusUnauthorized {
				t.Errorf("anonymous export: %d", r.Status)
			}
			continue
		}
		if r.Status != http.StatusOK {
			t.Errorf("%s export: %d %s", who, r.Status, r.Body)
			continue
		}
		n := len(readExport(t, r, "风险隐患线索").rows)
		if (n == len(all)) != inScope[who] || (n != 0 && n != len(all)) {
			t.Errorf("%s exported %d of the author's %d tips", who, n, len(all))
		}
	}

	// Unfiltered, a county exports only its own subtree, whoever submitted.
	s := readExport(t, w.staff.Must(http.StatusOK, "GET", exportPath("tip", nil), nil), "风险隐患线索")
	for i := range s.rows {
		if code := s.col(t, i, "区划代码"); !region.Contains(w.area.County, code) {
			t.Fatalf("the county's export holds a tip of %s", code)
		}
	}
	if slices.Contains(s.ids(t), outTip) || !slices.Contains(s.ids(t), majorID) {
		t.Fatalf("the county's export: %v", s.ids(t))
	}
	s = readExport(t, outStaff.Must(http.StatusOK, "GET", exportPath("", url.Values{"author_id": {fmt.Sprint(outIns)}}), nil), "全部记录")
	if !slices.Equal(s.ids(t), []int64{outTip}) {
		t.Fatalf("the neighbouring county's export of its instructor: %v", s.ids(t))
	}
	// The other county's instructor asking for this author's records gets only their own: none.
	s = readExport(t, outAuthor.Must(http.StatusOK, "GET", exportPath("", url.Values{"author_id": {fmt.Sprint(w.ins)}}), nil), "全部记录")
	if len(s.rows) != 0 {
		t.Fatalf("another instructor exported %v", s.ids(t))
	}
}

// TestRecordExportBadFilters: the filters are checked as the list checks them, in the error
// format, before anything is written.
func TestRecordExportBadFilters(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	cases := []struct {
		path  string
		field string
	}{
		{"/api/v1/tips/export.xlsx?level=extreme", "level"},
		{"/api/v1/tips/export.xlsx?status=closed", "status"},
		{"/api/v1/visits/export.xlsx?visit_kind=party", "visit_kind"},
		{"/api/v1/sentiments/export.xlsx?urgency=now", "urgency"},
		{"/api/v1/mediations/export.xlsx?unsettled=maybe", "unsettled"},
		{"/api/v1/records/export.xlsx?kind=petition", "kind"},
		{"/api/v1/records/export.xlsx?from=yesterday", "from"},
		{"/api/v1/records/export.xlsx?to=2024-13-01", "to"},
		{"/api/v1/records/export.xlsx?region_code=1301", "region_code"},
		{"/api/v1/records/export.xlsx?author_id=abc", "author_id"},
		{"/api/v1/records/export.xlsx?unit_id=-1", "unit_id"},
		{"/api/v1/records/export.xlsx?q=" + strings.Repeat("关", 51), "q"},
	}
	for _, tc := range cases {
		r := staff.Do("GET", tc.path, nil)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", tc.path, r.Status, r.Body)
			continue
		}
		body := r.Err(t)
		if body.Code != "invalid_argument" || len(body.Details) == 0 || body.Details[0].Field != tc.field {
			t.Errorf("%s: %+v", tc.path, body)
		}
	}
}

// TestRecordExportIsAudited: tips and mediations are sensitive, and so is their export (and the
// export of all kinds); visit logs are not.
func TestRecordExportIsAudited(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	w.author.Submit("tip", apitest.RecordBody("tip", phoneTime(w.e, -time.Hour)))
	staffID := accountID(t, w.staff)
	exports := map[string]*apitest.Response{}
	for _, coll := range []string{"tips", "mediations", "records", "visits", "sentiments"} {
		exports[coll] = w.staff.Must(http.StatusOK, "GET", "/api/v1/"+coll+"/export.xlsx", nil)
	}
	refused := w.staff.Must(http.StatusBadRequest, "GET", "/api/v1/tips/export.xlsx?level=extreme", nil)
	l := auditOf(t, w.staff, url.Values{"account_id": {fmt.Sprint(staffID)}, "limit": {"100"}})
	for coll, subject := range map[string]string{"tips": "tip", "mediations": "mediation", "records": "record"} {
		got, ok := l.find(exports[coll].Header.Get("X-Request-ID"))
		if !ok || got.Action != "GET /api/v1/"+coll+"/export.xlsx" || got.SubjectType != subject || got.Status != 200 ||
			got.Role != "county_staff" || got.RequestID == "" {
			t.Errorf("export of %s in the audit trail: %+v (found %v)", coll, got, ok)
		}
	}
	if got, ok := l.find(refused.Header.Get("X-Request-ID")); !ok || got.Status != http.StatusBadRequest {
		t.Errorf("refused tip export in the audit trail: %+v (found %v)", got, ok)
	}
	for _, coll := range []string{"visits", "sentiments"} {
		if _, ok := l.find(exports[coll].Header.Get("X-Request-ID")); ok {
			t.Errorf("export of %s is audited as a sensitive read", coll)
		}
	}
}

// TestRecordExportCap: more matching rows than one export may hold is refused with a clear
// message before anything is written. The cap is 50,000 in service; a small one here.
func TestRecordExportCap(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	for i := 0; i < 3; i++ {
		w.author.Submit("visit", apitest.RecordBody("visit", phoneTime(e, -time.Duration(i+1)*time.Hour)))
	}
	p := &access.Principal{Role: access.RoleCountyStaff, RegionCode: w.area.County, AccountID: 1}
	f := record.Filter{Kind: "visit", AuthorID: w.ins, Param: func(string) string { return "" }}
	svc := func(max int) *record.Service {
		return record.NewService(e.DB(), e.App.Roster, e.App.Regions, e.App.Uploads, e.Clock, discardLogger(),
			record.Options{MaxExportRows: max})
	}
	tbl, err := sheet.New("走访日志")
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc(2).Export(context.Background(), p, f, tbl)
	ae, ok := apperr.As(err)
	if !ok || ae.Status != http.StatusBadRequest || ae.Code != "export_too_large" || !strings.Contains(ae.Message, "3条") ||
		!strings.Contains(ae.Message, "缩小筛选范围") {
		t.Fatalf("export over the cap: %v", err)
	}
	if tbl.Rows() != 0 {
		t.Fatalf("%d rows written before the refusal", tbl.Rows())
	}
	tbl, _ = sheet.New("走访日志")
	n, err := svc(3).Export(context.Background(), p, f, tbl)
	if err != nil || n != 3 || tbl.Rows() != 4 {
		t.Fatalf("export at the cap: %d rows, %v", n, err)
	}
	// Out of scope, the same filter counts nothing and exports an empty sheet.
	other := &access.Principal{Role: access.RoleCountyStaff, RegionCode: w.area.Neighbour, AccountID: 1}
	tbl, _ = sheet.New("走访日志")
	if n, err := svc(2).Export(context.Background(), other, f, tbl); err != nil || n != 0 {
		t.Fatalf("export out of scope: %d rows, %v", n, err)
	}
}

// TestRecordExportReadsEveryPage: an export is not one page of the list but all of it, read a
// page (500) at a time, without repeating or skipping a row at the page boundaries.
// Not parallel: 520 records at once would crowd other tests' first pages.
func TestRecordExportReadsEveryPage(t *testing.T) {
	w := newRecordWorld(t)
	e := w.e
	const n = 520
	second, _ := e.InstructorClient(t, w.staff, w.unit)
	unit := w.staff.Unit("village", w.area.Township()) // two instructors per unit at most
	third, _ := e.InstructorClient(t, w.staff, unit)
	fourth, _ := e.InstructorClient(t, w.staff, unit)
	clients := []*apitest.Client{w.author, second, third, fourth}
	keyword := "分页导出" + apitest.Unique()
	var wg sync.WaitGroup
	created := make(chan int64, n)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; j < n; j += len(clients) {
				body := apitest.RecordBody("visit", phoneTime(e, -time.Duration(j)*time.Minute))
				body["visit"].(map[string]any)["content"] = "入户走访" + keyword
				r := c.Do("POST", "/api/v1/visits", body)
				if r.Status != http.StatusCreated {
					t.Errorf("submit: %d %s", r.Status, r.Body)
					return
				}
				created <- apitest.ID(t, r)
			}
		}()
	}
	wg.Wait()
	close(created)
	var want []int64
	for id := range created {
		want = append(want, id)
	}
	if len(want) != n {
		t.Fatalf("%d of %d submitted", len(want), n)
	}
	slices.Sort(want)
	slices.Reverse(want)
	s := readExport(t, w.staff.Must(http.StatusOK, "GET", exportPath("visit", url.Values{"q": {keyword}}), nil), "走访日志")
	if got := s.ids(t); !slices.Equal(got, want) {
		t.Fatalf("export of %d records: %d rows, first %v", n, len(got), got[:min(5, len(got))])
	}
}
