package access

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

func TestNextPrefix(t *testing.T) {
	for in, want := range map[string]string{"13": "14", "1301": "1302", "1309": "1310", "130199": "130200"} {
		if got, ok := nextPrefix(in); !ok || got != want {
			t.Errorf("nextPrefix(%s) = %s, want %s", in, got, want)
		}
	}
	if _, ok := nextPrefix("999"); ok {
		t.Error("all nines has no next prefix")
	}
}

func TestScopeFailsClosed(t *testing.T) {
	county := &Principal{AccountID: 1, Role: RoleCountyStaff, RegionCode: "130102000000"}
	cases := []struct {
		p    *Principal
		code string
		want bool
	}{
		{county, "130102001001", true},
		{county, "130102000000", true},
		{county, "130104001001", false},
		{county, "130100000000", false},
		{&Principal{Role: RoleCityStaff, RegionCode: "130100000000"}, "130104001001", true},
		{&Principal{Role: RoleCityStaff, RegionCode: "130100000000"}, "131028000000", false},
		{&Principal{Role: RoleProvinceStaff, RegionCode: "130000000000"}, "131028000000", true},
		{nil, "130102001001", false},
		{&Principal{Role: "stranger", RegionCode: "130000000000"}, "130102001001", false},
		{&Principal{Role: RoleCountyStaff}, "130102001001", false},
		{&Principal{Role: RoleInstructor, InstructorID: 5, RegionCode: "130102000000"}, "130102001001", false},
		{System(), "131028000000", true},
	}
	for i, c := range cases {
		if got := c.p.CanSeeRegion(c.code); got != c.want {
			t.Errorf("case %d: CanSeeRegion(%s) = %v, want %v", i, c.code, got, c.want)
		}
	}
}

// TestInRegionOrOwnWithin: the county form of the record lists' scope allows exactly the rows
// InRegionOrOwn and UnderRegion allow together, for every caller and filter, on a table whose
// county column the database computes as migration 33 does.
func TestInRegionOrOwnWithin(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, region_code TEXT NOT NULL, author_id INTEGER NOT NULL,
		county_code TEXT GENERATED ALWAYS AS (substr(region_code, 1, 6)) VIRTUAL)`).Error; err != nil {
		t.Fatal(err)
	}
	codes := []string{"130000000000", "130100000000", "130102000000", "130102001000", "130102001201", "130102002203",
		"130103000000", "130103100200", "130104001001", "130199001001", "131000000000", "131028000000", "131028101201", "140102001001"}
	for i, c := range codes {
		if err := db.Exec("INSERT INTO t (id, region_code, author_id) VALUES (?, ?, ?)", i+1, c, 1+i%3).Error; err != nil {
			t.Fatal(err)
		}
	}
	callers := []*Principal{
		{AccountID: 1, Role: RoleCountyStaff, RegionCode: "130102000000"},
		{AccountID: 2, Role: RoleCityStaff, RegionCode: "130100000000"},
		{AccountID: 3, Role: RoleProvinceStaff, RegionCode: "130000000000"},
		{AccountID: 4, Role: RoleInstructor, InstructorID: 2, RegionCode: "130102001201"},
		{AccountID: 5, Role: RoleCountyStaff},
		{AccountID: 6, Role: "stranger", RegionCode: "130000000000"},
		{AccountID: 7, Role: RoleAdmin, RegionCode: "130000000000"},
		nil,
		System(),
	}
	filters := []string{"", "130000000000", "130100000000", "130102000000", "130102001000", "130102001201", "130103000000",
		"131000000000", "131028000000", "140000000000"}
	ids := func(scope func(*gorm.DB) *gorm.DB) []int64 {
		var out []int64
		if err := db.Table("t").Scopes(scope).Order("id").Pluck("id", &out).Error; err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, p := range callers {
		for _, f := range filters {
			want := ids(func(q *gorm.DB) *gorm.DB {
				return UnderRegion("region_code", f)(InRegionOrOwn(p, "region_code", "author_id")(q))
			})
			got := ids(InRegionOrOwnWithin(p, f, "region_code", "county_code", "author_id"))
			if !slices.Equal(got, want) {
				t.Errorf("%+v, filter %q: rows %v, want %v", p, f, got, want)
			}
		}
	}
}
