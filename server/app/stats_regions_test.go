package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/stats"
)

type deadlineView struct {
	Count           int64    `json:"count"`
	MedianMinutes   *float64 `json:"median_minutes"`
	DeadlineMinutes *float64 `json:"deadline_minutes"`
	WithinDeadline  int64    `json:"within_deadline"`
	OverDeadline    int64    `json:"over_deadline"`
}

type durationView struct {
	Count         int64    `json:"count"`
	MedianMinutes *float64 `json:"median_minutes"`
}

type tipTimesView struct {
	Tips struct {
		Total   int64 `json:"total"`
		ByLevel []struct {
			Code        string       `json:"code"`
			Count       int64        `json:"count"`
			Acknowledge deadlineView `json:"acknowledge"`
			Resolve     durationView `json:"resolve"`
		} `json:"by_level"`
		Acknowledge deadlineView `json:"acknowledge"`
		Resolve     durationView `json:"resolve"`
	} `json:"tips"`
}

type regionRowView struct {
	Region struct {
		Code  string `json:"code"`
		Name  string `json:"name"`
		Level string `json:"level"`
	} `json:"region"`
	ActiveInstructors      int64        `json:"active_instructors"`
	InactiveInstructors    int64        `json:"inactive_instructors"`
	Units                  int64        `json:"units"`
	UnitsWithoutInstructor int64        `json:"units_without_instructor"`
	Records                int64        `json:"records"`
	RecordsPerInstructor   *float64     `json:"records_per_instructor"`
	Tips                   int64        `json:"tips"`
	Acknowledge            deadlineView `json:"acknowledge"`
	Resolve                durationView `json:"resolve"`
	Mediations             int64        `json:"mediations"`
	SettlementRate         *float64     `json:"settlement_rate"`
}

type regionTableView struct {
	Region struct {
		Code  string `json:"code"`
		Level string `json:"level"`
	} `json:"region"`
	From  string          `json:"from"`
	To    string          `json:"to"`
	Items []regionRowView `json:"items"`
}

func (v regionTableView) row(code string) regionRowView {
	for _, r := range v.Items {
		if r.Region.Code == code {
			return r
		}
	}
	return regionRowView{}
}

