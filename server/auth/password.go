package auth

import (
	"context"
	"net/http"
	"strings"
	"unicode"

	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/database"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// PasswordMinLength is the shortest password accepted (等保2.0: length and complexity).
const PasswordMinLength = 8

// passwordKinds counts the kinds of characters in pw: lower case, upper case, digits, others.
func passwordKinds(pw string) int {
	var lower, upper, digit, other bool
	for _, c := range pw {
		switch {
		case unicode.IsLower(c):
			lower = true
		case unicode.IsUpper(c):
			upper = true
		case unicode.IsDigit(c):
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			n++
		}
	}
	return n
}

// CheckPassword says what is wrong with a new password, naming field: at least 8 characters of
// at least three kinds (lower case, upper case, digits, symbols), and not the username.
func CheckPassword(field, pw, username string) error {
	switch {
	case len([]rune(pw)) < PasswordMinLength:
		return apperr.Field(field, "密码至少8位")
	case len(pw) > 128:
		return apperr.Field(field, "密码不能超过128个字符")
	case passwordKinds(pw) < 3:
		return apperr.Field(field, "密码应包含大写字母、小写字母、数字、符号中的至少三种")
	case username != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(username)):
		return apperr.Field(field, "密码不能包含用户名")
	}
	return nil
}

var errPasswordChangeRequired = apperr.New(http.StatusForbidden, "password_change_required", "首次登录或密码已被重置,请先修改密码")

// ErrPasswordChangeRequired is the answer to anything but a password change from an account
// that must change its initial or reset password.
func ErrPasswordChangeRequired() error { return errPasswordChangeRequired }

// ChangePassword changes the password of the account behind an access token. Every login of the
// account ends, and a new one of the same kind (mini-program or console) is returned.
func (s *Service) ChangePassword(ctx context.Context, token, current, next string, client Client) (Tokens, string, error) {
	pt, err := s.signer.parse(token, s.clock.Now())
	if err != nil {
		return Tokens{}, "", errTokenInvalid
	}
	if current == "" {
		return Tokens{}, "", apperr.Field("current_password", "请输入当前密码")
	}
	var a Account
	if err := s.db.WithContext(ctx).Where("id = ?", pt.principal.AccountID).Take(&a).Error; err != nil {
		return Tokens{}, "", err
	}
	if a.Username == nil || a.PasswordHash == "" {
		return Tokens{}, "", apperr.Forbidden("该账号没有登录密码")
	}
	if a.Status != AccountActive {
		return Tokens{}, "", errDisabled
	}
	if len(current) > 128 || bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(current)) != nil {
		return Tokens{}, "", apperr.New(http.StatusBadRequest, "wrong_password", "当前密码不正确").WithField("current_password", "当前密码不正确")
	}
	if err := CheckPassword("new_password", next, *a.Username); err != nil {
		return Tokens{}, "", err
	}
	if next == current {
		return Tokens{}, "", apperr.Field("new_password", "新密码不能与当前密码相同")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(next), s.opt.BcryptCost)
	if err != nil {
		return Tokens{}, "", err
	}
	kind := KindApp
	var cur Session
	if err := s.db.WithContext(ctx).Select("kind").Where("family_id = ?", pt.family).Take(&cur).Error; err == nil {
		kind = cur.Kind
	}
	var out Tokens
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		now := s.clock.Now()
		if err := tx.Model(&Account{}).Where("id = ?", a.ID).Updates(map[string]any{
			"password_hash": string(hash), "must_change_password": false, "password_changed_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, a.ID); err != nil {
			return err
		}
		a.MustChangePassword, a.PasswordChangedAt = false, &now
		var err error
		out, err = s.issue(ctx, tx, a, "", kind)
		return err
	})
	return out, kind, err
}
