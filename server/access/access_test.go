package access

import "testing"

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