// Tips are acknowledged within or after their level's deadline (the test configuration keeps the
// defaults: critical 15 min, major 30 min, serious 2 h, general 24 h); the overview counts them per
// level against it, and the table of child regions ranks the regions of a city, a county and a
// township with the same figures.
//
// The test counts in a county with three townships of a city that only it and the adjustment round
// use (roundsAndTipsCity): the province's row of the city is compared with the county's, less what
// the city held before. Not parallel: the recount at the end rebuilds the tip cells of every
// region, and the city's figures must not move while the test reads them.
func TestStatsTipDeadlinesAndRegionTable(t *testing.T) {
	e := apitest.Shared(t)
	t0 := e.Clock.Now()
	whole := roundsAndTipsCity(t, e)
	round := map[string]bool{whole.Counties[0].County: true, whole.Counties[1].County: true} // the adjustment round's
	cities, err := e.App.Regions.Children(context.Background(), apitest.Province)
	must(t, err)
	counties, err := e.App.Regions.Children(context.Background(), whole.Code)
	must(t, err)
	dlCity, dlCounty, dlCountyName, dlTownA, dlTownB, dlTownC := whole.Code, "", "", "", "", ""
	for _, a := range whole.Counties {
		if round[a.County] {
			continue
		}
		towns, err := e.App.Regions.Children(context.Background(), a.County)
		must(t, err)
		if len(towns) >= 3 {
			dlCounty, dlCountyName, dlTownA, dlTownB, dlTownC = a.County, a.CountyName, towns[0].Code, towns[1].Code, towns[2].Code
			break
		}
	}
	if dlCounty == "" {
		t.Fatalf("no county of %s has three townships", whole.Name)
	}
	// Another county of the city, where nothing happens.
	dlCounty2, dlCounty2Name := "", ""
	for _, r := range counties {
		if r.Code != dlCounty && !round[r.Code] {
			dlCounty2, dlCounty2Name = r.Code, r.Name
			break
		}
	}
	county := e.Staff(t, "county_staff", dlCounty)
	city := e.Staff(t, "city_staff", dlCity)
	province := e.Staff(t, "province_staff", apitest.Province)
	q := "?from=" + cstMonth(t0.Add(-time.Hour)) + "&to=" + cstMonth(t0)
	var before regionTableView
	province.Must(http.StatusOK, "GET", "/api/v1/stats/regions"+q, nil).JSON(t, &before)
	base := before.row(dlCity)
	uA := county.Unit("village", dlTownA)
	uB := county.Unit("school", dlTownB)
	county.Unit("enterprise", dlTownC) // nobody appointed
	iA, _ := e.InstructorClient(t, county, uA)
	iB, _ := e.InstructorClient(t, county, uB)
	county.Must(http.StatusCreated, "POST", "/api/v1/instructors", apitest.InstructorBody(uB)) // never records

	tip := func(c *apitest.Client, level string) int64 {
		b := apitest.RecordBody("tip", phoneTime(e, -time.Hour))
		b["tip"].(map[string]any)["level"] = level
		return c.Submit("tip", b)
	}
	// Officers acting later. Their servers do not sweep: a tip escalating by itself meanwhile would
	// be as late, but the other tests' tips would escalate too.
	after := func(d time.Duration) *apitest.Client {
		later := apitest.Another(t, clock.NewFake(t0.Add(d)), func(c *config.Config) { c.Records.SweepInterval = 0 })
		return later.Staff(t, "county_staff", dlCounty) // signed in then: a token of t0 would have expired
	}
	critFast, critLate := tip(iA, "critical"), tip(iA, "critical")
	serious, major, general := tip(iB, "serious"), tip(iB, "major"), tip(iA, "general")
	tip(iB, "general") // never acknowledged: counted in no time
	mediation := apitest.RecordBody("mediation", phoneTime(e, -time.Hour))
	mediation["mediation"].(map[string]any)["outcome"] = "settled"
	iA.Submit("mediation", mediation)
	iB.Submit("visit", apitest.RecordBody("visit", phoneTime(e, -time.Hour)))

	ack := func(c *apitest.Client, id int64) {
		c.Must(http.StatusOK, "POST", recordPath("tip", id, "acknowledge"), map[string]any{})
	}
	ack(after(5*time.Minute), critFast)
	ack(after(10*time.Minute), major)
	ack(after(90*time.Minute), serious)
	ack(after(20*time.Minute), critLate)
	ack(after(25*time.Hour), general)
	after(3*time.Hour).Must(http.StatusOK, "POST", recordPath("tip", major, "resolve"), map[string]any{"note": "已化解"})

	var ov tipTimesView
	county.Must(http.StatusOK, "GET", "/api/v1/stats/overview"+q, nil).JSON(t, &ov)
	checkTipTimes(t, ov)

	// Each table is read into a value of its own: decoding into one already used would write
	// through the pointers (medians, rates) of the rows kept from it.
	regions := func(c *apitest.Client, query string) regionTableView {
		var v regionTableView
		c.Must(http.StatusOK, "GET", "/api/v1/stats/regions"+query, nil).JSON(t, &v)
		return v
	}
	// The city's counties: dlCounty has it all, dlCounty2 (and the others) nothing.
	table := regions(city, q)
	if table.Region.Code != dlCity || table.Region.Level != "city" || len(table.Items) != len(counties) || table.Items[0].Region.Level != "county" {
		t.Fatalf("city table: %+v", table)
	}
	for i := 1; i < len(table.Items); i++ {
		if table.Items[i-1].Region.Code >= table.Items[i].Region.Code {
			t.Fatalf("rows not in code order: %+v", table.Items)
		}
	}
	sq := table.row(dlCounty)
	if sq.Region.Name != dlCountyName || sq.ActiveInstructors != 3 || sq.InactiveInstructors != 1 || sq.Units != 3 ||
		sq.UnitsWithoutInstructor != 1 || sq.Records != 8 || deref(sq.RecordsPerInstructor) != 2.67 || sq.Tips != 6 ||
		sq.Acknowledge.Count != 5 || sq.Acknowledge.WithinDeadline != 3 || sq.Acknowledge.OverDeadline != 2 ||
		sq.Acknowledge.DeadlineMinutes != nil || sq.Resolve.Count != 1 || sq.Mediations != 1 || deref(sq.SettlementRate) != 1 {
		t.Errorf("%s in the city table: %+v", dlCountyName, sq)
	}
	if sl := table.row(dlCounty2); sl.Region.Name != dlCounty2Name || sl.Records != 0 || sl.ActiveInstructors != 0 ||
		sl.RecordsPerInstructor != nil || sl.SettlementRate != nil || sl.Acknowledge.MedianMinutes != nil {
		t.Errorf("%s: %+v", dlCounty2Name, sl)
	}
	// The province's cities: the city counts the same, over what it held before (from the city
	// cells of the aggregate). The adjustment round has instructors in the city, but no records.
	table = regions(province, q)
	if len(table.Items) != len(cities) || len(cities) != 11 || table.Items[0].Region.Code != apitest.CityA {
		t.Fatalf("province table: %d rows, first %+v", len(table.Items), table.Items[0].Region)
	}
	if cd := table.row(dlCity); cd.Region.Code != dlCity || base.Records != 0 || base.Tips != 0 || cd.Records != sq.Records || cd.Tips != sq.Tips ||
		jsonOf(t, cd.Acknowledge) != jsonOf(t, sq.Acknowledge) ||
		cd.ActiveInstructors-base.ActiveInstructors != 3 || cd.UnitsWithoutInstructor-base.UnitsWithoutInstructor != 1 {
		t.Errorf("%s in the province table: %+v (before: %+v)\n%s\n%s", whole.Name, cd, base, jsonOf(t, cd.Acknowledge), jsonOf(t, sq.Acknowledge))
	}
	// The county's townships, counted from the records themselves.
	table = regions(county, q)
	a, b, c := table.row(dlTownA), table.row(dlTownB), table.row(dlTownC)
	if table.Region.Level != "county" || a.Region.Level != "township" ||
		a.ActiveInstructors != 1 || a.Records != 4 || a.Tips != 3 || a.Acknowledge.WithinDeadline != 1 || a.Acknowledge.OverDeadline != 2 || a.Mediations != 1 ||
		b.ActiveInstructors != 2 || b.InactiveInstructors != 1 || b.Records != 4 || b.Tips != 3 || b.Acknowledge.WithinDeadline != 2 ||
		b.Acknowledge.OverDeadline != 0 || b.Resolve.Count != 1 || deref(b.RecordsPerInstructor) != 2 ||
		c.Units != 1 || c.UnitsWithoutInstructor != 1 || c.ActiveInstructors != 0 {
		t.Errorf("townships:\n%+v\n%+v\n%+v", a, b, c)
	}
	// A township lists its villages (none of the units is in one); a village has no children.
	table = regions(county, "?region_code="+dlTownA+"&"+q[1:])
	if table.Region.Level != "township" || len(table.Items) == 0 || table.Items[0].Region.Level != "village" || table.Items[0].Records != 0 {
		t.Errorf("township table: %+v", table)
	}
	village := table.Items[0].Region.Code
	table = regions(county, "?region_code="+village)
	if table.Region.Level != "village" || table.Items == nil || len(table.Items) != 0 {
		t.Errorf("village table: %+v", table)
	}

	// Scope: a county cannot rank its city's counties, nor another city its own; not instructors.
	county.Must(http.StatusForbidden, "GET", "/api/v1/stats/regions?region_code="+dlCity, nil).Err(t)
	e.Staff(t, "city_staff", apitest.CityA).Must(http.StatusForbidden, "GET", "/api/v1/stats/regions?region_code="+dlCity, nil).Err(t)
	iA.Must(http.StatusForbidden, "GET", "/api/v1/stats/regions", nil).Err(t)
	e.Anon(t).Must(http.StatusUnauthorized, "GET", "/api/v1/stats/regions", nil)
	e.Staff(t, "admin", apitest.Province).Must(http.StatusForbidden, "GET", "/api/v1/stats/regions", nil).Err(t)
	for _, bad := range []struct{ q, field string }{{"region_code=" + dlCity[:4], "region_code"}, {"from=2025-13", "from"}, {"from=2025-06&to=2025-01", "to"}} {
		if got := city.Must(http.StatusBadRequest, "GET", "/api/v1/stats/regions?"+bad.q, nil).Err(t); len(got.Details) == 0 || got.Details[0].Field != bad.field {
			t.Errorf("%s: %+v", bad.q, got)
		}
	}

	checkTipRecount(t, e, county, dlCity, dlCounty, q, ov)
}

