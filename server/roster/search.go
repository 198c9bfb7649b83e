package roster

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/paging"
	"gorm.io/gorm"
)

// The name search of units and instructors (q) goes through the full-text index of each
// (package fulltext: Mroonga on MariaDB, InnoDB ngram on MySQL 8, FTS5 on SQLite), kept by every
// roster write in its transaction: touchUnits and touchInstructors name the rows written, and
// Committed has Mroonga's entries written once the transaction has committed. The index only
// narrows: the list's own query, with its LIKE, decides what a search returns.

// touchUnits has the index follow units written in tx (created, renamed, moved).
func (s *Service) touchUnits(tx *gorm.DB, ids ...int64) error {
	return s.unitNames.TouchIDs(tx, ids...)
}

// touchInstructors has the index follow instructors written in tx (created, renamed, moved to
// another unit or region, appointment ended).
func (s *Service) touchInstructors(tx *gorm.DB, ids ...int64) error {
	return s.instructorNames.TouchIDs(tx, ids...)
}

// Committed has the name index written (Mroonga, after commit) once a transaction that changed
// the roster has committed. The roster's own methods call it; a caller that changes the roster
// in its own transaction (AdjustIn, Appoint, RenewIn, EndTermIn) calls it after its commit. A
// missed call delays the entry until the writer's next interval, no more.
func (s *Service) Committed() {
	s.unitNames.Kick()
	s.instructorNames.Kick()
}

// RunNameIndex sets up the name index (creating and filling it when the database could not hold
// one at migration 45 and can now) and writes its pending entries (Mroonga) when kicked and
// every interval until ctx ends.
func (s *Service) RunNameIndex(ctx context.Context, every time.Duration, log *slog.Logger) {
	done := make(chan struct{})
	for _, ix := range []struct {
		name string
		ix   *fulltext.Index
	}{{"units", s.unitNames}, {"instructors", s.instructorNames}} {
		go func() {
			defer func() { done <- struct{}{} }()
			if e, err := ix.ix.Setup(ctx); err != nil {
				log.Error("full-text index of "+ix.name+" not set up", "err", err)
			} else if e == fulltext.None {
				log.Warn("no full-text index of " + ix.name + ": the name search reads every row in scope (LIKE)")
			}
			ix.ix.Run(ctx, every, func(n int, err error) {
				if err != nil {
					log.Warn("full-text entries of "+ix.name+" not written; retried", "err", err)
				}
			})
		}()
	}
	<-done
	<-done
}

// searchNames finds the ids of a name search's page (one more than the page) through ix:
// matching is the list's query with every filter and the LIKE, newest the same without the
// LIKE, both reusable sessions scoped to p. fulltext.ErrUnusable: the caller reads matching
// alone.
func searchNames(ctx context.Context, ix *fulltext.Index, p *access.Principal, f nameSearch, matching, newest *gorm.DB) ([]int64, error) {
	fq := fulltext.Query{Keyword: f.q,
		Scope: access.InRegionOrOwnWithin(p, f.regionCode, "region_code", "county_code", "author_id")}
	prefix, none, ok := access.SubtreeWithin(p, f.regionCode)
	if ok && none {
		return nil, nil
	}
	if ok {
		fq.Prefix = prefix
	}
	return ix.PageIDs(ctx, fq, matching, newest, f.page)
}

// nameSearch is what searchNames needs of a list's filter.
type nameSearch struct {
	q, regionCode string
	page          paging.Page
}

// listByName reads a name search's page of rows into rows through ix, or, when the index cannot
// answer, with matching alone.
func listByName[T any](ctx context.Context, ix *fulltext.Index, p *access.Principal, f nameSearch, matching, newest *gorm.DB, rows *[]T) error {
	ids, err := searchNames(ctx, ix, p, f, matching, newest)
	if errors.Is(err, fulltext.ErrUnusable) {
		return matching.Scopes(f.page.Apply("id")).Find(rows).Error
	}
	if err != nil || len(ids) == 0 {
		return err
	}
	return matching.Where("id IN ?", ids).Order("id DESC").Find(rows).Error
}
