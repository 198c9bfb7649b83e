package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	apitest.Cleanup()
	os.Exit(code)
}

// TestBareTipsAnswerShiliusPage: the bare tip list (the floor the benchmark measures Shiliu's
// against) answers the page Shiliu answers a county officer: the same tips in the same order,
// none of the county's other records, the same fields, the same values but for the labels it
// does not look up, and a next page where Shiliu has one. Otherwise the floor would be the cost
// of some other work.
func TestBareTipsAnswerShiliusPage(t *testing.T) {
	e := apitest.Shared(t)
	a := e.Area(t)
	county := e.Staff(t, "county_staff", a.County)
	ins, _ := e.InstructorClient(t, county, county.Unit("village", a.Township()))
	at := time.Now().Add(-time.Hour).Format(time.RFC3339)
	var tips []int64
	for i := range 5 {
		tips = append(tips, ins.Submit("tip", apitest.RecordBody("tip", at)))
		if i == 2 {
			ins.Submit("visit", apitest.RecordBody("visit", at))
		}
	}
	county.Must(http.StatusOK, "POST", "/api/v1/tips/"+strconv.FormatInt(tips[1], 10)+"/acknowledge", nil)
	bare, _ := serveBare(t, e)

	type page struct {
		Items      []map[string]any `json:"items"`
		NextCursor string           `json:"next_cursor"`
	}
	for _, q := range []string{"limit=3", "limit=20", "status=submitted&limit=20"} {
		var want, got page
		county.Must(http.StatusOK, "GET", "/api/v1/tips?"+q, nil).JSON(t, &want)
		resp, err := http.Get(bare.URL + "/bare/tips?county=" + a.County[:6] + "&" + q)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: bare answered %d, %v", q, resp.StatusCode, err)
		}
		if len(want.Items) == 0 || len(got.Items) != len(want.Items) || (got.NextCursor == "") != (want.NextCursor == "") {
			t.Fatalf("%s: bare %d items (next %q), Shiliu %d (next %q)", q, len(got.Items), got.NextCursor, len(want.Items), want.NextCursor)
		}
		for i, w := range want.Items {
			g := got.Items[i]
			if k, gk := slices.Sorted(maps.Keys(w)), slices.Sorted(maps.Keys(g)); !slices.Equal(k, gk) {
				t.Fatalf("%s: item %d has fields %v, Shiliu's %v", q, i, gk, k)
			}
			wt, gt := w["tip"].(map[string]any), g["tip"].(map[string]any)
			if k, gk := slices.Sorted(maps.Keys(wt)), slices.Sorted(maps.Keys(gt)); !slices.Equal(k, gk) {
				t.Fatalf("%s: item %d's tip has fields %v, Shiliu's %v", q, i, gk, k)
			}
			for _, f := range []string{"id", "kind", "client_id", "title", "status", "occurred_at", "received_at", "updated_at",
				"place", "latitude", "longitude", "author_id", "author_name", "unit_id", "unit_name", "region_code", "role", "tags", "version"} {
				if !jsonEqual(w[f], g[f]) {
					t.Errorf("%s: item %d: %s is %v, Shiliu's %v", q, i, f, g[f], w[f])
				}
			}
			for _, f := range []string{"level", "kind", "people_involved", "groups_involved", "description", "ongoing", "ack_deadline", "acknowledged_at"} {
				if !jsonEqual(wt[f], gt[f]) {
					t.Errorf("%s: item %d: tip.%s is %v, Shiliu's %v", q, i, f, gt[f], wt[f])
				}
			}
		}
	}
}

// TestBareAuditedTipsWriteAnEntryEach: with audit=1 the bare tip list writes an audit entry for
// each read, concurrent reads included (gathered into shared INSERTs), before it returns, as
// Shiliu's trail does: the audited floor is the page with the audit's work.
func TestBareAuditedTipsWriteAnEntryEach(t *testing.T) {
	e := apitest.Shared(t)
	a := e.Area(t)
	county := e.Staff(t, "county_staff", a.County)
	ins, _ := e.InstructorClient(t, county, county.Unit("village", a.Township()))
	ins.Submit("tip", apitest.RecordBody("tip", time.Now().Add(-time.Hour).Format(time.RFC3339)))
	bare, sqlDB := serveBare(t, e)
	entries := func() int {
		var n int
		if err := sqlDB.QueryRow("SELECT COUNT(*) FROM audit_log WHERE request_id = 'bare' AND region_code = ?", a.County[:6]+"000000").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	get := func(q string) error {
		resp, err := http.Get(bare.URL + "/bare/tips?county=" + a.County[:6] + q)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("bare answered %d", resp.StatusCode)
		}
		return nil
	}
	if err := get(""); err != nil {
		t.Fatal(err)
	}
	if n := entries(); n != 0 {
		t.Fatalf("%d audit entries after a read without audit=1", n)
	}
	const readers = 12
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Go(func() { errs <- get("&audit=1") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := entries(); n != readers {
		t.Fatalf("%d audit entries after %d audited reads", n, readers)
	}
}

// serveBare serves the bare handlers on the shared server's database until the test ends.
func serveBare(t *testing.T, e *apitest.Env) (*httptest.Server, *sql.DB) {
	t.Helper()
	sqlDB, err := e.App.DB.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	b, err := newBareServer(e.App, sqlDB)
	if err != nil {
		t.Fatal(err)
	}
	bare := httptest.NewServer(b.engine)
	t.Cleanup(bare.Close)
	return bare, sqlDB
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