// roundsAndTipsCity is a whole city (apitest.Env.City) shared by two serial tests whose data do not
// meet in what they count: the adjustment round lists only terms ending in its window (the tip test's
// instructors are new), and the tip test counts records (the round makes none) and compares the
// city's instructors with what it held before. Its first two counties are the round's. Sharing it
// leaves a city to the tests that take counties one by one: the region table has only nine cities
// outside the fixtures.
func roundsAndTipsCity(t *testing.T, e *apitest.Env) apitest.City {
	t.Helper()
	roundsAndTips.Lock()
	defer roundsAndTips.Unlock()
	if roundsAndTips.city == nil {
		c := e.City(t)
		if len(c.Counties) < 4 {
			t.Fatalf("%s has %d counties, the two tests need four", c.Name, len(c.Counties))
		}
		roundsAndTips.city = &c
	}
	return *roundsAndTips.city
}

var roundsAndTips struct {
	sync.Mutex
	city *apitest.City
}

func checkTipTimes(t *testing.T, ov tipTimesView) {
	t.Helper()
	want := map[string]struct {
		count, within, over, resolved int64
		deadline                      float64
	}{
		"critical": {2, 1, 1, 0, 15}, "major": {1, 1, 0, 1, 30}, "serious": {1, 1, 0, 0, 120}, "general": {1, 0, 1, 0, 1440},
	}
	if len(ov.Tips.ByLevel) != 4 {
		t.Fatalf("levels: %+v", ov.Tips.ByLevel)
	}
	for _, lv := range ov.Tips.ByLevel {
		w := want[lv.Code]
		a := lv.Acknowledge
		if a.Count != w.count || a.WithinDeadline != w.within || a.OverDeadline != w.over || a.DeadlineMinutes == nil ||
			*a.DeadlineMinutes != w.deadline || lv.Resolve.Count != w.resolved {
			t.Errorf("level %s: %+v, resolve %+v", lv.Code, a, lv.Resolve)
		}
	}
	for _, lv := range ov.Tips.ByLevel {
		// The two critical tips took 5 and 20 minutes: the median lies between, in the 5 or 18–20 buckets.
		if lv.Code == "critical" && (lv.Acknowledge.MedianMinutes == nil || *lv.Acknowledge.MedianMinutes < 5 || *lv.Acknowledge.MedianMinutes > 20) {
			t.Errorf("critical median: %v", deref(lv.Acknowledge.MedianMinutes))
		}
		// resolved three hours after submission: in the 180–210 bucket
		if lv.Code == "major" && (lv.Resolve.MedianMinutes == nil || *lv.Resolve.MedianMinutes < 180 || *lv.Resolve.MedianMinutes >= 210) {
			t.Errorf("major resolve median: %v", deref(lv.Resolve.MedianMinutes))
		}
	}
	a := ov.Tips.Acknowledge
	if ov.Tips.Total != 6 || a.Count != 5 || a.WithinDeadline != 3 || a.OverDeadline != 2 || a.DeadlineMinutes != nil || ov.Tips.Resolve.Count != 1 {
		t.Errorf("all levels: %+v %+v", a, ov.Tips.Resolve)
	}
}

