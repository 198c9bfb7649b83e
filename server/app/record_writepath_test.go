package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/httpapi"
	"gorm.io/gorm"
)

// statementLog keeps the SQL GORM ran for requests of one request id, whatever the connection or
// goroutine: the request id rides on the context every statement of the request is run with.
type statementLog struct {
	mu      sync.Mutex
	marker  string
	entries []string
}

func (l *statementLog) register(t *testing.T, db *gorm.DB) {
	t.Helper()
	cb := db.Callback()
	hook := func(kind string) func(*gorm.DB) {
		return func(tx *gorm.DB) {
			if requestIDOf(tx.Statement.Context) != l.current() {
				return
			}
			sql := tx.Statement.SQL.String()
			if i := strings.IndexAny(sql, "("); i > 60 {
				sql = sql[:i]
			}
			l.mu.Lock()
			l.entries = append(l.entries, kind+" "+sql)
			l.mu.Unlock()
		}
	}
	must(t, cb.Create().After("gorm:create").Register("test:count_create", hook("create")))
	must(t, cb.Query().After("gorm:query").Register("test:count_query", hook("query")))
	must(t, cb.Update().After("gorm:update").Register("test:count_update", hook("update")))
	must(t, cb.Delete().After("gorm:delete").Register("test:count_delete", hook("delete")))
	must(t, cb.Row().After("gorm:row").Register("test:count_row", hook("row")))
	must(t, cb.Raw().After("gorm:raw").Register("test:count_raw", hook("raw")))
}

func (l *statementLog) current() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.marker
}

// start begins a count for requests sent with this id.
func (l *statementLog) start(id string) {
	l.mu.Lock()
	l.marker, l.entries = id, nil
	l.mu.Unlock()
}

func (l *statementLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.entries
	l.marker, l.entries = "\x00", nil
	return out
}

// requestIDOf reads the request id the API put on a context, through the log handler that
// reads it for every log line.
func requestIDOf(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	var id string
	_ = httpapi.LogHandler{Handler: attrCatcher{key: "request_id", into: &id}}.Handle(ctx, slog.Record{})
	return id
}

type attrCatcher struct {
	key  string
	into *string
}

func (attrCatcher) Enabled(context.Context, slog.Level) bool { return true }
func (a attrCatcher) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(at slog.Attr) bool {
		if at.Key == a.key {
			*a.into = at.Value.String()
		}
		return true
	})
	return nil
}
func (a attrCatcher) WithAttrs([]slog.Attr) slog.Handler { return a }
func (a attrCatcher) WithGroup(string) slog.Handler      { return a }

