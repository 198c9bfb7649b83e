package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/validate"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// Staff accounts are managed through the API by the system administrator (every officer's
// account) and by officers (the accounts of lower levels inside their own region). The security
// administrator unlocks accounts and ends their sessions. Administrator accounts themselves are
// made with the command line only, so no administrator can make another (三员分立).

// officerRoles are the roles managed through the API.
var officerRoles = []access.Role{access.RoleCountyStaff, access.RoleCityStaff, access.RoleProvinceStaff}

func isOfficerRole(r access.Role) bool {
	for _, x := range officerRoles {
		if x == r {
			return true
		}
	}
	return false
}

var (
	errAccountNotFound = apperr.New(http.StatusNotFound, "account_not_found", "账号不存在或不在您的管理范围内")
	errAccountsDenied  = apperr.Forbidden("您无权管理账号")
	errNotManager      = apperr.Forbidden("只能管理本辖区内下级部门的账号;管理员账号只能通过命令行维护")
)

// StaffView is a staff or administrator account as the account list shows it.
type StaffView struct {
	ID                 int64      `json:"id"`
	Username           string     `json:"username"`
	DisplayName        string     `json:"display_name"`
	Role               string     `json:"role"`
	RegionCode         string     `json:"region_code"`
	RegionName         string     `json:"region_name"`
	Status             string     `json:"status"`
	Locked             bool       `json:"locked"`
	LockedUntil        *time.Time `json:"locked_until,omitempty"`
	LastLoginAt        *time.Time `json:"last_login_at,omitempty"`
	WeChatLinked       bool       `json:"wechat_linked"`
	MustChangePassword bool       `json:"must_change_password"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

func (s *Service) staffView(ctx context.Context, a Account) StaffView {
	now := s.clock.Now()
	v := StaffView{ID: a.ID, DisplayName: a.DisplayName, Role: a.Role, RegionCode: a.RegionCode, Status: a.Status,
		LastLoginAt: clock.LocalPtr(a.LastLoginAt), WeChatLinked: a.OpenID != nil && *a.OpenID != "",
		MustChangePassword: a.MustChangePassword, CreatedAt: clock.Local(a.CreatedAt), UpdatedAt: clock.Local(a.UpdatedAt)}
	if a.Username != nil {
		v.Username = *a.Username
	}
	if a.LockedUntil != nil && now.Before(*a.LockedUntil) {
		v.Locked, v.LockedUntil = true, clock.LocalPtr(a.LockedUntil)
	}
	if r, err := s.regions.Get(ctx, a.RegionCode); err == nil {
		v.RegionName = r.Name
	}
	return v
}

// canList reports whether p may read the account list at all.
func canList(p *access.Principal) bool {
	return p.IsStaff() || (p.IsAdministrator() && p.Role != access.RoleAuditAdmin)
}

// listScope limits the account list to what p may see: administrators (system, security) see
// every staff and administrator account; an officer the officers of lower levels in their subtree.
func listScope(p *access.Principal) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if p.IsAdministrator() {
			return db.Where("role <> ?", string(access.RoleInstructor))
		}
		var below []string
		for _, r := range officerRoles {
			if r.StaffLevel() > p.Role.StaffLevel() {
				below = append(below, string(r))
			}
		}
		if len(below) == 0 {
			return db.Where("1 = 0")
		}
		return db.Where("role IN ?", below).Scopes(access.InRegion(p, "region_code"))
	}
}

// manages reports whether p may change an account of role r in region code: the system
// administrator any officer's, an officer those of lower levels in their own subtree.
func manages(p *access.Principal, r access.Role, code string) bool {
	if !isOfficerRole(r) {
		return false
	}
	if p.IsAdministrator() {
		return p.Role == access.RoleAdmin
	}
	return p.IsStaff() && r.StaffLevel() > p.Role.StaffLevel() && p.CanSeeRegion(code)
}

// StaffFilter narrows the account list.
type StaffFilter struct {
	Role       string
	Status     string
	RegionCode string
	Query      string // start of the username or display name
	Locked     bool
	Page       paging.Page
}

// ListStaff lists the accounts p may see, newest first.
func (s *Service) ListStaff(ctx context.Context, p *access.Principal, f StaffFilter) ([]StaffView, string, error) {
	if !canList(p) {
		return nil, "", errAccountsDenied
	}
	var v validate.Checker
	v.OneOf("role", "角色", f.Role, false, func(r string) bool { return access.ValidRole(r) && r != string(access.RoleInstructor) })
	v.OneOf("status", "状态", f.Status, false, func(s string) bool { return s == AccountActive || s == AccountDisabled })
	v.RegionCode("region_code", f.RegionCode)
	v.MaxLen("q", "关键词", f.Query, 64)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Account{}).Scopes(listScope(p), access.UnderRegion("region_code", f.RegionCode), f.Page.Apply("id"))
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if t := strings.TrimSpace(f.Query); t != "" {
		like := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(t) + "%"
		q = q.Where("(username LIKE ? ESCAPE '!' OR display_name LIKE ? ESCAPE '!')", like, like)
	}
	if f.Locked {
		q = q.Where("locked_until > ?", s.clock.Now())
	}
	var rows []Account
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(a Account) int64 { return a.ID })
	out := make([]StaffView, len(rows))
	for i, a := range rows {
		out[i] = s.staffView(ctx, a)
	}
	return out, next, nil
}

// GetStaff returns one account p may see.
func (s *Service) GetStaff(ctx context.Context, p *access.Principal, id int64) (StaffView, error) {
	a, err := s.findStaff(ctx, s.db, p, id)
	if err != nil {
		return StaffView{}, err
	}
	return s.staffView(ctx, a), nil
}

func (s *Service) findStaff(ctx context.Context, db *gorm.DB, p *access.Principal, id int64) (Account, error) {
	if !canList(p) {
		return Account{}, errAccountsDenied
	}
	var a Account
	err := db.WithContext(ctx).Scopes(listScope(p)).Where("id = ?", id).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return a, errAccountNotFound
	}
	if err == nil {
		audit.Subject(ctx, "account", a.ID, a.RegionCode)
	}
	return a, err
}

// StaffInput creates an officer's account.
type StaffInput struct {
	Username    string
	DisplayName string
	Role        string
	RegionCode  string
}

// CreatedStaff is a new account and its one-time password, shown once and never stored in the
// clear: the officer must change it at the first login.
type CreatedStaff struct {
	Account         StaffView `json:"account"`
	OneTimePassword string    `json:"one_time_password"`
}

// checkRoleRegion validates a role and region pair of an officer's account.
func (s *Service) checkRoleRegion(ctx context.Context, v *validate.Checker, role, code string) string {
	r := access.Role(role)
	if role == "" {
		v.Fail("role", "角色不能为空")
		return ""
	}
	if !isOfficerRole(r) {
		v.Fail("role", "角色应为 county_staff、city_staff 或 province_staff;管理员账号请用命令行创建")
		return ""
	}
	norm, ok := region.Normalize(code)
	if !ok {
		v.Fail("region_code", "行政区划代码无效")
		return ""
	}
	if ok, err := s.regions.Exists(ctx, norm); err != nil || !ok {
		v.Fail("region_code", "行政区划不存在")
		return ""
	}
	if region.LevelOf(norm) != r.StaffLevel() {
		v.Fail("region_code", fmt.Sprintf("该角色应绑定到%s级行政区划", region.LevelName(r.StaffLevel())))
		return ""
	}
	return norm
}

// CreateStaff creates an officer's account with a one-time password.
func (s *Service) CreateStaff(ctx context.Context, p *access.Principal, in StaffInput) (CreatedStaff, error) {
	if !canList(p) {
		return CreatedStaff{}, errAccountsDenied
	}
	in.Username, in.DisplayName = strings.TrimSpace(in.Username), strings.TrimSpace(in.DisplayName)
	var v validate.Checker
	v.Check(usernameOK(in.Username), "username", "用户名应为3到64个字符的字母、数字、下划线、点或连字符")
	v.MaxLen("display_name", "显示名称", in.DisplayName, 64)
	code := s.checkRoleRegion(ctx, &v, in.Role, in.RegionCode)
	if err := v.Err(); err != nil {
		return CreatedStaff{}, err
	}
	if !manages(p, access.Role(in.Role), code) {
		return CreatedStaff{}, errNotManager
	}
	pw, hash, err := s.oneTimePassword()
	if err != nil {
		return CreatedStaff{}, err
	}
	if in.DisplayName == "" {
		in.DisplayName = in.Username
	}
	now := s.clock.Now()
	a := Account{Username: &in.Username, PasswordHash: hash, Role: in.Role, RegionCode: code, DisplayName: in.DisplayName,
		Status: AccountActive, MustChangePassword: true, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Create(&a).Error; err != nil {
		if database.IsUniqueViolation(err) {
			return CreatedStaff{}, apperr.New(http.StatusConflict, "username_taken", "用户名已存在").WithField("username", "用户名已存在")
		}
		return CreatedStaff{}, err
	}
	audit.Subject(ctx, "account", a.ID, a.RegionCode)
	return CreatedStaff{Account: s.staffView(ctx, a), OneTimePassword: pw}, nil
}

func usernameOK(u string) bool {
	if len(u) < 3 || len(u) > 64 {
		return false
	}
	for _, c := range u {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func (s *Service) oneTimePassword() (plain, hash string, err error) {
	plain, err = GeneratePassword()
	if err != nil {
		return "", "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(plain), s.opt.BcryptCost)
	return plain, string(h), err
}

// StaffPatch changes an officer's account; nil fields stay.
type StaffPatch struct {
	DisplayName *string
	Role        *string
	RegionCode  *string
}

// changeStaff loads an account p manages, locked for the change, and runs fn in a transaction.
func (s *Service) changeStaff(ctx context.Context, p *access.Principal, id int64, fn func(tx *gorm.DB, a *Account) error) (StaffView, error) {
	var out Account
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		a, err := s.findStaff(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !manages(p, access.Role(a.Role), a.RegionCode) {
			return errNotManager
		}
		if err := fn(tx, &a); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return StaffView{}, err
	}
	return s.staffView(ctx, out), nil
}

// UpdateStaff renames an account or moves it to another role or region; a new role or region
// ends its sessions (their tokens carry the old ones).
func (s *Service) UpdateStaff(ctx context.Context, p *access.Principal, id int64, in StaffPatch) (StaffView, error) {
	return s.changeStaff(ctx, p, id, func(tx *gorm.DB, a *Account) error {
		role, code := a.Role, a.RegionCode
		var v validate.Checker
		if in.DisplayName != nil {
			name := strings.TrimSpace(*in.DisplayName)
			v.Required("display_name", "显示名称", name, 64)
			a.DisplayName = name
		}
		if in.Role != nil {
			role = *in.Role
		}
		if in.RegionCode != nil {
			code = *in.RegionCode
		}
		moved := role != a.Role || code != a.RegionCode
		if moved {
			code = s.checkRoleRegion(ctx, &v, role, code)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if moved && !manages(p, access.Role(role), code) {
			return errNotManager.WithField("region_code", "新的角色和行政区划也须在您的管理范围内")
		}
		a.Role, a.RegionCode, a.UpdatedAt = role, code, s.clock.Now()
		if err := tx.Model(&Account{}).Where("id = ?", a.ID).Updates(map[string]any{
			"display_name": a.DisplayName, "role": a.Role, "region_code": a.RegionCode, "updated_at": a.UpdatedAt}).Error; err != nil {
			return err
		}
		if moved {
			return s.endSessions(ctx, tx, a.ID)
		}
		return nil
	})
}

// DisableStaff disables an account and ends its sessions at once.
func (s *Service) DisableStaff(ctx context.Context, p *access.Principal, id int64) (StaffView, error) {
	return s.changeStaff(ctx, p, id, func(tx *gorm.DB, a *Account) error {
		a.Status, a.UpdatedAt = AccountDisabled, s.clock.Now()
		if err := tx.Model(&Account{}).Where("id = ?", a.ID).
			Updates(map[string]any{"status": a.Status, "updated_at": a.UpdatedAt}).Error; err != nil {
			return err
		}
		return s.endSessions(ctx, tx, a.ID)
	})
}

// EnableStaff enables a disabled account again; the officer logs in anew.
func (s *Service) EnableStaff(ctx context.Context, p *access.Principal, id int64) (StaffView, error) {
	return s.changeStaff(ctx, p, id, func(tx *gorm.DB, a *Account) error {
		a.Status, a.UpdatedAt = AccountActive, s.clock.Now()
		return tx.Model(&Account{}).Where("id = ?", a.ID).
			Updates(map[string]any{"status": a.Status, "updated_at": a.UpdatedAt}).Error
	})
}

// ResetStaffPassword gives an account a new one-time password (shown once), lifts a lock and
// ends its sessions; the officer must change it at the next login.
func (s *Service) ResetStaffPassword(ctx context.Context, p *access.Principal, id int64) (CreatedStaff, error) {
	var pw string
	v, err := s.changeStaff(ctx, p, id, func(tx *gorm.DB, a *Account) error {
		plain, hash, err := s.oneTimePassword()
		if err != nil {
			return err
		}
		pw = plain
		a.MustChangePassword, a.LockedUntil, a.UpdatedAt = true, nil, s.clock.Now()
		if err := tx.Model(&Account{}).Where("id = ?", a.ID).Updates(map[string]any{
			"password_hash": hash, "must_change_password": true, "failed_logins": 0, "locked_until": nil,
			"updated_at": a.UpdatedAt}).Error; err != nil {
			return err
		}
		return s.endSessions(ctx, tx, a.ID)
	})
	if err != nil {
		return CreatedStaff{}, err
	}
	return CreatedStaff{Account: v, OneTimePassword: pw}, nil
}

// securityAction runs a security administrator's action on any staff or administrator account.
func (s *Service) securityAction(ctx context.Context, p *access.Principal, id int64, allowManager bool, fn func(tx *gorm.DB, a *Account) error) (StaffView, error) {
	var out Account
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		a, err := s.findStaff(ctx, tx, p, id)
		if err != nil {
			return err
		}
		ok := p.Role == access.RoleSecurityAdmin || (allowManager && manages(p, access.Role(a.Role), a.RegionCode))
		if !ok {
			return apperr.Forbidden("只有安全管理员可以执行此操作")
		}
		if err := fn(tx, &a); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return StaffView{}, err
	}
	return s.staffView(ctx, out), nil
}

// UnlockStaff lifts a lock after too many wrong passwords: the security administrator's power.
func (s *Service) UnlockStaff(ctx context.Context, p *access.Principal, id int64) (StaffView, error) {
	return s.securityAction(ctx, p, id, false, func(tx *gorm.DB, a *Account) error {
		a.LockedUntil, a.UpdatedAt = nil, s.clock.Now()
		return tx.Model(&Account{}).Where("id = ?", a.ID).
			Updates(map[string]any{"failed_logins": 0, "locked_until": nil, "updated_at": a.UpdatedAt}).Error
	})
}

// EndStaffSessions logs an account out everywhere at once: the security administrator, or
// whoever manages the account.
func (s *Service) EndStaffSessions(ctx context.Context, p *access.Principal, id int64) error {
	_, err := s.securityAction(ctx, p, id, true, func(tx *gorm.DB, a *Account) error {
		return s.endSessions(ctx, tx, a.ID)
	})
	return err
}
