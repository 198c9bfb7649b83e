// Package access is who is asking and what they may see: the Principal of a request and the one
// scope mechanism every scoped query passes through. It fails closed: no principal, an unknown role
// or a staff account without a region matches nothing.
package access

import (
	"context"
	"strings"

	"github.com/shiliu/shiliu/server/region"
	"gorm.io/gorm"
)

// Role is an account's role.
type Role string

const (
	RoleInstructor    Role = "instructor"
	RoleCountyStaff   Role = "county_staff"
	RoleCityStaff     Role = "city_staff"
	RoleProvinceStaff Role = "province_staff"
	// The administrator's powers are split three ways (三员分立, as 等保2.0 level 3 asks): the
	// system administrator keeps the historical code "admin" (accounts and settings), the
	// security administrator the password and session policy and locks, the audit
	// administrator the audit log. None of them reads field records or the roster.
	RoleAdmin         Role = "admin"
	RoleSecurityAdmin Role = "security_admin"
	RoleAuditAdmin    Role = "audit_admin"
)

// Roles lists every role with its Chinese label.
var Roles = []struct{ Code, Label string }{
	{string(RoleInstructor), "指导员"},
	{string(RoleCountyStaff), "县级民族工作部门"},
	{string(RoleCityStaff), "市级民族工作部门"},
	{string(RoleProvinceStaff), "省民族事务委员会"},
	{string(RoleAdmin), "系统管理员"},
	{string(RoleSecurityAdmin), "安全管理员"},
	{string(RoleAuditAdmin), "审计管理员"},
}

// ValidRole reports whether r is a known role.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if x.Code == r {
			return true
		}
	}
	return false
}

// IsAdministrator reports whether r is one of the three administrator roles.
func (r Role) IsAdministrator() bool {
	return r == RoleAdmin || r == RoleSecurityAdmin || r == RoleAuditAdmin
}

// StaffLevel is the region level (1 province, 2 city, 3 county) a staff or administrator role is
// bound to; 0 if none. Administrators are bound to the province but see no field data through it.
func (r Role) StaffLevel() int {
	switch r {
	case RoleProvinceStaff, RoleAdmin, RoleSecurityAdmin, RoleAuditAdmin:
		return 1
	case RoleCityStaff:
		return 2
	case RoleCountyStaff:
		return 3
	}
	return 0
}

// Principal is the authenticated caller.
type Principal struct {
	AccountID int64
	Role      Role
	// RegionCode is the 12-digit code of a staff account's region; for an instructor, the region of
	// their unit (informational: instructors are scoped by InstructorID, not by region).
	RegionCode   string
	InstructorID int64
	// MustChangePassword: the account logged in with an initial or reset password and may do
	// nothing but change it.
	MustChangePassword bool
	system             bool
}

// System is the explicit scope of background jobs: it sees everything, and nothing else does.
func System() *Principal { return &Principal{system: true} }

// IsSystem reports whether p is the background-job scope.
func (p *Principal) IsSystem() bool { return p != nil && p.system }

// IsStaff reports whether p is a county, city or province officer bound to a region: the only
// accounts that see field records and the roster of a subtree. Administrators are not staff.
func (p *Principal) IsStaff() bool {
	return p != nil && !p.system && p.Role.StaffLevel() > 0 && !p.Role.IsAdministrator() && len(p.RegionCode) == 12
}

// IsAdministrator reports whether p is a system, security or audit administrator.
func (p *Principal) IsAdministrator() bool {
	return p != nil && !p.system && p.Role.IsAdministrator()
}

// InSettingsScope limits settings (notification groups) to p's subtree for officers and to the
// whole province for the system administrator. Field records never go through it.
func InSettingsScope(p *Principal, regionColumn string) func(*gorm.DB) *gorm.DB {
	if p != nil && !p.system && p.Role == RoleAdmin {
		return func(db *gorm.DB) *gorm.DB { return db }
	}
	return InRegion(p, regionColumn)
}

// ManagesSettingsOf reports whether p may change settings (notification groups) of a region:
// an officer inside their subtree, the system administrator anywhere.
func (p *Principal) ManagesSettingsOf(code string) bool {
	if p != nil && !p.system && p.Role == RoleAdmin {
		return len(code) == 12
	}
	return p.CanSeeRegion(code)
}

// IsInstructor reports whether p is a bound instructor.
func (p *Principal) IsInstructor() bool {
	return p != nil && !p.system && p.Role == RoleInstructor && p.InstructorID > 0
}

// RegionPrefix is the significant prefix of the staff region: every code in the subtree starts
// with it. ok is false when p has no region scope at all.
func (p *Principal) RegionPrefix() (prefix string, ok bool) {
	if p.IsSystem() {
		return "", true
	}
	if !p.IsStaff() {
		return "", false
	}
	return region.Prefix(p.RegionCode), true
}