// TestSubmissionStatements counts the SQL statements one submission runs, from the access token
// to the audit entry, on a second server whose GORM handle is counted: the author's placement is
// read once, everything else is written in the one transaction (besides BEGIN and COMMIT), and
// the answer is built from what was written, with no read after the commit but the Mroonga
// entry's check of the record's version (MariaDB). A retry is answered
// from the unique key: its insert fails and the stored record is read.
func TestSubmissionStatements(t *testing.T) {
	w := newRecordWorld(t)
	second := apitest.Another(t, w.e.Clock)
	var log statementLog
	log.marker = "\x00"
	log.register(t, second.DB())
	author := second.As(t, w.author.Token)
	// The token's first check and the region's name are cached after the first request.
	author.Must(http.StatusCreated, "POST", "/api/v1/visits", apitest.RecordBody("visit", phoneTime(w.e, -time.Hour)))
	for _, kind := range []string{"visit", "tip", "sentiment", "mediation"} {
		body := apitest.RecordBody(kind, phoneTime(w.e, -time.Hour))
		for _, round := range []struct {
			name   string
			status int
		}{{"first", http.StatusCreated}, {"retry", http.StatusOK}} {
			id := fmt.Sprintf("stmt-%s-%s-%s", kind, round.name, apitest.Unique())
			log.start(id)
			author.With("X-Request-ID", id).Must(round.status, "POST", "/api/v1/"+apitest.RecordPaths[kind], body)
			got := log.take()
			t.Logf("%s %s: %d statements through GORM\n  %s", kind, round.name, len(got), strings.Join(got, "\n  "))
			// On SQLite submissions share a transaction, each in a savepoint of its own
			// (database.Grouped): those statements are counted apart.
			var reads, writes, savepoints, index []string
			for _, st := range got {
				switch {
				case strings.Contains(st, "record_search"), strings.Contains(st, "SELECT version FROM records WHERE id"):
					// The full-text entry (package fulltext), counted apart below.
					index = append(index, st)
				case strings.HasPrefix(st, "raw SAVEPOINT "), strings.HasPrefix(st, "raw RELEASE "), strings.HasPrefix(st, "raw ROLLBACK TO "):
					savepoints = append(savepoints, st)
				case strings.HasPrefix(st, "query "), strings.HasPrefix(st, "row "):
					reads = append(reads, st)
				default:
					writes = append(writes, st)
				}
			}
			// A group whose calls all succeed has no savepoint; one with a failing call (the
			// retry's insert, refused by the unique key) is written again with a savepoint per call.
			if len(savepoints) > 0 && (apitest.Backend() != "sqlite" || round.name == "first" || len(savepoints) > 3) {
				t.Errorf("%s %s: savepoints %v", kind, round.name, savepoints)
			}
			// MariaDB: the record noted pending in the transaction; the Mroonga entry is written
			// after the commit in a batch, off the request's path (fulltext.Index.Run). SQLite:
			// nothing in the transaction; the same writer indexes the records above the newest
			// it indexed.
			wantIndex := map[string]int{"sqlite": 0, "mysql": 1}[apitest.Backend()]
			if round.name == "retry" {
				wantIndex = 0
			}
			if len(index) != wantIndex {
				t.Errorf("%s %s: %d statements of the full-text index, want %d: %v", kind, round.name, len(index), wantIndex, index)
			}
			switch round.name {
			case "first":
				// placement; record, detail, step, version, aggregate, fact, activity, event, audit
				if len(reads) != 1 || !strings.Contains(reads[0], "JOIN units") || len(writes) != 9 {
					t.Errorf("%s first: %d reads and %d writes, want the placement and 9 writes", kind, len(reads), len(writes))
				}
				if !strings.Contains(writes[len(writes)-1], "audit_log") {
					t.Errorf("%s first: the audit entry is not the transaction's last write", kind)
				}
			case "retry":
				// placement, the refused insert, then the stored record (7 or 8 reads, with its
				// attachments on the way: migration 42) and the audit entry. On SQLite the
				// refused insert twice: its group is written again with savepoints.
				if len(writes) != map[string]int{"sqlite": 3, "mysql": 2}[apitest.Backend()] || len(reads) > 9 {
					t.Errorf("%s retry: %d reads and %d writes", kind, len(reads), len(writes))
				}
			}
		}
	}
}

// TestSubmissionAnswersWhatItWrote: the answer to a submission, built from what its transaction
// wrote, is the record as a read shows it, and so is the answer to a retry; with attachments and
// with an occurred_at finer than the database keeps too.
func TestSubmissionAnswersWhatItWrote(t *testing.T) {
	w := newRecordWorld(t)
	for _, kind := range []string{"visit", "tip", "sentiment", "mediation", "visit+attachments", "tip+nanoseconds"} {
		t.Run(kind, func(t *testing.T) {
			k, extra, _ := strings.Cut(kind, "+")
			body := apitest.RecordBody(k, phoneTime(w.e, -time.Hour))
			switch extra {
			case "attachments":
				a, b := mustUpload(t, w.author, "a.png", pngImage(t)), mustUpload(t, w.author, "b.png", pngImage(t))
				body["attachments"] = []int64{b.ID, a.ID}
			case "nanoseconds":
				at := w.e.Clock.Now().Add(-time.Hour).Truncate(time.Second).Add(123456789 * time.Nanosecond)
				body["occurred_at"] = at.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339Nano)
			}
			path := "/api/v1/" + apitest.RecordPaths[k]
			first := w.author.Must(http.StatusCreated, "POST", path, body)
			var v recordView
			first.JSON(t, &v)
			read := w.author.Must(http.StatusOK, "GET", recordPath(k, v.ID), nil)
			retry := w.author.Must(http.StatusOK, "POST", path, body)
			if extra == "attachments" && len(v.Attachments) != 2 {
				t.Fatalf("attachments: %+v", v.Attachments)
			}
			var a, b, c map[string]any
			first.JSON(t, &a)
			read.JSON(t, &b)
			retry.JSON(t, &c)
			// The clock stands still: even the signed links are the same.
			if !reflect.DeepEqual(a, b) {
				t.Errorf("answer and read differ:\n%s\n%s", first.Body, read.Body)
			}
			if !reflect.DeepEqual(b, c) {
				t.Errorf("read and retry differ:\n%s\n%s", read.Body, retry.Body)
			}
		})
	}
}

