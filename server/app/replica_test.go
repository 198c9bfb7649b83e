package app_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// replicaSet is the MariaDB primary and replica the read-replica test runs on
// (.ci/mariadb-replica.sh starts them: 3317 with a binlog, 3318 replicating it by GTID).
func replicaSet(t *testing.T) (primary, replica string) {
	primary, replica = os.Getenv("SHILIU_TEST_REPLICA_PRIMARY_DSN"), os.Getenv("SHILIU_TEST_REPLICA_DSN")
	if primary == "" || replica == "" {
		t.Skip("SHILIU_TEST_REPLICA_PRIMARY_DSN and SHILIU_TEST_REPLICA_DSN not set: the read-replica test needs a real MariaDB " +
			"primary and replica (bash .ci/mariadb-replica.sh, then SHILIU_TEST_REPLICA_PRIMARY_DSN='root@tcp(127.0.0.1:3317)/' " +
			"SHILIU_TEST_REPLICA_DSN='root@tcp(127.0.0.1:3318)/')")
	}
	return primary, replica
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// comSelect is how many SELECTs the server has run: the replica's count rises only when reads
// go to it.
func comSelect(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	var name string
	var n int64
	if err := db.QueryRow("SHOW GLOBAL STATUS LIKE 'Com_select'").Scan(&name, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// unitNames lists the units named with prefix that c sees.
func unitNames(t *testing.T, c *apitest.Client, prefix string) []string {
	var body struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	r := c.Must(http.StatusOK, "GET", "/api/v1/units?limit=100&q="+url.QueryEscape(prefix), nil)
	r.JSON(t, &body)
	var out []string
	for _, u := range body.Items {
		out = append(out, u.Name)
	}
	return out
}

func waitUntil(t *testing.T, what string, limit time.Duration, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// TestReadReplicas runs a server on a real MariaDB primary with a real replica: lists,
// statistics and exports go to the replica; an account that just wrote reads its own write from
// the primary while the replica (delayed by a second) has not got it yet, and another account,
// reading from the replica, sees it a moment later; a replica more than replica_max_lag behind,
// or whose replication is stopped, is left out (lists still answer, from the primary, with the
// latest writes) and taken back once it is in step again.
func TestReadReplicas(t *testing.T) {
	primaryBase, replicaBase := replicaSet(t)
	pdb, err := sql.Open("mysql", primaryBase)
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	rdb, err := sql.Open("mysql", replicaBase)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	name := "shiliu_rr_" + strings.ToLower(apitest.Unique())
	mustExec(t, pdb, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	t.Cleanup(func() { pdb.Exec("DROP DATABASE IF EXISTS " + name) })
	// Replication must run for the schema to reach the replica.
	mustExec(t, rdb, "STOP SLAVE")
	mustExec(t, rdb, "CHANGE MASTER TO MASTER_DELAY=0")
	mustExec(t, rdb, "START SLAVE")
	waitUntil(t, "database on the replica", 30*time.Second, func() bool {
		var n int
		return rdb.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n) == nil && n == 1
	})

	e := apitest.Another(t, clock.NewFake(time.Now()), func(c *config.Config) {
		c.Database.DSN = strings.TrimSuffix(primaryBase, "/") + "/" + name
		c.Database.Replicas = []string{strings.TrimSuffix(replicaBase, "/") + "/" + name}
		c.Database.ReplicaMaxLag = 2 * time.Second
		c.Database.ReadYourWrites = 5 * time.Second
		c.Redis.Prefix = "shiliu_rr_" + strings.ToLower(apitest.Unique()) + ":"
	})
	if e.App.Replicas == nil {
		t.Fatal("no replicas configured")
	}
	// The schema and the regions the server loaded reach the replica (applying them, it may lag
	// and be left out for a while: wait until it has all of the primary's binlog).
	waitUntil(t, "replica caught up", 120*time.Second, func() bool {
		var p, r string
		return pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&p) == nil && rdb.QueryRow("SELECT @@gtid_slave_pos").Scan(&r) == nil && p == r
	})
	waitUntil(t, "replica in step", 60*time.Second, func() bool { return len(e.App.Replicas.InStep()) == 1 })

	writer := e.Staff(t, "county_staff", apitest.CountyA1)
	reader := e.Staff(t, "county_staff", apitest.CountyA1)

	// Lists read from the replica.
	before := comSelect(t, rdb)
	for i := 0; i < 5; i++ {
		unitNames(t, reader, "none-such")
	}
	if d := comSelect(t, rdb) - before; d < 5 {
		t.Fatalf("5 lists ran %d SELECTs on the replica (in step: %v): they did not read from it", d, e.App.Replicas.InStep())
	}

	// So do statistics and exports.
	for _, path := range []string{"/api/v1/stats/overview", "/api/v1/records/export.xlsx"} {
		before := comSelect(t, rdb)
		reader.Must(http.StatusOK, "GET", path, nil)
		if d := comSelect(t, rdb) - before; d < 1 {
			t.Fatalf("%s ran no SELECT on the replica", path)
		}
	}

	// Read-your-writes against a replica a second behind.
	mustExec(t, rdb, "STOP SLAVE")
	mustExec(t, rdb, "CHANGE MASTER TO MASTER_DELAY=1")
	mustExec(t, rdb, "START SLAVE")
	t.Cleanup(func() {
		rdb.Exec("STOP SLAVE")
		rdb.Exec("CHANGE MASTER TO MASTER_DELAY=0")
		rdb.Exec("START SLAVE")
	})
	waitUntil(t, "delayed replica in step", 30*time.Second, func() bool { return len(e.App.Replicas.InStep()) == 1 })
	prefix := "只读副本" + apitest.Unique()
	for i := 0; i < 3; i++ {
		unit := fmt.Sprintf("%s-%d", prefix, i)
		writer.Must(http.StatusCreated, "POST", "/api/v1/units", map[string]any{"name": unit, "kind": "village", "region_code": apitest.TownshipA1})
		if got := unitNames(t, writer, unit); len(got) != 1 {
			t.Fatalf("the writer's list right after its write: %v, want %s", got, unit)
		}
		if got := unitNames(t, reader, unit); len(got) != 0 {
			t.Logf("the other account already saw %s (the replica was quicker than its delay)", unit)
		}
		seen := waitUntil(t, "the other account sees the unit", 10*time.Second, func() bool { return len(unitNames(t, reader, unit)) == 1 })
		t.Logf("write %d: the writer saw it at once; the other account, reading from the replica, after %v", i, seen.Round(time.Millisecond))
	}

	// A replica further behind than replica_max_lag (2 s) is left out while it lags: here one
	// delayed by 4 s, after a write.
	mustExec(t, rdb, "STOP SLAVE")
	mustExec(t, rdb, "CHANGE MASTER TO MASTER_DELAY=4")
	mustExec(t, rdb, "START SLAVE")
	waitUntil(t, "delayed replica in step before the write", 30*time.Second, func() bool { return len(e.App.Replicas.InStep()) == 1 })
	lagged := prefix + "-lagged"
	writer.Must(http.StatusCreated, "POST", "/api/v1/units", map[string]any{"name": lagged, "kind": "village", "region_code": apitest.TownshipA1})
	out := waitUntil(t, "lagging replica left out", 10*time.Second, func() bool { return len(e.App.Replicas.InStep()) == 0 })
	t.Logf("replica 4 s behind left out %v after the write", out.Round(time.Millisecond))
	if got := unitNames(t, reader, lagged); len(got) != 1 {
		t.Fatalf("with the replica lagging, the other account's list: %v, want %s (from the primary)", got, lagged)
	}
	mustExec(t, rdb, "STOP SLAVE")
	mustExec(t, rdb, "CHANGE MASTER TO MASTER_DELAY=0")
	mustExec(t, rdb, "START SLAVE")
	waitUntil(t, "caught-up replica back in step", 30*time.Second, func() bool { return len(e.App.Replicas.InStep()) == 1 })

	// A stopped replica is left out; lists answer from the primary with the latest writes.
	mustExec(t, rdb, "STOP SLAVE")
	out = waitUntil(t, "stopped replica left out", 10*time.Second, func() bool { return len(e.App.Replicas.InStep()) == 0 })
	t.Logf("stopped replica left out after %v", out.Round(time.Millisecond))
	late := prefix + "-stopped"
	writer.Must(http.StatusCreated, "POST", "/api/v1/units", map[string]any{"name": late, "kind": "village", "region_code": apitest.TownshipA1})
	before = comSelect(t, rdb)
	if got := unitNames(t, reader, late); len(got) != 1 {
		t.Fatalf("with the replica stopped, the other account's list: %v, want %s (from the primary)", got, late)
	}
	if d := comSelect(t, rdb) - before; d != 0 {
		t.Fatalf("a stopped replica still served %d SELECTs", d)
	}

	// Back in step once it replicates again: lists read from it, and it has caught up.
	mustExec(t, rdb, "START SLAVE")
	back := waitUntil(t, "replica back in step", 30*time.Second, func() bool { return len(e.App.Replicas.InStep()) == 1 })
	t.Logf("restarted replica back in step after %v", back.Round(time.Millisecond))
	before = comSelect(t, rdb)
	if got := unitNames(t, reader, late); len(got) != 1 {
		t.Fatalf("after the replica caught up: %v, want %s", got, late)
	}
	if d := comSelect(t, rdb) - before; d < 1 {
		t.Fatal("the replica back in step serves no reads")
	}
}
