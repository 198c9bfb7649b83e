package apitest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/shiliu/shiliu/server/region"
)

// Area is a county of the loaded region table that one test has to itself, with what a test
// needs around it. Tests that count or list what a region holds, or that register something
// every event of a county reaches (a notification group, officers on duty, a county-wide
// meeting), take an Area: tests running at the same time then cannot see each other's data
// there, and a county is never given to two tests, so a reuse cannot go unnoticed.
type Area struct {
	City, CityName     string
	County, CountyName string
	// Townships are two townships of the county, in code order; Village is a village of the first.
	Townships     []string
	TownshipNames []string
	Village       string
	// Neighbour is a county of the same city that no test has to itself: callers there look in
	// from next door. Tests must not count what it holds.
	Neighbour string
}

// Township is the area's first township.
func (a Area) Township() string { return a.Townships[0] }

// City is a whole city one test has to itself: every county of it, and its counties as Areas
// (Neighbour is another of its counties).
type City struct {
	Code, Name string
	Counties   []Area
}

// The fixture cities (CityA, CityB) are shared by every test that uses the fixture regions;
// areas come from the other nine cities of Hebei.
var fixtureCities = []string{CityA, CityB}

// fixtureCounties are never handed out: the fixture tests share them.
var fixtureCounties = []string{CountyA1, CountyA2, CountyB1}

var areas struct {
	sync.Mutex
	loaded   bool
	cities   []string            // city codes in code order
	counties map[string][]string // city → its counties in code order
	names    map[string]string
	given    map[string]string // county or city code → the test it was given to
}

// Area gives the test a county no other test of this binary has been given.
func (e *Env) Area(t testing.TB) Area {
	t.Helper()
	return e.area(t, "")
}

// AreaBeside gives the test another county of a's city that no other test has been given (Area
// leaves one county of each city for it).
func (e *Env) AreaBeside(t testing.TB, a Area) Area {
	t.Helper()
	return e.area(t, a.City)
}

func (e *Env) area(t testing.TB, city string) Area {
	t.Helper()
	areas.Lock()
	defer areas.Unlock()
	e.loadAreas(t)
	// From the largest cities: City takes the smallest whole, and the citiesKeptWhole smallest
	// are left alone until the others and the first fixture city are used up (below).
	bySize := slices.Clone(areas.cities)
	slices.SortStableFunc(bySize, func(a, b string) int { return len(areas.counties[b]) - len(areas.counties[a]) })
	if a, ok := e.areaFrom(t, bySize[:max(0, len(bySize)-citiesKeptWhole)], city); ok {
		return a
	}
	// The larger cities are used up: the counties of the first fixture city that are not fixtures
	// themselves. Tests there share their city with the fixture tests, which never count a whole
	// city of theirs (they run in parallel with each other); its first county, a fixture, is the
	// neighbour. CityB is kept out: tests use it as the city outside their area.
	if city == "" || city == CityA {
		counties := areas.counties[CityA]
		free := 0
		for _, county := range counties {
			if areas.given[county] == "" && !slices.Contains(fixtureCounties, county) {
				free++
			}
		}
		for _, county := range counties {
			if city == "" && free < 2 {
				break // the last one is kept for AreaBeside, as in the other cities
			}
			if areas.given[county] != "" || slices.Contains(fixtureCounties, county) {
				continue
			}
			a, ok := e.describe(t, CityA, county, counties[0])
			if !ok {
				areas.given[county] = "nobody (it lacks two townships and a village)"
				continue
			}
			give(t, county)
			return a
		}
	}
	if a, ok := e.areaFrom(t, bySize[max(0, len(bySize)-citiesKeptWhole):], city); ok {
		return a
	}
	if city != "" {
		t.Fatalf("apitest: no county of %s left to give", city)
	}
	t.Fatal("apitest: no county left to give")
	return Area{}
}

// citiesKeptWhole is how many of the smallest cities Area leaves for City as long as it can:
// one for each test that asks for a whole city (five), which otherwise found every city
// holding a county of some test when the suite ran in another order.
const citiesKeptWhole = 5

