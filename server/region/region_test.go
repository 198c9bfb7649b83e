package region

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
	"gorm.io/gorm"
)

// openDB is a fresh database with the regions table: a SQLite file, or a MariaDB database when
// SHILIU_TEST_DATABASE_DSN is set.
func openDB(tb testing.TB) *gorm.DB {
	tb.Helper()
	db := open(tb, dbtest.DSN(tb, "r"))
	if err := db.AutoMigrate(&Region{}); err != nil {
		tb.Fatal(err)
	}
	return db
}

// open is a handle on dsn as the server opens it, closed when the test ends.
func open(tb testing.TB, dsn string) *gorm.DB {
	tb.Helper()
	db, err := database.Open(context.Background(), dsn, database.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db.DB
}

var wantPerLevel = map[int]int64{
	LevelProvince: 1,
	LevelCity:     11,
	LevelCounty:   190,
	LevelTownship: 2365,
	LevelVillage:  54145,
}

func TestEmbeddedData(t *testing.T) {
	rows, err := embedded()
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]int64{}
	codes := map[string]bool{}
	for i, r := range rows {
		got[r.Level]++
		if !ValidCode(r.Code) || LevelOf(r.Code) != r.Level {
			t.Fatalf("%+v: level from code is %d", r, LevelOf(r.Code))
		}
		if i > 0 && rows[i-1].Code >= r.Code {
			t.Fatalf("not sorted at %s", r.Code)
		}
		if r.Level > LevelProvince && (!codes[r.ParentCode] || !Contains(r.ParentCode, r.Code) ||
			LevelOf(r.ParentCode) != r.Level-1) {
			t.Fatalf("%+v: bad parent", r)
		}
		if r.Name == "" || len(r.Name) > 64*3 || len([]rune(r.Name)) > 64 {
			t.Fatalf("%+v: bad name", r)
		}
		codes[r.Code] = true
	}
	if !maps.Equal(got, wantPerLevel) {
		t.Fatalf("per level = %v, want %v", got, wantPerLevel)
	}
}

func TestLoad(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	n, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n != 56712 {
		t.Fatalf("loaded %d, want 56712", n)
	}
	for lv, want := range wantPerLevel {
		var got int64
		if err := db.Model(&Region{}).Where("level = ?", lv).Count(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("level %s: %d rows, want %d", LevelName(lv), got, want)
		}
	}
	n, err = Load(ctx, db)
	if err != nil || n != 0 {
		t.Fatalf("second Load = %d, %v; want 0, nil", n, err)
	}
	var total int64
	db.Model(&Region{}).Count(&total)
	if total != 56712 {
		t.Fatalf("after second Load: %d rows", total)
	}

	// Read tests share this load; a full load takes a while.
	t.Run("Children", func(t *testing.T) { testChildren(t, db) })
	t.Run("GetExistsAncestors", func(t *testing.T) { testGetExistsAncestors(t, db) })
}

