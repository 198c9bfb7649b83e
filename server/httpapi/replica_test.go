package httpapi

import "testing"

func TestReplicaRoute(t *testing.T) {
	for path, want := range map[string]bool{
		"/api/v1/records":                 true,
		"/api/v1/units":                   true,
		"/api/v1/records/export.xlsx":     true,
		"/api/v1/filings/:id/export.xlsx": true,
		"/api/v1/stats/overview":          true,
		"/api/v1/records/:id":             false,
		"/api/v1/me":                      false,
		"/api/v1/me/summary":              false,
		"/api/v1/tips/stream":             false,
		"/api/v1/meetings/:id/attendance": false,
		"":                                false,
	} {
		if got := replicaRoute(path); got != want {
			t.Errorf("%q: %v, want %v", path, got, want)
		}
	}
}