// TestSubmissionAndItsAuditEntryCommitTogether makes one write of a submission's transaction fail
// after the record's insert: neither the record nor an audit entry of it is stored (the trail
// keeps the failed request, 500, with no subject), and the same submission sent again is stored
// with its entry.
func TestSubmissionAndItsAuditEntryCommitTogether(t *testing.T) {
	w := newRecordWorld(t)
	second := apitest.Another(t, w.e.Clock)
	var fail struct {
		sync.Mutex
		request, table string
		hits, left     int
	}
	inject := func(tx *gorm.DB) {
		fail.Lock()
		defer fail.Unlock()
		if fail.table == "" || requestIDOf(tx.Statement.Context) != fail.request {
			return
		}
		// In every pass of the transaction: on SQLite a group with a failing call is written
		// again, with savepoints. The trail's entry of the failed request is written after.
		if fail.left > 0 && (tx.Statement.Table == fail.table || strings.Contains(tx.Statement.SQL.String(), "INTO "+fail.table+" ")) {
			fail.hits++
			fail.left--
			tx.AddError(errors.New("injected failure"))
		}
	}
	cb := second.DB().Callback()
	must(t, cb.Create().Before("gorm:create").Register("test:fail_create", inject))
	must(t, cb.Raw().Before("gorm:raw").Register("test:fail_raw", inject))

	type entry struct {
		Status     int
		SubjectID  *int64
		RegionCode string
	}
	entries := func(requestID string) []entry {
		var out []entry
		must(t, w.e.DB().Table("audit_log").Select("status", "subject_id", "region_code").Where("request_id = ?", requestID).Find(&out).Error)
		return out
	}
	for _, table := range []string{"record_tips", "record_versions", "stats_monthly", "events", "audit_log"} {
		t.Run(table, func(t *testing.T) {
			body := apitest.RecordBody("tip", phoneTime(w.e, -time.Hour))
			failed := "fail-" + strings.ReplaceAll(table, "_", "-") + "-" + apitest.Unique()
			fail.Lock()
			fail.request, fail.table, fail.hits, fail.left = failed, table, 0, map[string]int{"sqlite": 2, "mysql": 1}[apitest.Backend()]
			fail.Unlock()
			status, out := rawPost(t, second.URL+"/api/v1/tips", w.author.Token, failed, body)
			fail.Lock()
			missed := fail.hits == 0
			fail.table = ""
			fail.Unlock()
			if status != http.StatusInternalServerError {
				t.Fatalf("with %s failing: %d %s", table, status, out)
			}
			if missed {
				t.Fatalf("the failure at %s was never injected", table)
			}
			if n := countRows(t, w.e, "SELECT COUNT(*) FROM records WHERE client_id = ?", body["client_id"]); n != 0 {
				t.Fatalf("with %s failing, %d records stored", table, n)
			}
			if got := entries(failed); len(got) != 1 || got[0].Status != http.StatusInternalServerError || got[0].SubjectID != nil {
				t.Fatalf("entries of the failed request: %+v", got)
			}

			stored := "stored-" + apitest.Unique()
			status, out = rawPost(t, second.URL+"/api/v1/tips", w.author.Token, stored, body)
			if status != http.StatusCreated {
				t.Fatalf("again: %d %s", status, out)
			}
			var id int64
			must(t, w.e.DB().Raw("SELECT id FROM records WHERE client_id = ?", body["client_id"]).Scan(&id).Error)
			if got := entries(stored); len(got) != 1 || got[0].Status != http.StatusCreated || got[0].SubjectID == nil ||
				*got[0].SubjectID != id || got[0].RegionCode != w.area.Township() {
				t.Fatalf("entries of the stored submission %d: %+v", id, got)
			}
		})
	}
}

// rawPost sends a JSON body with a request id, outside the contract check (which fails a test on
// any 500).
func rawPost(t *testing.T, url, token, requestID string, body any) (int, string) {
	t.Helper()
	b, err := json.Marshal(body)
	must(t, err)
	req, err := http.NewRequest("POST", url, bytes.NewReader(b))
	must(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Request-ID", requestID)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, string(out)
}