// areaFrom gives a county of one of these cities (of city only, if not ""), the caller holding
// areas' lock.
func (e *Env) areaFrom(t testing.TB, cities []string, city string) (Area, bool) {
	t.Helper()
	for _, c := range cities {
		if (city != "" && c != city) || areas.given[c] != "" {
			continue
		}
		free := 0
		for _, county := range areas.counties[c][1:] {
			if areas.given[county] == "" {
				free++
			}
		}
		if city == "" && free < 2 {
			continue // the last county of a city is kept for AreaBeside
		}
		for _, county := range areas.counties[c][1:] { // the first is the city's neighbour
			if areas.given[county] != "" {
				continue
			}
			a, ok := e.describe(t, c, county, areas.counties[c][0])
			if !ok {
				areas.given[county] = "nobody (it lacks two townships and a village)"
				continue
			}
			give(t, county)
			return a, true
		}
	}
	return Area{}, false
}

// City gives the test a whole city (no county of it given to anyone yet), the smallest there is,
// so that as many counties as can be are left to hand out one by one.
func (e *Env) City(t testing.TB) City {
	t.Helper()
	areas.Lock()
	defer areas.Unlock()
	e.loadAreas(t)
	bySize := slices.Clone(areas.cities)
	slices.SortStableFunc(bySize, func(a, b string) int { return len(areas.counties[a]) - len(areas.counties[b]) })
	for _, c := range bySize {
		counties := areas.counties[c]
		if areas.given[c] != "" || slices.ContainsFunc(counties, func(x string) bool { return areas.given[x] != "" }) {
			continue
		}
		out := City{Code: c, Name: areas.names[c]}
		for i, county := range counties {
			a, ok := e.describe(t, c, county, counties[(i+1)%len(counties)])
			if ok {
				out.Counties = append(out.Counties, a)
			}
		}
		if len(out.Counties) < 2 {
			continue
		}
		give(t, c)
		for _, county := range counties {
			give(t, county)
		}
		return out
	}
	held := map[string]string{}
	for code, owner := range areas.given {
		if c := code[:4] + "00000000"; held[c] == "" && owner != "" {
			held[c] = owner
		}
	}
	t.Fatalf("apitest: no city left to give (a region of each city is held: %v)", held)
	return City{}
}

// give records that code is the test's; a code given twice is a bug of this allocator, and
// fails the test instead of letting two tests share a region unknowingly.
func give(t testing.TB, code string) {
	t.Helper()
	if owner := areas.given[code]; owner != "" {
		t.Fatalf("apitest: region %s was already given to %s", code, owner)
	}
	areas.given[code] = t.Name()
}

// loadAreas reads the cities and counties of the region table once.
func (e *Env) loadAreas(t testing.TB) {
	t.Helper()
	if areas.loaded {
		return
	}
	var rows []region.Region
	if err := e.DB().Where("level IN ?", []int{region.LevelCity, region.LevelCounty}).Order("code").Find(&rows).Error; err != nil {
		t.Fatalf("apitest: read regions: %v", err)
	}
	areas.counties, areas.names, areas.given = map[string][]string{}, map[string]string{}, map[string]string{}
	for _, r := range rows {
		areas.names[r.Code] = r.Name
		switch {
		case r.Level == region.LevelCity && !slices.Contains(fixtureCities, r.Code):
			areas.cities = append(areas.cities, r.Code)
		case r.Level == region.LevelCounty:
			areas.counties[r.ParentCode] = append(areas.counties[r.ParentCode], r.Code)
		}
	}
	if len(areas.cities) == 0 {
		t.Fatal("apitest: the region table holds no city outside the fixtures")
	}
	areas.loaded = true
}

// describe is the Area of county, if it has two townships and a village in the first.
func (e *Env) describe(t testing.TB, city, county, neighbour string) (Area, bool) {
	t.Helper()
	var towns []region.Region
	if err := e.DB().Where("parent_code = ?", county).Order("code").Limit(2).Find(&towns).Error; err != nil {
		t.Fatalf("apitest: read townships of %s: %v", county, err)
	}
	if len(towns) < 2 {
		return Area{}, false
	}
	var village region.Region
	if err := e.DB().Where("parent_code = ?", towns[0].Code).Order("code").Limit(1).Find(&village).Error; err != nil {
		t.Fatalf("apitest: read villages of %s: %v", towns[0].Code, err)
	}
	if village.Code == "" {
		return Area{}, false
	}
	return Area{
		City: city, CityName: areas.names[city], County: county, CountyName: areas.names[county],
		Townships: []string{towns[0].Code, towns[1].Code}, TownshipNames: []string{towns[0].Name, towns[1].Name},
		Village: village.Code, Neighbour: neighbour,
	}, true
}

// String names the area in failure messages.
func (a Area) String() string { return fmt.Sprintf("%s %s (%s)", a.CityName, a.CountyName, a.County) }