// CanSeeRegion reports whether a region code lies inside p's subtree.
func (p *Principal) CanSeeRegion(code string) bool {
	prefix, ok := p.RegionPrefix()
	if !ok {
		return false
	}
	return len(code) == 12 && len(code) >= len(prefix) && code[:len(prefix)] == prefix
}

// InRegion limits a query to rows whose regionColumn lies in p's subtree. A principal without a
// region scope (nil, instructor, unknown role) matches nothing. The range form uses the index on
// the column on MySQL and SQLite alike.
func InRegion(p *Principal, regionColumn string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		prefix, ok := p.RegionPrefix()
		if !ok {
			return db.Where("1 = 0")
		}
		if prefix == "" {
			return db
		}
		return Subtree(regionColumn, prefix)(db)
	}
}

// Subtree limits a query to codes starting with prefix, as a range [prefix, prefix+1) over
// digits: the index on the column is used, and digits order the same in every collation (a
// punctuation sentinel would not: MySQL's unicode collations sort ':' before '0').
func Subtree(regionColumn, prefix string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if hi, ok := nextPrefix(prefix); ok {
			return db.Where(regionColumn+" >= ? AND "+regionColumn+" < ?", prefix, hi)
		}
		return db.Where(regionColumn+" >= ?", prefix)
	}
}

// UnderRegion narrows a query to the subtree of a region code of any level; an empty code does
// not narrow. List filters go through it after the caller's own scope, so a filter only narrows.
func UnderRegion(regionColumn, code string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if code == "" {
			return db
		}
		return Subtree(regionColumn, region.Prefix(code))(db)
	}
}

// nextPrefix is the digit string of the same length one greater ("1301" → "1302", "1309" →
// "1310"); false when prefix is all nines.
func nextPrefix(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b), true
		}
		b[i] = '0'
	}
	return "", false
}

// InRegionOrOwn limits a query to p's subtree for staff and to rows whose ownerColumn is the
// instructor's id for instructors; anyone else matches nothing.
func InRegionOrOwn(p *Principal, regionColumn, ownerColumn string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if p.IsInstructor() {
			return db.Where(ownerColumn+" = ?", p.InstructorID)
		}
		return InRegion(p, regionColumn)(db)
	}
}

// countyDigits is the length of a county's prefix (region.Prefix of a county's code).
const countyDigits = 6

// InRegionOrOwnWithin is InRegionOrOwn narrowed to the subtree of filter (UnderRegion; "" does
// not narrow), for a table that also keeps the county-level prefix of regionColumn in
// countyColumn. When the rows it allows lie in one county (WithinCounty) it names that county as
// an equality, which an index can lead with and still give its rows in the order of its next
// columns; when they are that whole county the equality replaces the range, which would only
// repeat it. Otherwise the rows are those of InRegionOrOwn and UnderRegion, as the same
// conditions.
func InRegionOrOwnWithin(p *Principal, filter, regionColumn, countyColumn, ownerColumn string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		prefix, none, ok := subtreeWithin(p, filter)
		switch {
		case !ok:
			return UnderRegion(regionColumn, filter)(InRegionOrOwn(p, regionColumn, ownerColumn)(db))
		case none:
			return db.Where("1 = 0") // a filter outside the caller's subtree
		case prefix == "":
			return db
		case len(prefix) < countyDigits:
			return Subtree(regionColumn, prefix)(db)
		}
		db = db.Where(countyColumn+" = ?", prefix[:countyDigits])
		if len(prefix) == countyDigits {
			return db
		}
		return Subtree(regionColumn, prefix)(db)
	}
}

// WithinCounty reports whether InRegionOrOwnWithin limits p, with this filter, to rows of one
// county by an equality on the county column.
func WithinCounty(p *Principal, filter string) bool {
	prefix, none, ok := subtreeWithin(p, filter)
	return ok && !none && len(prefix) >= countyDigits
}

// SubtreeWithin is the region prefix InRegionOrOwnWithin allows p with this filter ("" for all
// regions); none when the filter lies outside p's subtree; ok false when p is not limited by
// region (an instructor, no scope) or the filter is not a region code.
func SubtreeWithin(p *Principal, filter string) (prefix string, none, ok bool) {
	return subtreeWithin(p, filter)
}

// subtreeWithin is the prefix of the subtree p's region scope narrowed by filter allows; none
// when filter lies outside p's subtree. ok is false when p is not limited by region (an
// instructor, or no scope at all) or filter is not a region code: the general scopes apply.
func subtreeWithin(p *Principal, filter string) (prefix string, none, ok bool) {
	prefix, ok = p.RegionPrefix()
	if p.IsInstructor() || !ok || (filter != "" && region.LevelOf(filter) == 0) {
		return "", false, false
	}
	if filter != "" {
		switch fp := region.Prefix(filter); {
		case strings.HasPrefix(fp, prefix):
			prefix = fp
		case !strings.HasPrefix(prefix, fp):
			return "", true, true
		}
	}
	return prefix, false, true
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal in ctx, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
