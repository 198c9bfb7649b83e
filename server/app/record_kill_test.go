package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
	"gorm.io/gorm"
)

// killChildDSN names the variable that makes TestKilledServerChild run: the database of the
// server the parent test kills.
const killChildDSN = "SHILIU_TEST_KILL_CHILD_DSN"

// Townships of the killed server's phones: the fixture's, free there since its database is its own.
var killTownships = []string{apitest.TownshipA1, apitest.TownshipB1}

// TestStatsExactAfterKill starts this test binary as a server (TestKilledServerChild) on a
// database of its own, with 32 phones submitting at once, and kills it with SIGKILL in mid-load.
// Opened again, the database has every submission the server answered with 201; each stored
// record has its statistics fact, outbox event and audit entry; and the statistics equal a count
// of the records.
func TestStatsExactAfterKill(t *testing.T) {
	dsn := dbtest.DSN(t, "kill")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledServerChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildDSN+"="+dsn)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	// The child prints "created ID" for every 201 it got.
	answered := map[int64]bool{}
	lines := bufio.NewScanner(out)
	deadline := time.Now().Add(2 * time.Minute)
	for len(answered) < 400 && time.Now().Before(deadline) && lines.Scan() {
		if id, ok := strings.CutPrefix(lines.Text(), "created "); ok {
			n, err := strconv.ParseInt(id, 10, 64)
			must(t, err)
			answered[n] = true
		}
	}
	if len(answered) < 400 {
		t.Fatalf("the server answered %d submissions before it stopped or the time ran out", len(answered))
	}
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	killed = true
	_ = cmd.Wait()
	for lines.Scan() { // answers already in the pipe
		if id, ok := strings.CutPrefix(lines.Text(), "created "); ok {
			n, _ := strconv.ParseInt(id, 10, 64)
			answered[n] = true
		}
	}

	db, err := database.Open(context.Background(), dsn, database.Options{})
	must(t, err)
	defer db.Close()
	waitForTheKilledSessions(t, db)
	var ids []int64
	must(t, db.Raw("SELECT id FROM records").Scan(&ids).Error)
	stored := map[int64]bool{}
	for _, id := range ids {
		stored[id] = true
	}
	for id := range answered {
		if !stored[id] {
			t.Errorf("record %d was answered 201 and is not stored", id)
		}
	}
	t.Logf("killed after %d answers; %d records stored (%s)", len(answered), len(ids), apitest.Backend())
	for _, q := range []string{
		"SELECT COUNT(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM stats_record_facts f WHERE f.record_id = r.id)",
		"SELECT COUNT(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.subject_type = r.kind AND e.subject_id = r.id)",
		"SELECT COUNT(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM record_versions v WHERE v.record_id = r.id)",
	} {
		var n int64
		must(t, db.Raw(q).Scan(&n).Error)
		if n != 0 {
			t.Errorf("%d records without their row: %s", n, q)
		}
	}
	checkAudited(t, db.DB, killTownships)
	if n := checkAggregate(t, db.DB, ""); n != len(ids) {
		t.Errorf("compared %d records, %d stored", n, len(ids))
	}
}

// waitForTheKilledSessions waits until MariaDB has ended the killed server's sessions. A COMMIT
// the server sent just before it died is still carried out, and could add a record between the
// reads below (a run saw 400 records listed, then 401 in the statistics). The kernel closes the
// dead process's sockets, so each session ends once its statement is done.
func waitForTheKilledSessions(t *testing.T, db *database.DB) {
	t.Helper()
	if db.Dialect != database.MySQL {
		return // SQLite's writes died with the process
	}
	err := db.Connection(func(conn *gorm.DB) error {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var others int64
			if err := conn.Raw("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()").Scan(&others).Error; err != nil {
				return err
			}
			if others == 0 {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%d sessions of the killed server still open after 30 s", others)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	must(t, err)
}

// TestKilledServerChild is the server TestStatsExactAfterKill kills: it runs only in the process
// that test starts.
func TestKilledServerChild(t *testing.T) {
	dsn := os.Getenv(killChildDSN)
	if dsn == "" {
		t.Skip("run by TestStatsExactAfterKill")
	}
	apitest.UseDatabase(dsn)
	e := apitest.Shared(t)
	var tokens []string
	for i := range 32 {
		township := killTownships[i%len(killTownships)]
		staff := e.Staff(t, "county_staff", township[:6]+"000000")
		c, _ := e.InstructorClient(t, staff, staff.Unit("village", township))
		tokens = append(tokens, c.Token)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(tokens)}, Timeout: time.Minute}
	var mu sync.Mutex
	kinds := []string{"visit", "tip", "sentiment", "mediation"}
	var wg sync.WaitGroup
	stop := time.Now().Add(2 * time.Minute) // the parent kills it long before
	for i, token := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; time.Now().Before(stop); j++ {
				kind := kinds[(i+j)%len(kinds)]
				body := apitest.RecordBody(kind, phoneTime(e, -time.Duration(j%60)*24*time.Hour-time.Hour))
				status, out := postJSON(hc, e.URL+"/api/v1/"+apitest.RecordPaths[kind], token, body)
				if status != http.StatusCreated {
					continue
				}
				var v recordView
				if err := json.Unmarshal(out, &v); err != nil {
					continue
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "created %d\n", v.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