// Two handles on one database stand in for two processes starting together.
func TestLoadConcurrent(t *testing.T) {
	dsn := dbtest.DSN(t, "r")
	a, b := open(t, dsn), open(t, dsn)
	if err := a.AutoMigrate(&Region{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ns := make([]int, 2)
	errs := make([]error, 2)
	for i, db := range []*gorm.DB{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns[i], errs[i] = Load(context.Background(), db)
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("errors: %v, %v", errs[0], errs[1])
	}
	if ns[0]+ns[1] != 56712 {
		t.Fatalf("loaded %v, want one 56712 and one 0", ns)
	}
	var total int64
	a.Model(&Region{}).Count(&total)
	if total != 56712 {
		t.Fatalf("%d rows", total)
	}
}

// A table seeded by someone else (e.g. a test fixture) is left alone.
func TestLoadNonEmptyTable(t *testing.T) {
	db := openDB(t)
	if err := db.Create(&Region{Code: ProvinceCode, Name: "河北省", Level: LevelProvince}).Error; err != nil {
		t.Fatal(err)
	}
	if n, err := Load(context.Background(), db); n != 0 || err != nil {
		t.Fatalf("Load = %d, %v", n, err)
	}
}

func TestLoadNoTable(t *testing.T) {
	db := open(t, dbtest.DSN(t, "r"))
	if _, err := Load(context.Background(), db); err == nil {
		t.Fatal("Load without a table succeeded")
	}
}

func testChildren(t *testing.T, db *gorm.DB) {
	s := NewStore(db)
	ctx := context.Background()
	want := []string{"石家庄市", "唐山市", "秦皇岛市", "邯郸市", "邢台市", "保定市",
		"张家口市", "承德市", "沧州市", "廊坊市", "衡水市"}
	for range 2 { // second round is served from the cache
		cities, err := s.Children(ctx, ProvinceCode)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range cities {
			names = append(names, c.Name)
			if c.Level != LevelCity || c.ParentCode != ProvinceCode {
				t.Errorf("%+v", c)
			}
		}
		if !slices.Equal(names, want) {
			t.Fatalf("cities = %v", names)
		}
		cities[0].Name = "mutated" // must not reach the cache
	}
	top, err := s.Children(ctx, "")
	if err != nil || len(top) != 1 || top[0].Name != "河北省" {
		t.Fatalf("Children(\"\") = %v, %v", top, err)
	}
	none, err := s.Children(ctx, "130102001001")
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("Children(village) = %#v, %v", none, err)
	}
	counties, _ := s.Children(ctx, "130100000000")
	if len(counties) != 24 || counties[0].Name != "长安区" {
		t.Fatalf("石家庄 counties: %d, first %v", len(counties), counties[0])
	}
}

func testGetExistsAncestors(t *testing.T, db *gorm.DB) {
	s := NewStore(db)
	ctx := context.Background()
	const village = "130102001001"
	for range 2 {
		r, err := s.Get(ctx, village)
		if err != nil || r.Name != "棉一东社区居民委员会" || r.Level != LevelVillage || r.ParentCode != "130102001000" {
			t.Fatalf("Get = %+v, %v", r, err)
		}
		anc, err := s.Ancestors(ctx, village)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range anc {
			got = append(got, a.Code+" "+a.Name)
		}
		want := []string{"130000000000 河北省", "130100000000 石家庄市", "130102000000 长安区", "130102001000 建北街道"}
		if !slices.Equal(got, want) {
			t.Fatalf("Ancestors = %v", got)
		}
	}
	if anc, err := s.Ancestors(ctx, ProvinceCode); err != nil || len(anc) != 0 {
		t.Fatalf("Ancestors(province) = %v, %v", anc, err)
	}
	if _, err := s.Ancestors(ctx, "13"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Ancestors(13) err = %v", err)
	}
	for _, code := range []string{"139999000000", "13", "", "abcdefghijkl"} {
		if _, err := s.Get(ctx, code); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) err = %v", code, err)
		}
		if ok, err := s.Exists(ctx, code); ok || err != nil {
			t.Errorf("Exists(%q) = %v, %v", code, ok, err)
		}
	}
	if ok, err := s.Exists(ctx, "131182000000"); !ok || err != nil { // 深州市
		t.Fatalf("Exists(深州市) = %v, %v", ok, err)
	}
}

