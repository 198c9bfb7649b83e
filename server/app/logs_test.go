package app_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
)

// lockedBuffer collects log lines written by the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A tip's text, the people involved and a search for them must not reach the log, neither in
// slow-query lines nor in the error lines of statements that fail when the database goes away.
func TestPersonalDataStaysOutOfLogs(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	// Every statement counts as slow, so every statement is logged.
	e := apitest.Logged(t, apitest.Shared(t).Clock, &logs, func(c *config.Config) { c.Database.SlowQuery = time.Nanosecond })
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	author, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))

	marker := "LOGMARK" + apitest.Unique() + apitest.Unique()
	body := apitest.RecordBody("tip", phoneTime(e, -time.Hour))
	tip := body["tip"].(map[string]any)
	tip["description"] = "马某与张某争执 " + marker
	tip["groups_involved"] = "两户村民 " + marker
	body["title"] = "边界纠纷 " + marker
	id := author.Submit("tip", body)

	var found recordList
	staff.Must(http.StatusOK, "GET", "/api/v1/tips?q="+url.QueryEscape(marker), nil).JSON(t, &found)
	if !found.has(id) {
		t.Fatalf("search for the marker did not find tip %d", id)
	}

	// The connections drop: the search fails in the database layer and is logged as an error.
	if err := e.App.DB.Close(); err != nil {
		t.Fatal(err)
	}
	// Sent past the test client, which counts any 500 as a failure: here the server is broken on
	// purpose, whether it answers 500 or 503 is not what this test is about.
	req, _ := http.NewRequest("GET", e.URL+"/api/v1/tips?q="+url.QueryEscape(marker), nil)
	req.Header.Set("Authorization", "Bearer "+staff.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 500 {
		t.Fatalf("search on a closed database: status %d, want 5xx", resp.StatusCode)
	}

	out := logs.String()
	if !strings.Contains(out, "SQL executed") || !strings.Contains(out, "level=ERROR") {
		t.Fatalf("the run logged no slow statement or no error, so it checks nothing:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, marker) {
			t.Errorf("personal data in the log: %s", line)
		}
	}
}
