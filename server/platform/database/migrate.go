package database

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
)

// Migration is one reviewed, ordered schema step. Steps are never edited once released: a change
// is a new step.
type Migration struct {
	Version int
	Name    string
	Up      func(tx *gorm.DB, d Dialect) error
}

type schemaMigration struct {
	Version   int    `gorm:"primaryKey;autoIncrement:false"`
	Name      string `gorm:"size:128;not null"`
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// Version returns the newest applied migration version (0 for an empty database).
func (d *DB) Version(ctx context.Context) (int, error) {
	if !d.Migrator().HasTable(&schemaMigration{}) {
		return 0, nil
	}
	var v int
	err := d.WithContext(ctx).Model(&schemaMigration{}).Select("COALESCE(MAX(version), 0)").Scan(&v).Error
	return v, err
}

// Latest is the newest version in ms.
func Latest(ms []Migration) int {
	v := 0
	for _, m := range ms {
		if m.Version > v {
			v = m.Version
		}
	}
	return v
}

// Migrate applies the pending steps in order and returns their versions. Several instances may
// start at once: on MySQL a named lock serialises them; SQLite has one connection anyway.
func (d *DB) Migrate(ctx context.Context, ms []Migration) ([]int, error) {
	sorted := append([]Migration(nil), ms...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Version < sorted[j].Version })
	var applied []int
	err := d.WithContext(ctx).Connection(func(pinned *gorm.DB) error {
		// Connection hands over a non-cloning handle: chained calls would pile conditions onto
		// one statement. A session on the pinned connection starts each call clean.
		conn := pinned.Session(&gorm.Session{})
		if d.Dialect == MySQL {
			var got int
			if err := conn.Raw("SELECT GET_LOCK('shiliu_migrate', 120)").Scan(&got).Error; err != nil || got != 1 {
				return fmt.Errorf("migrate: could not take the migration lock (got %d): %v", got, err)
			}
			defer conn.Exec("SELECT RELEASE_LOCK('shiliu_migrate')")
		}
		if err := conn.Migrator().AutoMigrate(&schemaMigration{}); err != nil {
			return fmt.Errorf("migrate: create schema_migrations: %w", err)
		}
		var done []int
		if err := conn.Model(&schemaMigration{}).Pluck("version", &done).Error; err != nil {
			return err
		}
		have := map[int]bool{}
		for _, v := range done {
			have[v] = true
		}
		for _, m := range sorted {
			if have[m.Version] {
				continue
			}
			// MySQL DDL commits implicitly, so a step must be safe to re-run after a crash
			// (CreateTables skips tables that exist); the version row is written last.
			if err := m.Up(conn, d.Dialect); err != nil {
				return fmt.Errorf("migrate %d %s: %w", m.Version, m.Name, err)
			}
			if err := conn.Create(&schemaMigration{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}).Error; err != nil {
				return fmt.Errorf("migrate %d: record: %w", m.Version, err)
			}
			applied = append(applied, m.Version)
		}
		return nil
	})
	return applied, err
}

// CreateTables creates each model's table (with its indexes) unless it exists.
func CreateTables(tx *gorm.DB, models ...any) error {
	for _, m := range models {
		if tx.Migrator().HasTable(m) {
			continue
		}
		if err := tx.Migrator().CreateTable(m); err != nil {
			return err
		}
	}
	return nil
}
