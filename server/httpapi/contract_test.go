package httpapi_test

import (
	"log/slog"
	"regexp"
	"sort"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/httpapi"
	"github.com/shiliu/shiliu/server/upload"
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

// TestContractAttachmentLimitIsTheServers: every request that refers to uploads (an
// `attachments` array of ids) says in the contract how many it may name, and that is
// upload.MaxAttachments, the one limit Attach enforces. The mini-program reads its limit from
// the contract's number (its spec checks that), so a change of the limit reaches it through here.
func TestContractAttachmentLimitIsTheServers(t *testing.T) {
	path, err := apitest.ContractPath()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var checked []string
	for _, name := range sortedKeys(doc.Components.Schemas) {
		prop := doc.Components.Schemas[name].Value.Properties["attachments"]
		if prop == nil || prop.Value.Items == nil || !prop.Value.Items.Value.Type.Is(openapi3.TypeInteger) {
			continue // not a request's ids (a view's attachments are Upload objects)
		}
		checked = append(checked, name)
		if max := prop.Value.MaxItems; max == nil || *max != upload.MaxAttachments {
			t.Errorf("%s.attachments: maxItems %v, the server allows %d", name, max, upload.MaxAttachments)
		}
	}
	t.Logf("checked %v", checked)
	// the record's create and patch, the bulletin's, the task's and the task report's
	if len(checked) < 5 {
		t.Errorf("checked only %v: the inputs with attachment ids were not found", checked)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