// checkTipRecount puts the county's tips back as a server before migration 32 counted them (times
// without their level): the totals stay, the levels are empty; the recount the migration asks for
// brings the levels back.
func checkTipRecount(t *testing.T, e *apitest.Env, county *apitest.Client, cityCode, countyCode, q string, want tipTimesView) {
	t.Helper()
	db := e.DB()
	legacy := func(metric string) string {
		for _, p := range []string{"a:", "z:"} {
			if rest, ok := strings.CutPrefix(metric, p); ok {
				if _, b, ok := strings.Cut(rest, ":"); ok {
					return p + b
				}
			}
		}
		return metric
	}
	var cells []stats.Count
	must(t, db.Where("region_code LIKE ? AND (metric LIKE 'a:%' OR metric LIKE 'z:%')", cityCode[:4]+"%").Find(&cells).Error)
	if len(cells) == 0 {
		t.Fatal("no duration cells to rewrite")
	}
	merged := map[stats.Count]int64{}
	for _, c := range cells {
		must(t, db.Where("grain = ? AND region_code = ? AND month = ? AND metric = ? AND slot = ?", c.Grain, c.RegionCode, c.Month, c.Metric, c.Slot).
			Delete(&stats.Count{}).Error)
		n := c.N
		c.N, c.Metric = 0, legacy(c.Metric)
		merged[c] += n
	}
	for c, n := range merged {
		c.N = n
		must(t, db.Create(&c).Error)
	}
	var facts []stats.Fact
	must(t, db.Where("region_code LIKE ?", countyCode[:6]+"%").Find(&facts).Error)
	for _, f := range facts {
		ms := strings.Fields(f.Metrics)
		for i := range ms {
			ms[i] = legacy(ms[i])
		}
		must(t, db.Model(&stats.Fact{}).Where("record_id = ?", f.RecordID).Update("metrics", strings.Join(ms, " ")).Error)
	}

	var old tipTimesView
	county.Must(http.StatusOK, "GET", "/api/v1/stats/overview"+q, nil).JSON(t, &old)
	if a := old.Tips.Acknowledge; a.Count != 5 || a.WithinDeadline != 0 || a.OverDeadline != 0 || jsonOf(t, a.MedianMinutes) != jsonOf(t, want.Tips.Acknowledge.MedianMinutes) {
		t.Errorf("older keys, all levels: %+v", a)
	}
	for _, lv := range old.Tips.ByLevel {
		if lv.Acknowledge.Count != 0 || lv.Resolve.Count != 0 {
			t.Errorf("older keys counted in level %s: %+v", lv.Code, lv)
		}
	}

	must(t, db.Exec("INSERT INTO stats_state (name, value) VALUES ('rebuild_tips', 'pending')").Error)
	if err := stats.Prepare(context.Background(), db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	var n int64
	must(t, db.Raw("SELECT COUNT(*) FROM stats_state WHERE name = 'rebuild_tips'").Scan(&n).Error)
	var again tipTimesView
	county.Must(http.StatusOK, "GET", "/api/v1/stats/overview"+q, nil).JSON(t, &again)
	if n != 0 || jsonOf(t, again) != jsonOf(t, want) {
		t.Errorf("after the recount (state rows left: %d):\n%+v\nwant\n%+v", n, again, want)
	}
}
