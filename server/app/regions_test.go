package app_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/region"
)

// A test that counts or lists what a region holds takes a county of its own from
// apitest.Env.Area, which never gives one out twice. A real region written into a test by its
// code would get around that: two tests could share it without anyone noticing, and one's data
// would change the other's counts once they run at the same time. The fixture regions (county A1
// and its neighbours, shared on purpose by the tests that only look at their own data) and codes
// the region table does not hold (for the tests of unknown regions) are the only codes a test
// may spell out.
func TestRegionCodesComeFromTheAllocator(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	files, err := filepath.Glob("*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("test files: %v %v", files, err)
	}
	fixtures := []string{apitest.CountyA1, apitest.CountyA2, apitest.CountyB1}
	code := regexp.MustCompile(`"(1[0-9]{11})"`)
	checked := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			for _, m := range code.FindAllStringSubmatch(line, -1) {
				c := m[1]
				checked++
				if c == apitest.Province || c == apitest.CityA || c == apitest.CityB ||
					region.Contains(fixtures[0], c) || region.Contains(fixtures[1], c) || region.Contains(fixtures[2], c) {
					continue
				}
				known, err := e.App.Regions.Exists(context.Background(), c)
				if err != nil {
					t.Fatal(err)
				}
				if known {
					t.Errorf("%s:%d: %s is a real region outside the fixtures: take a county with e.Area(t) instead", f, i+1, c)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no region code found in the tests: the pattern checks nothing")
	}
}