func TestLevelPrefixNormalizeContains(t *testing.T) {
	for _, c := range []struct {
		code   string
		level  int
		prefix string
	}{
		{"130000000000", LevelProvince, "13"},
		{"130100000000", LevelCity, "1301"},
		{"130102000000", LevelCounty, "130102"},
		{"130102001000", LevelTownship, "130102001"},
		{"130102001001", LevelVillage, "130102001001"},
		{"131182000000", LevelCounty, "131182"},
		{"130102100000", LevelTownship, "130102100"}, // township segment 100
		{"000000000000", 0, "000000000000"},
		{"13", 0, "13"},
		{"13010200100a", 0, "13010200100a"},
		{"", 0, ""},
	} {
		if got := LevelOf(c.code); got != c.level {
			t.Errorf("LevelOf(%q) = %d, want %d", c.code, got, c.level)
		}
		if got := Prefix(c.code); got != c.prefix {
			t.Errorf("Prefix(%q) = %q, want %q", c.code, got, c.prefix)
		}
	}

	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"13", "130000000000", true},
		{"1301", "130100000000", true},
		{"130100", "130100000000", true}, // GB/T 2260 city code
		{"130102", "130102000000", true},
		{"130102001", "130102001000", true},
		{"130102001001", "130102001001", true},
		{"1", "", false},
		{"130", "", false},
		{"1301020010", "", false},
		{"00", "", false},
		{"13a1", "", false},
		{" 13", "", false},
		{"", "", false},
	} {
		got, ok := Normalize(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}

	for _, c := range []struct {
		anc, code string
		want      bool
	}{
		{"130000000000", "130102001001", true},
		{"130100000000", "130102001001", true},
		{"130102001000", "130102001001", true},
		{"130102001001", "130102001001", true},
		{"130100000000", "130100000000", true},
		{"130100000000", "130200000000", false},
		{"130100000000", "131000000000", false}, // prefix 1301 vs 1310
		{"130102001001", "130102001000", false}, // child does not contain parent
		{"130102001000", "130102010001", false},
		{"130000000000", "140000000000", false},
		{"13", "130102001001", false},
		{"130000000000", "1301", false},
	} {
		if got := Contains(c.anc, c.code); got != c.want {
			t.Errorf("Contains(%q, %q) = %v", c.anc, c.code, got)
		}
	}

	if got := ancestorCodes("130102001001"); !slices.Equal(got,
		[]string{"130000000000", "130100000000", "130102000000", "130102001000"}) {
		t.Errorf("ancestorCodes = %v", got)
	}
	// Malformed (city segment 00): no repeated province.
	if got := ancestorCodes("130012000000"); !slices.Equal(got, []string{"130000000000"}) {
		t.Errorf("ancestorCodes(130012000000) = %v", got)
	}
}

func TestJSON(t *testing.T) {
	r := Region{Code: "130100000000", ParentCode: ProvinceCode, Name: "石家庄市", Level: LevelCity}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"code":"130100000000","parent_code":"130000000000","name":"石家庄市","level":"city"}`
	if string(b) != want {
		t.Fatalf("got %s", b)
	}
	var back Region
	if err := json.Unmarshal(b, &back); err != nil || back != r {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
	b, _ = json.Marshal([]Region{{Code: ProvinceCode, Name: "河北省", Level: LevelProvince}})
	if string(b) != `[{"code":"130000000000","name":"河北省","level":"province"}]` {
		t.Fatalf("got %s", b)
	}
	for lv := LevelProvince; lv <= LevelVillage; lv++ {
		if got, ok := ParseLevel(LevelName(lv)); !ok || got != lv {
			t.Errorf("ParseLevel(LevelName(%d)) = %d", lv, got)
		}
	}
	if LevelName(0) != "" || LevelName(6) != "" || !strings.Contains(want, `"level":"city"`) {
		t.Error("LevelName out of range")
	}
}

func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		db := openDB(b)
		b.StartTimer()
		if n, err := Load(ctx, db); err != nil || n != 56712 {
			b.Fatalf("Load = %d, %v", n, err)
		}
	}
}

// The SQLite driver binds parameters in O(n²) per statement, so big
// batches are slow there; this picks batchSize.
func BenchmarkLoadBatch(b *testing.B) {
	rows, err := embedded()
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{100, 250, 500, 1000, 5000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db := openDB(b)
				b.StartTimer()
				if err := insertAll(db, rows, size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGetCached(b *testing.B) {
	db := openDB(b)
	if _, err := Load(context.Background(), db); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("store", func(b *testing.B) {
		s := NewStore(db)
		for b.Loop() {
			if _, err := s.Get(ctx, "130102001001"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("db", func(b *testing.B) {
		for b.Loop() {
			if _, err := NewStore(db).Get(ctx, "130102001001"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
