package notify

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
)

func targets(ns []Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Channel+":"+n.Target)
	}
	sort.Strings(out)
	return out
}

func want(items ...string) []string {
	sort.Strings(items)
	return items
}

// A tip goes to the county group and the officers on duty; a major one also to the city's group
// and city staff; other counties and off-duty officers get nothing.
func TestTipSubmittedRecipients(t *testing.T) {
	e := newTestEnv(t)
	g := e.group(county, "county_staff", "countykey0001")
	e.group(county, "instructors", "instrkey0001") // another audience
	e.group(county2, "county_staff", "otherkey0001")
	cityG := e.group(city, "city_staff", "citykey00001")
	on1 := e.account("county_staff", county, "o_on1", true)
	on2 := e.account("county_staff", county, "o_on2", true)
	e.account("county_staff", county, "o_off", false)
	e.account("county_staff", county2, "o_other", true)
	cityStaff := e.account("city_staff", city, "o_city", false)
	d := e.dispatcher(testOptions)

	general := e.event("tip.submitted", town, 101, map[string]any{"title": "宅基地纠纷", "level": "general"})
	major := e.event("tip.submitted", town, 102, map[string]any{"title": "聚集苗头", "level": "major"})
	if n, err := d.FanOut(context.Background()); err != nil || n != 2 {
		t.Fatalf("fan-out: %d %v", n, err)
	}
	got := targets(e.notifications("event_id = ?", general))
	if w := want("robot:"+id(g), "subscribe:"+id(on1), "subscribe:"+id(on2)); !slices.Equal(got, w) {
		t.Fatalf("general tip: %v, want %v", got, w)
	}
	got = targets(e.notifications("event_id = ?", major))
	if w := want("robot:"+id(g), "subscribe:"+id(on1), "subscribe:"+id(on2), "robot:"+id(cityG), "subscribe:"+id(cityStaff)); !slices.Equal(got, w) {
		t.Fatalf("major tip: %v, want %v", got, w)
	}
	// Fanned out once: the events are consumed and a second pass adds nothing.
	if n, _ := d.FanOut(context.Background()); n != 0 {
		t.Fatalf("second fan-out took %d events", n)
	}
	for _, n := range e.notifications("") {
		if n.Status != StatusPending || n.RegionCode != town || n.EventKind != "tip.submitted" || !strings.Contains(n.Title, "风险隐患预警") {
			t.Fatalf("row %+v", n)
		}
	}
}

// When nobody of the county is on duty, every county officer is alerted.
func TestNobodyOnDutyAlertsAllCountyStaff(t *testing.T) {
	e := newTestEnv(t)
	a := e.account("county_staff", county, "o_a", false)
	b := e.account("county_staff", county, "", false)
	ev := e.event("tip.submitted", town, 7, map[string]any{"title": "t", "level": "serious"})
	if _, err := e.dispatcher(testOptions).FanOut(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, w := targets(e.notifications("event_id = ?", ev)), want("subscribe:"+id(a), "subscribe:"+id(b)); !slices.Equal(got, w) {
		t.Fatalf("%v, want %v", got, w)
	}
}

// Escalation reaches the level the tip went to; an answered sentiment reaches its reporter;
// events that notify nobody are consumed without rows.
func TestOtherEventRecipients(t *testing.T) {
	e := newTestEnv(t)
	cityG := e.group(city, "city_staff", "citykey00002")
	prov := e.account("province_staff", "130000000000", "o_prov", false)
	instructorID := int64(555)
	ins := e.db.Create(&testAccount{Role: "instructor", RegionCode: town, InstructorID: &instructorID, Status: "active",
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()})
	if ins.Error != nil {
		t.Fatal(ins.Error)
	}
	var insAcc testAccount
	e.db.Where("instructor_id = ?", instructorID).Take(&insAcc)

	toCity := e.event("tip.escalated", town, 1, map[string]any{"title": "t", "level": "general", "escalated_to": "city"})
	toProv := e.event("tip.escalated", town, 2, map[string]any{"title": "t", "level": "major", "escalated_to": "province"})
	answered := e.event("sentiment.answered", town, 3, map[string]any{"title": "饮水", "answer": "已维修", "author_id": instructorID})
	other := e.event("visit.submitted", town, 4, map[string]any{"title": "走访"})
	broken := e.event("tip.submitted", town, 5, nil)
	e.db.Model(&Event{}).Where("id = ?", broken).Update("payload", "{not json")
	d := e.dispatcher(testOptions)
	if _, err := d.FanOut(context.Background()); err != nil {
		t.Fatal(err)
	}
	check := func(ev int64, w []string) {
		t.Helper()
		if got := targets(e.notifications("event_id = ?", ev)); !slices.Equal(got, w) {
			t.Fatalf("event %d: %v, want %v", ev, got, w)
		}
	}
	check(toCity, want("robot:"+id(cityG)))
	check(toProv, want("subscribe:"+id(prov)))
	check(answered, want("subscribe:"+id(insAcc.ID)))
	check(other, nil)
	check(broken, nil)
	var left int64
	e.db.Model(&Event{}).Where("consumed_at IS NULL").Count(&left)
	if left != 0 {
		t.Fatalf("%d events left unconsumed", left)
	}
}
