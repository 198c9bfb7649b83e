package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
)

func TestUnitAndInstructorRoster(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	name := "西山村" + apitest.Unique()
	var unit struct {
		ID         int64  `json:"id"`
		Kind       string `json:"kind"`
		KindName   string `json:"kind_name"`
		KeyTask    string `json:"key_task"`
		RegionName string `json:"region_name"`
	}
	staff.Must(http.StatusCreated, "POST", "/api/v1/units", map[string]any{"name": name, "kind": "village", "region_code": apitest.TownshipA1}).JSON(t, &unit)
	if unit.KindName != "村" || !strings.Contains(unit.KeyTask, "交往交流交融") || unit.RegionName == "" {
		t.Fatalf("unit: %+v", unit)
	}
	dup := staff.Must(http.StatusConflict, "POST", "/api/v1/units", map[string]any{"name": name, "kind": "village", "region_code": apitest.TownshipA1}).Err(t)
	if dup.Code != "unit_exists" {
		t.Fatalf("duplicate unit: %+v", dup)
	}
	staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/units/%d", unit.ID), map[string]any{"address": "西山村委会"})

	body := apitest.InstructorBody(unit.ID)
	body["id_number"] = "130102198001011232"
	body["political_status"] = "cpc_member"
	phone := body["phone"].(string)
	var ins struct {
		ID            int64  `json:"id"`
		Phone         string `json:"phone"`
		IDNumber      string `json:"id_number"`
		EthnicityName string `json:"ethnicity_name"`
		Status        string `json:"status"`
		UnitName      string `json:"unit_name"`
	}
	staff.Must(http.StatusCreated, "POST", "/api/v1/instructors", body).JSON(t, &ins)
	if ins.Phone != phone || ins.EthnicityName != "回族" || ins.Status != "active" || ins.UnitName == "" {
		t.Fatalf("instructor detail: %+v", ins)
	}

	// Lists mask phone and ID number; a phone search still finds the person.
	var list struct {
		Items []struct {
			ID            int64  `json:"id"`
			Phone         string `json:"phone"`
			IDNumber      string `json:"id_number"`
			EthnicityName string `json:"ethnicity_name"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	staff.Must(http.StatusOK, "GET", "/api/v1/instructors?phone="+phone, nil).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != ins.ID {
		t.Fatalf("phone search: %+v", list)
	}
	want := phone[:3] + "****" + phone[7:]
	if list.Items[0].Phone != want || list.Items[0].IDNumber != "130102********1232" || list.Items[0].EthnicityName != "回族" {
		t.Fatalf("masking: %+v", list.Items[0])
	}

	// At rest, neither number is readable.
	var row struct {
		PhoneEnc    string
		IDNumberEnc string
	}
	e.DB().Raw("SELECT phone_enc, id_number_enc FROM instructors WHERE id = ?", ins.ID).Scan(&row)
	if row.PhoneEnc == "" || strings.Contains(row.PhoneEnc, phone) || strings.Contains(row.IDNumberEnc, "130102198001011232") {
		t.Fatalf("stored in clear: %+v", row)
	}

	// The same phone cannot be on the roster twice.
	again := apitest.InstructorBody(unit.ID)
	again["phone"] = phone
	if r := staff.Must(http.StatusConflict, "POST", "/api/v1/instructors", again).Err(t); r.Code != "phone_taken" || r.Details[0].Field != "phone" {
		t.Fatalf("duplicate phone: %+v", r)
	}
}

func TestAtMostTwoActiveInstructorsPerUnit(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := staff.Unit("school", apitest.CountyA1)
	first := staff.Instructor(unit)
	staff.Instructor(unit)
	third := staff.Must(http.StatusConflict, "POST", "/api/v1/instructors", apitest.InstructorBody(unit)).Err(t)
	if third.Code != "unit_full" || !strings.Contains(third.Message, "2名") {
		t.Fatalf("third instructor: %+v", third)
	}
	// A suspended one may be recorded; activating them while the unit is full is refused.
	body := apitest.InstructorBody(unit)
	body["status"] = "suspended"
	waiting := apitest.ID(t, staff.Must(http.StatusCreated, "POST", "/api/v1/instructors", body))
	staff.Must(http.StatusConflict, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", waiting), map[string]any{"status": "active"})
	// Dismissing one frees a place.
	staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", first), map[string]any{"status": "dismissed"})
	staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", waiting), map[string]any{"status": "active"})

	// Moving an active instructor into a full unit is refused too.
	other := staff.Unit("school", apitest.CountyA1)
	mover := staff.Instructor(other)
	staff.Must(http.StatusConflict, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", mover), map[string]any{"unit_id": unit})

	// Concurrent appointments, possibly on several instances, cannot overfill a unit.
	fresh := staff.Unit("enterprise", apitest.CountyA1)
	second := apitest.Another(t, e.Clock)
	secondStaff := second.As(t, staff.Token)
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := staff
			if i%2 == 1 {
				c = secondStaff
			}
			statuses[i] = c.Do("POST", "/api/v1/instructors", apitest.InstructorBody(fresh)).Status
		}(i)
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		if s == http.StatusCreated {
			created++
		} else if s != http.StatusConflict {
			t.Errorf("status %d", s)
		}
	}
	var n int64
	e.DB().Raw("SELECT COUNT(*) FROM instructors WHERE unit_id = ? AND status = 'active'", fresh).Scan(&n)
	if created != 2 || n != 2 {
		t.Fatalf("created %d, active in unit %d; want 2 and 2 (%v)", created, n, statuses)
	}
}

func TestListsPaginateStably(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA2)
	kind := "service_window"
	for i := 0; i < 5; i++ {
		staff.Unit(kind, apitest.CountyA2)
	}
	seen := map[int64]bool{}
	path := "/api/v1/units?kind=" + kind + "&limit=2"
	var page struct {
		Items      []struct{ ID int64 } `json:"items"`
		NextCursor string               `json:"next_cursor"`
	}
	staff.Must(http.StatusOK, "GET", path, nil).JSON(t, &page)
	// A unit added between pages does not shift the later pages.
	staff.Unit(kind, apitest.CountyA2)
	for {
		for _, it := range page.Items {
			if seen[it.ID] {
				t.Fatalf("unit %d listed twice", it.ID)
			}
			seen[it.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		page.Items = nil
		staff.Must(http.StatusOK, "GET", path+"&cursor="+page.NextCursor, nil).JSON(t, &page)
	}
	if len(seen) < 5 {
		t.Fatalf("saw %d units, want at least 5", len(seen))
	}
	staff.Must(http.StatusBadRequest, "GET", "/api/v1/units?cursor=garbage", nil)
	staff.Must(http.StatusBadRequest, "GET", "/api/v1/units?limit=1000", nil)
}

// Invite codes issued at once for different instructors all come out (on MariaDB each issue
// once locked the end of the invites index to revoke an earlier code, then waited on the others
// to insert its own: a deadlock, a 500 when it came back three times); issued at once for one
// instructor, they leave that instructor one code that works.
func TestConcurrentInvitesAllComeOut(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	const n = 12
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = staff.Instructor(staff.Unit("village", apitest.TownshipA1))
	}
	invite := func(ids []int64) []string {
		codes := make([]string, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := staff.Do("POST", fmt.Sprintf("/api/v1/instructors/%d/invite", id), nil)
				if r.Status != http.StatusCreated {
					t.Errorf("invite %d: %d %s", id, r.Status, r.Body)
					return
				}
				var v struct {
					InviteCode string `json:"invite_code"`
				}
				r.JSON(t, &v)
				codes[i] = v.InviteCode
			}()
		}
		wg.Wait()
		return codes
	}
	invite(ids)
	if t.Failed() {
		t.FailNow()
	}
	one := ids[0]
	codes := invite([]int64{one, one, one, one, one, one})
	if t.Failed() {
		t.FailNow()
	}
	bound := 0
	for _, code := range codes {
		switch r := e.Anon(t).Do("POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": e.BindTicket(t), "invite_code": code}); r.Status {
		case http.StatusOK:
			bound++
		case http.StatusBadRequest:
			if eb := r.Err(t); eb.Code != "invite_invalid" {
				t.Errorf("code %s: %+v", code, eb)
			}
		default:
			t.Errorf("code %s: %d %s", code, r.Status, r.Body)
		}
	}
	if bound != 1 {
		t.Fatalf("%d of the codes issued at once for one instructor bound, want 1", bound)
	}
}
