package app_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// Text fields of every route refuse control and invisible characters and blank text, naming the
// field; accepted text is stored trimmed, with newlines only where paragraphs are written.
func TestControlAndInvisibleCharactersAreRefused(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := staff.Unit("village", apitest.TownshipA1)
	author, _ := e.InstructorClient(t, staff, unit)

	tip := func(set func(b, own map[string]any)) map[string]any {
		b := apitest.RecordBody("tip", phoneTime(e, -time.Hour))
		set(b, b["tip"].(map[string]any))
		return b
	}
	mediation := func(name string) map[string]any {
		b := apitest.RecordBody("mediation", phoneTime(e, -time.Hour))
		b["mediation"].(map[string]any)["parties"].([]map[string]any)[1]["name"] = name
		return b
	}
	instructor := func(name string) map[string]any {
		b := apitest.InstructorBody(staff.Unit("village", apitest.TownshipA1)) // two per unit at most
		b["name"] = name
		return b
	}
	cases := []struct {
		name   string
		client *apitest.Client
		path   string
		body   map[string]any
		field  string
	}{
		{"NUL in a unit name", staff, "/api/v1/units", map[string]any{"name": "西山村\x00", "kind": "village", "region_code": apitest.TownshipA1}, "name"},
		{"right-to-left override in an instructor name", staff, "/api/v1/instructors", instructor("马\u202e某"), "name"},
		{"zero-width space as a name", staff, "/api/v1/instructors", instructor("\u200b\u200b"), "name"},
		{"ideographic spaces as a name", staff, "/api/v1/instructors", instructor("\u3000\u3000"), "name"},
		{"ANSI escape in a tip description", author, "/api/v1/tips", tip(func(_, own map[string]any) { own["description"] = "\x1b[2J\x1b[31m口角" }), "tip.description"},
		{"newline in a title", author, "/api/v1/tips", tip(func(b, _ map[string]any) { b["title"] = "标题\n第二行" }), "title"},
		{"title of spaces", author, "/api/v1/tips", tip(func(b, _ map[string]any) { b["title"] = " \u00a0\u3000" }), "title"},
		{"byte order mark in a party's name", author, "/api/v1/mediations", mediation("\ufeff张某"), "mediation.parties[1].name"},
		{"bidi isolate in a bulletin body", staff, "/api/v1/bulletins", bulletinBody(map[string]any{"body": "通知\u2066内容\u2069"}), "body"},
	}
	for _, c := range cases {
		r := c.client.Do("POST", c.path, c.body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", c.name, r.Status, r.Body)
			continue
		}
		if e := r.Err(t); e.Code != "invalid_argument" || len(e.Details) == 0 || e.Details[0].Field != c.field {
			t.Errorf("%s: error %+v, want invalid_argument on %s", c.name, e, c.field)
		}
	}

	// Accepted text is stored trimmed; paragraphs keep their newlines.
	{
		id := author.Submit("tip", tip(func(b, own map[string]any) {
			b["title"] = "\u3000宅基地纠纷 "
			own["description"] = "  两户村民发生口角。\n已劝离。\t\n"
		}))
		v := getRecord(t, staff, "tip", id)
		if v.Title != "宅基地纠纷" || v.Tip.Description != "两户村民发生口角。\n已劝离。" {
			t.Fatalf("stored title %q, description %q", v.Title, v.Tip.Description)
		}
		var ins struct {
			Name string `json:"name"`
		}
		insID := apitest.ID(t, staff.Must(http.StatusCreated, "POST", "/api/v1/instructors", instructor("\u3000马某某\u00a0")))
		staff.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d", insID), nil).JSON(t, &ins)
		if ins.Name != "马某某" {
			t.Fatalf("stored name %q", ins.Name)
		}
	}
}
