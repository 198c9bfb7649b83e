package database

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What a transaction wrote reaches the database file from the WAL without any connection
// committing past SQLite's own threshold: the checkpointer copied it.
func TestCheckpointerCopiesTheWALIntoTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := Open(context.Background(), "sqlite:"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("CREATE TABLE pages (body TEXT NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)
	// About 500 pages: fewer than SQLite's own threshold (1,000) and than the backstop.
	body := strings.Repeat("石榴", 700)
	tx := db.Begin()
	for range 500 {
		if err := tx.Exec("INSERT INTO pages (body) VALUES (?)", body).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fileSize(t, path) < before+500*4096 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes (%d before the writes): the WAL was not checkpointed", fileSize(t, path), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Close stops the checkpointer (it would otherwise go on ticking against a closed pool).
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close() // and twice, as an app's shutdown may
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
