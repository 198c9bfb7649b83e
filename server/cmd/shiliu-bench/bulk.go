package main

// -bulk: seeding tens of millions of records on MySQL/MariaDB. Inserting in primary-key order
// with the secondary indexes absent and building each index once afterwards (a sort) is far
// faster than keeping them row by row (the statistics bench, server/stats/bench_test.go, does
// the same); so is building Groonga's full-text index over a loaded table instead of entry by
// entry (fillOffline).

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/fulltext"
)

// seededTables are the tables the record seed writes.
var seededTables = []string{"records", "record_visits", "record_sentiments", "record_tips", "record_mediations"}

// fillOffline fills an empty Mroonga record_search from the records with its indexes absent,
// then adds them back, so that Groonga builds each index once over the loaded column instead of
// entry by entry (migration 44's fill, fulltext.Fill, ran ~7,800 records/s). The end state is the
// one Fill leaves: the same table (SHOW CREATE TABLE is compared, byte for byte, before and
// after), the same entries (fulltext.Records.MroongaEntries), the fill's progress at the last record, no
// pending entry. Not resumable, and only for a database nobody else writes (the bench's fresh
// seed): while it runs the table has no full-text index, and a search would fail.
func fillOffline(ctx context.Context, db *sql.DB, batch int64) error {
	var name, before string
	if err := db.QueryRowContext(ctx, "SHOW CREATE TABLE record_search").Scan(&name, &before); err != nil {
		return err
	}
	if !strings.Contains(before, "ENGINE=Mroonga") {
		return fmt.Errorf("record_search is not a Mroonga table")
	}
	var entries, pending, last, maxID int64
	for q, v := range map[string]*int64{
		"SELECT COUNT(*) FROM record_search":                  &entries,
		"SELECT COUNT(*) FROM record_search_pending":          &pending,
		"SELECT last_id FROM record_search_fill WHERE id = 1": &last,
		"SELECT COALESCE(MAX(id), 0) FROM records":            &maxID,
	} {
		if err := db.QueryRowContext(ctx, q).Scan(v); err != nil {
			return err
		}
	}
	if entries > 0 || pending > 0 || last > 0 {
		return fmt.Errorf("record_search is not empty (%d entries, %d pending, filled up to %d): fill it with fulltext.Fill", entries, pending, last)
	}
	// The index lines of SHOW CREATE TABLE are added back verbatim.
	var keys, drops []string
	for _, line := range strings.Split(before, "\n") {
		line = strings.TrimSuffix(strings.TrimSpace(line), ",")
		if strings.HasPrefix(line, "KEY `") || strings.HasPrefix(line, "FULLTEXT KEY `") || strings.HasPrefix(line, "UNIQUE KEY `") {
			keys = append(keys, line)
			name := line[strings.Index(line, "`")+1:]
			drops = append(drops, "DROP INDEX `"+name[:strings.Index(name, "`")]+"`")
		}
	}
	if len(keys) == 0 {
		return fmt.Errorf("record_search has no index to build: %s", before)
	}
	began := time.Now()
	if _, err := db.ExecContext(ctx, "ALTER TABLE record_search "+strings.Join(drops, ", ")); err != nil {
		return err
	}
	for lo := int64(0); lo < maxID; lo += batch {
		hi := min(lo+batch, maxID)
		if _, err := db.ExecContext(ctx, "INSERT "+fulltext.Records.MroongaEntries(), lo, hi); err != nil {
			return fmt.Errorf("record_search: load ids %d–%d: %w", lo+1, hi, err)
		}
		if hi == maxID || (hi/batch)%10 == 0 {
			el := time.Since(began)
			logf("record_search: loaded ids up to %d of %d in %s (%.0f records/s)", hi, maxID, el.Round(time.Second), float64(hi)/el.Seconds())
		}
	}
	loaded := time.Since(began)
	for _, k := range keys {
		at := time.Now()
		if _, err := db.ExecContext(ctx, "ALTER TABLE record_search ADD "+k); err != nil {
			return fmt.Errorf("record_search: add %s: %w", k, err)
		}
		logf("record_search: built %s in %s", k, time.Since(at).Round(time.Second))
	}
	var after string
	if err := db.QueryRowContext(ctx, "SHOW CREATE TABLE record_search").Scan(&name, &after); err != nil {
		return err
	}
	if after != before {
		return fmt.Errorf("record_search differs from migration 44's after the offline fill:\nbefore: %s\nafter: %s", before, after)
	}
	if _, err := db.ExecContext(ctx, "UPDATE record_search_fill SET last_id = ? WHERE id = 1", maxID); err != nil {
		return err
	}
	logf("record_search: %d records loaded in %s, indexes built in %s", maxID, loaded.Round(time.Second), (time.Since(began) - loaded).Round(time.Second))
	return nil
}
