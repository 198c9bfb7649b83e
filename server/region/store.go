package region

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"gorm.io/gorm"
)

// ErrNotFound is returned for a code that is not in the regions table.
var ErrNotFound = errors.New("region: not found")

// Store reads regions. Rows never change at runtime, so found regions and
// non-empty child lists are memoised per key (at most the ~57k rows; misses
// are not cached, so a late Load is still seen). Share one Store.
type Store struct {
	db       *gorm.DB
	byCode   sync.Map // code → Region
	children sync.Map // parent code → []Region, never mutated once stored
}

func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// Get returns the region with the given 12-digit code, or ErrNotFound.
func (s *Store) Get(ctx context.Context, code string) (Region, error) {
	if v, ok := s.byCode.Load(code); ok {
		return v.(Region), nil
	}
	if !ValidCode(code) {
		return Region{}, ErrNotFound
	}
	// Find, not Take: a miss is normal here and Take would log it as an error.
	var rows []Region
	if err := s.db.WithContext(ctx).Where("code = ?", code).Limit(1).Find(&rows).Error; err != nil {
		return Region{}, fmt.Errorf("region: get %s: %w", code, err)
	}
	if len(rows) == 0 {
		return Region{}, ErrNotFound
	}
	s.byCode.Store(code, rows[0])
	return rows[0], nil
}

// Exists reports whether code is in the regions table.
func (s *Store) Exists(ctx context.Context, code string) (bool, error) {
	_, err := s.Get(ctx, code)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Children returns the direct children of parentCode ordered by code; ""
// gives the province. Unknown or leaf codes give an empty slice.
func (s *Store) Children(ctx context.Context, parentCode string) ([]Region, error) {
	if v, ok := s.children.Load(parentCode); ok {
		return slices.Clone(v.([]Region)), nil
	}
	var rows []Region
	if err := s.db.WithContext(ctx).Where("parent_code = ?", parentCode).Order("code").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("region: children of %s: %w", parentCode, err)
	}
	if len(rows) == 0 {
		return []Region{}, nil
	}
	s.children.Store(parentCode, slices.Clone(rows))
	s.remember(rows)
	return rows, nil
}

// Ancestors returns the regions above code, province first, without code
// itself; a province has none. It does not check that code exists. An
// invalid code gives ErrNotFound.
func (s *Store) Ancestors(ctx context.Context, code string) ([]Region, error) {
	if LevelOf(code) == 0 {
		return nil, ErrNotFound
	}
	codes := ancestorCodes(code)
	out := make([]Region, 0, len(codes))
	for _, c := range codes {
		v, ok := s.byCode.Load(c)
		if !ok {
			break
		}
		out = append(out, v.(Region))
	}
	if len(out) == len(codes) {
		return out, nil
	}
	// Ancestor codes sort in depth order, so ORDER BY code is province first.
	out = out[:0]
	if err := s.db.WithContext(ctx).Where("code IN ?", codes).Order("code").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("region: ancestors of %s: %w", code, err)
	}
	s.remember(out)
	return out, nil
}

func (s *Store) remember(rows []Region) {
	for _, r := range rows {
		s.byCode.Store(r.Code, r)
	}
}
