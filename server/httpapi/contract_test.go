package httpapi_test

import (
	"log/slog"
	"regexp"
	"sort"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/httpapi"
)

// ginParam matches a gin path parameter (:id) or catch-all (*path).
var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// TestEveryRouteIsInContract keeps the router and miniprogram-api/openapi.yaml in step: a route
// added without documenting it, or an operation documented without a route, fails here.
func TestEveryRouteIsInContract(t *testing.T) {
	engine, err := httpapi.NewRouter(httpapi.Deps{Log: slog.Default(), Metrics: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	documented, err := apitest.ContractRoutes()
	if err != nil {
		t.Fatal(err)
	}
	inContract := map[string]bool{}
	for _, op := range documented {
		inContract[op] = true
	}
	inRouter := map[string]bool{}
	for _, r := range engine.Routes() {
		inRouter[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(inRouter) == 0 {
		t.Fatal("the router has no routes")
	}
	for _, op := range sortedKeys(inRouter) {
		if !inContract[op] {
			t.Errorf("route %s is not described in miniprogram-api/openapi.yaml", op)
		}
	}
	for _, op := range documented {
		if !inRouter[op] {
			t.Errorf("miniprogram-api/openapi.yaml describes %s, but the router has no such route", op)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
