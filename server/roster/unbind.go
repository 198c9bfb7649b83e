package roster

import (
	"context"
	"errors"
	"net/http"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

var errNotBound = apperr.New(http.StatusConflict, "instructor_not_bound", "该指导员尚未绑定微信,无需解绑")

// UnbindWeChat cuts the link between an instructor in p's scope and the WeChat user bound to
// them (a lost phone, a WeChat account that is not theirs) and ends that phone's sessions at
// once. The account row stays, with its history; the instructor binds again with a new invite
// code or their phone number.
func (s *Service) UnbindWeChat(ctx context.Context, p *access.Principal, id int64) (InstructorView, error) {
	if err := requireStaff(p); err != nil {
		return InstructorView{}, err
	}
	var ins Instructor
	err := s.db.WithContext(ctx).Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&ins).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return InstructorView{}, errInstructorNotFound
	}
	if err != nil {
		return InstructorView{}, err
	}
	audit.Subject(ctx, "instructor", ins.ID, ins.RegionCode)
	// The followers (auth) end the phone's sessions; without one an unbind would leave the old
	// phone logged in, so it is refused.
	if len(s.followers) == 0 {
		return InstructorView{}, errors.New("roster: nothing follows instructor changes to end the unbound phone's sessions")
	}
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		res := tx.Table("accounts").Where("instructor_id = ? AND openid IS NOT NULL", ins.ID).
			Updates(map[string]any{"openid": nil, "unionid": "", "updated_at": s.clock.Now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errNotBound
		}
		return s.tell(ctx, tx, Change{InstructorID: ins.ID, Unbound: true})
	})
	if err != nil {
		return InstructorView{}, err
	}
	views, err := s.views(ctx, []Instructor{ins}, false)
	if err != nil {
		return InstructorView{}, err
	}
	return views[0], nil
}
