package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// skewCounty is one of the two busy counties of a -skew seed, with its officer and its most
// prolific instructor logged in.
type skewCounty struct {
	code, name, label string
	records           int64
	staff             *client
	prolific          *client
	prolificN         int64
}

// setupSkew finds the two busiest counties, tells which holds its tips under its newest visits,
// and logs in a county officer and the most prolific free instructor of each.
func (b *bench) setupSkew(ctx context.Context, run int64, hc *http.Client, bind func(int64) (*client, error), isFree map[int64]bool) error {
	db := b.a.DB.WithContext(ctx)
	var top []struct {
		C string
		N int64
	}
	if err := db.Raw("SELECT SUBSTR(region_code, 1, 6) AS c, COUNT(*) AS n FROM records GROUP BY SUBSTR(region_code, 1, 6) ORDER BY n DESC LIMIT 2").Scan(&top).Error; err != nil {
		return err
	}
	for _, t := range top {
		lo, hi := t.C+"000000", t.C+"999999"
		var newest struct{ Tip, Visit int64 }
		db.Raw("SELECT (SELECT MAX(id) FROM records WHERE kind = 'tip' AND region_code BETWEEN ? AND ?) AS tip, "+
			"(SELECT MAX(id) FROM records WHERE kind = 'visit' AND region_code BETWEEN ? AND ?) AS visit", lo, hi, lo, hi).Scan(&newest)
		var newer int64
		label := "tips new"
		if newest.Tip < newest.Visit {
			label = "tips old"
			db.Raw("SELECT COUNT(*) FROM records WHERE kind = 'visit' AND region_code BETWEEN ? AND ? AND id > ?", lo, hi, newest.Tip).Scan(&newer)
		} else {
			db.Raw("SELECT COUNT(*) FROM records WHERE kind = 'tip' AND region_code BETWEEN ? AND ? AND id > ?", lo, hi, newest.Visit).Scan(&newer)
		}
		sc := &skewCounty{code: lo, label: label, records: t.N}
		if r, err := b.a.Regions.Get(ctx, lo); err == nil {
			sc.name = r.Name
		}
		name := fmt.Sprintf("bench_county_%s_%d", t.C, run)
		if _, err := b.a.Auth.CreateUser(ctx, name, "county_staff", lo, "bench-password-123", ""); err != nil {
			return err
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := b.anon.must(ctx, http.StatusOK, "POST", "/api/v1/auth/password/login", map[string]string{"username": name, "password": "bench-password-123"}, &tok); err != nil {
			return err
		}
		sc.staff = &client{base: b.anon.base, token: tok.AccessToken, hc: hc}
		var authors []struct {
			AuthorID int64
			N        int64
		}
		if err := db.Raw("SELECT author_id, COUNT(*) AS n FROM records WHERE region_code BETWEEN ? AND ? GROUP BY author_id ORDER BY n DESC LIMIT 50", lo, hi).Scan(&authors).Error; err != nil {
			return err
		}
		for _, a := range authors {
			if isFree[a.AuthorID] {
				c, err := bind(a.AuthorID)
				if err != nil {
					return err
				}
				sc.prolific, sc.prolificN = c, a.N
				break
			}
		}
		info := fmt.Sprintf("county %s %s: %d records, %s (%d newer records of the other kind above the newest one); prolific instructor: %d records",
			sc.name, sc.code, sc.records, label, newer, sc.prolificN)
		logf("%s", info)
		b.seedInfo += "\n\n" + info
		b.skewed = append(b.skewed, sc)
	}
	return nil
}

// skewLists measures, for each busy county, the lists whose cost must not depend on the mix and
// age of the county's records: each kind's list, the tip inbox, the unacknowledged tips, a deep
// page, and its most prolific instructor's own lists.
//
// The tip lists are also measured bare (bareread.go), each right after Shiliu's, with the same
// callers: the floor this machine puts under them, then the same floor writing Shiliu's audit
// entry of each read.
func (b *bench) skewLists(ctx context.Context) error {
	sqlDB, err := b.a.DB.DB.DB()
	if err != nil {
		return err
	}
	_, bareAddr, stop, err := startBare(b.a, sqlDB)
	if err != nil {
		return err
	}
	defer stop()
	bare := &client{base: "http://" + bareAddr, hc: b.anon.hc}
	for _, sc := range b.skewed {
		deep, err := b.walk(ctx, sc.staff, "/api/v1/tips", 20)
		if err != nil {
			return err
		}
		type q struct {
			name string
			c    *client
			who  string
			path string
			bare string // the same page from the bare handler, if it has one
		}
		prefix := sc.label + ": "
		county := "/bare/tips?county=" + sc.code[:6]
		qs := []q{
			{"county: tip inbox (50)", sc.staff, "county", "/api/v1/tips?limit=50", county + "&limit=50"},
			{"county: unacknowledged tips", sc.staff, "county", "/api/v1/tips?status=submitted&limit=100", county + "&status=submitted&limit=100"},
			{"county: visits", sc.staff, "county", "/api/v1/visits", ""},
			{"county: sentiments", sc.staff, "county", "/api/v1/sentiments", ""},
			{"county: tips", sc.staff, "county", "/api/v1/tips", county},
			{"county: mediations", sc.staff, "county", "/api/v1/mediations", ""},
			{"county: all kinds", sc.staff, "county", "/api/v1/records", ""},
			{"county: tips page 20 via cursor", sc.staff, "county", deep, ""},
			{"county: tips in handling", sc.staff, "county", "/api/v1/tips?status=handling&limit=100", county + "&status=handling&limit=100"},
			{"county: sentiments a year ago", sc.staff, "county", "/api/v1/sentiments?" + yearAgoWindow(), ""},
			{"county: all kinds a year ago", sc.staff, "county", "/api/v1/records?" + yearAgoWindow(), ""},
			{"county: tips since a year ago", sc.staff, "county", "/api/v1/tips?" + strings.Split(yearAgoWindow(), "&")[0], ""},
		}
		if sc.prolific != nil {
			who := fmt.Sprintf("instructor (%d records)", sc.prolificN)
			qs = append(qs,
				q{"instructor: own records", sc.prolific, who, "/api/v1/records", ""},
				q{"instructor: own tips", sc.prolific, who, "/api/v1/tips", ""},
				q{"instructor: own visits", sc.prolific, who, "/api/v1/visits", ""})
		}
		for _, x := range qs {
			name := prefix + x.name
			if !strings.Contains(name, b.o.only) {
				continue
			}
			r, err := b.measure(ctx, name, x.who, x.c, x.path)
			if err != nil {
				return err
			}
			b.results = append(b.results, r)
			if x.bare != "" {
				r, err := b.measure(ctx, name+" (bare)", x.who, bare, x.bare)
				if err != nil {
					return err
				}
				b.results = append(b.results, r)
				if r, err = b.measure(ctx, name+" (bare, audited)", x.who, bare, x.bare+"&audit=1"); err != nil {
					return err
				}
				b.results = append(b.results, r)
			}
		}
	}
	return nil
}

// yearAgoWindow is from/to of the month a year ago, Beijing time.
func yearAgoWindow() string {
	now := time.Now().In(time.FixedZone("CST", 8*3600))
	return "from=" + url.QueryEscape(now.AddDate(-1, 0, 0).Format("2006-01-02")) + "&to=" + url.QueryEscape(now.AddDate(0, -11, 0).Format("2006-01-02"))
}
