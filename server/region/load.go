package region

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

//go:embed data/hebei.tsv.gz
var hebeiTSV []byte

// batchSize is rows per INSERT. The pure-Go SQLite driver binds parameters
// in O(n²) per statement, so it wants small batches (BenchmarkLoadBatch:
// 5000 rows ≈ 6× slower than 250). MySQL/MariaDB favours fewer round trips;
// 1000 rows is 4000 placeholders (limit 65535) and ~100 KB of SQL, far under
// max_allowed_packet. SQLite's own limit is 32766 parameters.
func batchSize(db *gorm.DB) int {
	if db.Dialector.Name() == "sqlite" {
		return 250
	}
	return 1000
}

// loadAttempts bounds retries while a concurrent loader holds the table.
const loadAttempts = 6

// embedded parses the embedded data file.
func embedded() ([]Region, error) {
	zr, err := gzip.NewReader(bytes.NewReader(hebeiTSV))
	if err != nil {
		return nil, fmt.Errorf("region: embedded data: %w", err)
	}
	defer zr.Close()
	rows := make([]Region, 0, 56712)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("region: embedded data: bad line %q", sc.Text())
		}
		lv, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("region: embedded data: bad level in %q", sc.Text())
		}
		rows = append(rows, Region{Code: f[0], ParentCode: f[1], Level: lv, Name: f[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("region: embedded data: %w", err)
	}
	return rows, nil
}

// Load fills an empty regions table from the embedded data in one
// transaction and returns the number of rows inserted. A table that already
// has rows is left alone (0, nil), so Load is safe to call at every start,
// also from several processes at once: the loser's insert fails on the
// winner's keys or locks, and it then finds the rows present.
func Load(ctx context.Context, db *gorm.DB) (loaded int, err error) {
	db = db.WithContext(ctx)
	has, err := hasRows(db)
	if err != nil {
		return 0, fmt.Errorf("region: check regions table: %w", err)
	}
	if has {
		return 0, nil
	}
	rows, err := embedded()
	if err != nil {
		return 0, err
	}
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err = insertAll(db, rows, batchSize(db))
		if err == nil {
			return len(rows), nil
		}
		// Until the winner commits, its rows are invisible and we may have
		// failed on a lock (SQLite busy, InnoDB deadlock): wait and retry.
		if has, cerr := hasRows(db); cerr == nil && has {
			return 0, nil
		}
		if attempt == loadAttempts || ctx.Err() != nil {
			return 0, fmt.Errorf("region: load: %w", err)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("region: load: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func hasRows(db *gorm.DB) (bool, error) {
	var codes []string
	err := db.Model(&Region{}).Limit(1).Pluck("code", &codes).Error
	return len(codes) > 0, err
}

func insertAll(db *gorm.DB, rows []Region, batch int) error {
	// Silent: a failed or slow batch would otherwise log ~0.5 MB of SQL; the
	// error is returned. SkipDefaultTransaction avoids a nested savepoint.
	s := db.Session(&gorm.Session{SkipDefaultTransaction: true, Logger: db.Logger.LogMode(logger.Silent)})
	return s.Transaction(func(tx *gorm.DB) error {
		return tx.CreateInBatches(rows, batch).Error
	})
}
