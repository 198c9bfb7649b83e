package bulletin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/upload"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Experience sharing (measures §五(一), 搭建交流平台): an instructor shares their experience (title,
// text, photos) with the instructors of their county or of their city. Staff whose region holds
// that audience approve it, or reject it with a reason, before anyone else sees it; approved
// shares are listed on the phones of the audience's instructors in office. Staff can make a good
// one into a draft bulletin that credits its author. Shares live here, beside bulletins, because
// they are the two halves of one exchange platform and a share becomes a bulletin.

// Share statuses and audiences.
const (
	SharePending  = "pending"
	ShareApproved = "approved"
	ShareRejected = "rejected"

	AudienceCounty = "county"
	AudienceCity   = "city"
)

// Codes with their labels.
var (
	ShareStatuses = []roster.Code{{Code: SharePending, Label: "待审核"}, {Code: ShareApproved, Label: "已通过"},
		{Code: ShareRejected, Label: "未通过"}}
	ShareAudiences = []roster.Code{{Code: AudienceCounty, Label: "本县(市、区)指导员"}, {Code: AudienceCity, Label: "本市指导员"}}
)

// Dictionaries are the code lists of shares, merged into GET /api/v1/dictionaries.
func Dictionaries() map[string][]roster.Code {
	return map[string][]roster.Code{"share_status": ShareStatuses, "share_audience": ShareAudiences, "bulletin_status": Statuses}
}

// Share is one experience shared (migration 41). RegionCode is the author's unit's region then;
// AudienceCode the county or city whose instructors it is for.
type Share struct {
	ID           int64
	InstructorID int64
	ClientID     string
	AccountID    int64
	UnitID       int64
	RegionCode   string
	Audience     string
	AudienceCode string
	Status       string
	Title        string
	Text         string
	RejectReason string
	ReviewedBy   int64
	ReviewedAt   *time.Time
	BulletinID   int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (Share) TableName() string { return "shares" }

// ShareView is a share as the API shows it. ClientID is the author's own; CanReview tells staff
// whether they may approve or reject it.
type ShareView struct {
	ID             int64         `json:"id"`
	ClientID       string        `json:"client_id,omitempty"`
	Title          string        `json:"title"`
	Text           string        `json:"text"`
	Attachments    []upload.View `json:"attachments"`
	Audience       string        `json:"audience"`
	AudienceName   string        `json:"audience_name"`
	AudienceCode   string        `json:"audience_code"`
	AudienceRegion string        `json:"audience_region"`
	Status         string        `json:"status"`
	StatusName     string        `json:"status_name"`
	RejectReason   string        `json:"reject_reason,omitempty"`
	InstructorID   int64         `json:"instructor_id"`
	InstructorName string        `json:"instructor_name"`
	UnitName       string        `json:"unit_name"`
	RegionCode     string        `json:"region_code"`
	RegionName     string        `json:"region_name"`
	Mine           bool          `json:"mine"`
	CanReview      bool          `json:"can_review"`
	ReviewedAt     *time.Time    `json:"reviewed_at,omitempty"`
	BulletinID     int64         `json:"bulletin_id,omitempty"`
	CreatedAt      time.Time     `json:"created_at"`
}

const (
	shareSubject = "share"
	maxShareText = 5000
	maxPhotos    = 9
)

var (
	errShareNotFound  = apperr.New(http.StatusNotFound, "share_not_found", "经验分享不存在或不在您的范围内")
	errShareAuthor    = apperr.Forbidden("只有在任的指导员可以分享经验")
	errShareNoAccess  = apperr.Forbidden("无权查看经验分享")
	errShareReviewer  = apperr.Forbidden("只有分享范围所在地区的民族工作部门可以审核该经验分享")
	errShareReviewed  = apperr.New(http.StatusConflict, "share_reviewed", "该经验分享已经审核")
	errShareNotPassed = apperr.New(http.StatusConflict, "share_not_approved", "只有审核通过的经验分享可以转为工作简报")
	errShareClientID  = apperr.New(http.StatusConflict, "client_id_conflict",
		"该提交编号(client_id)已用于另一条内容不同的经验分享。重试时请原样提交;新的分享请生成新的编号").
		WithField("client_id", "已用于内容不同的经验分享")
	uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// audienceCode is the county or city of an instructor's region.
func audienceCode(regionCode, audience string) string {
	if audience == AudienceCity {
		return regionCode[:4] + "00000000"
	}
	return regionCode[:6] + "000000"
}

// ShareInput is an experience from the phone, with the client id that makes retries land once.
type ShareInput struct {
	ClientID    string
	Title       string
	Text        string
	Audience    string
	Attachments []int64
}

// SubmitShare stores an instructor's share, pending review. A retry with the same client id and
// content returns the stored one (created false); the same id with other content is a conflict.
func (s *Service) SubmitShare(ctx context.Context, p *access.Principal, in ShareInput) (ShareView, bool, error) {
	if !p.IsInstructor() {
		return ShareView{}, false, errShareAuthor
	}
	in.ClientID, in.Title, in.Text = strings.TrimSpace(in.ClientID), strings.TrimSpace(in.Title), strings.TrimSpace(in.Text)
	var v validate.Checker
	if in.ClientID == "" {
		v.Fail("client_id", "提交编号(client_id)不能为空")
	} else {
		v.Check(uuidRe.MatchString(in.ClientID), "client_id", "提交编号(client_id)应为UUID,如3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17")
	}
	v.Required("title", "标题", in.Title, maxTitle)
	v.Required("text", "分享内容", in.Text, maxShareText)
	v.OneOf("audience", "分享范围", in.Audience, true, roster.OneOf(ShareAudiences))
	v.Check(len(in.Attachments) <= maxPhotos, "attachments", fmt.Sprintf("照片最多%d张", maxPhotos))
	if len(in.Attachments) > 0 && s.files == nil {
		v.Fail("attachments", "暂不支持附件")
	}
	if err := v.Err(); err != nil {
		return ShareView{}, false, err
	}
	if sh, ok, err := s.shareByClientID(ctx, p.InstructorID, in.ClientID); err != nil || ok {
		return s.shareRetried(ctx, p, sh, in, ok, err)
	}
	ins, err := s.roster.UnscopedInstructor(ctx, p.InstructorID)
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return ShareView{}, false, err
	}
	if err != nil || ins.Status != roster.StatusActive || len(ins.RegionCode) != 12 {
		return ShareView{}, false, errShareAuthor
	}
	now := s.clock.Now()
	sh := Share{InstructorID: ins.ID, ClientID: in.ClientID, AccountID: p.AccountID, UnitID: ins.UnitID, RegionCode: ins.RegionCode,
		Audience: in.Audience, AudienceCode: audienceCode(ins.RegionCode, in.Audience), Status: SharePending,
		Title: in.Title, Text: in.Text, CreatedAt: now, UpdatedAt: now}
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		row := sh
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		sh = row
		if s.files != nil {
			return s.files.Attach(tx, p, in.Attachments, shareSubject, sh.ID, sh.RegionCode)
		}
		return nil
	})
	if err != nil && database.IsUniqueViolation(err) {
		found, ok, ferr := s.shareByClientID(ctx, p.InstructorID, in.ClientID)
		return s.shareRetried(ctx, p, found, in, ok, ferr)
	}
	if err != nil {
		return ShareView{}, false, err
	}
	audit.Subject(ctx, shareSubject, sh.ID, sh.RegionCode)
	views, err := s.shareViews(ctx, p, []Share{sh})
	if err != nil {
		return ShareView{}, false, err
	}
	return views[0], true, nil
}

func (s *Service) shareByClientID(ctx context.Context, instructorID int64, clientID string) (Share, bool, error) {
	var rows []Share
	err := s.db.WithContext(ctx).Where("instructor_id = ? AND client_id = ?", instructorID, clientID).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return Share{}, false, err
	}
	return rows[0], true, nil
}

func (s *Service) shareRetried(ctx context.Context, p *access.Principal, sh Share, in ShareInput, ok bool, err error) (ShareView, bool, error) {
	switch {
	case err != nil:
		return ShareView{}, false, err
	case !ok:
		return ShareView{}, false, errors.New("bulletin: share of a unique violation not found")
	case sh.Title != in.Title || sh.Text != in.Text || sh.Audience != in.Audience:
		return ShareView{}, false, errShareClientID
	}
	views, err := s.shareViews(ctx, p, []Share{sh})
	if err != nil {
		return ShareView{}, false, err
	}
	return views[0], false, nil
}

// sharesSeenBy limits shares to those p sees: staff the shares of authors in their subtree and
// those addressed to a region in it; an instructor their own (mine) or, otherwise, their own and
// the approved ones addressed to their county or city now.
func (s *Service) sharesSeenBy(ctx context.Context, p *access.Principal, mine bool) (func(*gorm.DB) *gorm.DB, error) {
	switch {
	case p.IsStaff():
		fresh := func() *gorm.DB { return s.db.Session(&gorm.Session{NewDB: true}) }
		cond := access.InRegion(p, "region_code")(fresh()).Or(access.InRegion(p, "audience_code")(fresh()))
		return func(db *gorm.DB) *gorm.DB { return db.Where(cond) }, nil
	case p.IsInstructor():
		if mine {
			return func(db *gorm.DB) *gorm.DB { return db.Where("instructor_id = ?", p.InstructorID) }, nil
		}
		ins, err := s.roster.UnscopedInstructor(ctx, p.InstructorID)
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, err
		}
		if err != nil || ins.Status != roster.StatusActive || len(ins.RegionCode) != 12 {
			return func(db *gorm.DB) *gorm.DB { return db.Where("instructor_id = ?", p.InstructorID) }, nil
		}
		codes := []string{audienceCode(ins.RegionCode, AudienceCounty), audienceCode(ins.RegionCode, AudienceCity)}
		return func(db *gorm.DB) *gorm.DB {
			return db.Where("instructor_id = ? OR (status = ? AND audience_code IN ?)", p.InstructorID, ShareApproved, codes)
		}, nil
	}
	return nil, errShareNoAccess
}

// ShareFilter narrows a list of shares.
type ShareFilter struct {
	Status string
	Mine   bool
	Page   paging.Page
}

// ListShares lists shares newest first: for staff their review queue and history, for an
// instructor what their county and city share (or, with Mine, their own with their state).
func (s *Service) ListShares(ctx context.Context, p *access.Principal, f ShareFilter) ([]ShareView, string, error) {
	var v validate.Checker
	v.OneOf("status", "审核状态", f.Status, false, roster.OneOf(ShareStatuses))
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	seen, err := s.sharesSeenBy(ctx, p, f.Mine)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Share{}).Scopes(seen, f.Page.Apply("id"))
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var rows []Share
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(sh Share) int64 { return sh.ID })
	out, err := s.shareViews(ctx, p, rows)
	return out, next, err
}

// GetShare returns one share the caller may see.
func (s *Service) GetShare(ctx context.Context, p *access.Principal, id int64) (ShareView, error) {
	sh, err := s.loadShare(s.db.WithContext(ctx), ctx, p, id, false)
	if err != nil {
		return ShareView{}, err
	}
	views, err := s.shareViews(ctx, p, []Share{sh})
	if err != nil {
		return ShareView{}, err
	}
	return views[0], nil
}

func (s *Service) loadShare(db *gorm.DB, ctx context.Context, p *access.Principal, id int64, lock bool) (Share, error) {
	seen, err := s.sharesSeenBy(ctx, p, false)
	if err != nil {
		return Share{}, err
	}
	if lock {
		db = db.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var sh Share
	err = db.Model(&Share{}).Scopes(seen).Where("id = ?", id).Take(&sh).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return sh, errShareNotFound
	}
	return sh, err
}

// ReviewShare approves a pending share (reason empty) or rejects it with a reason. Only staff
// whose region holds the share's audience review it; the same decision again (a retried request)
// changes nothing.
func (s *Service) ReviewShare(ctx context.Context, p *access.Principal, id int64, approve bool, reason string) (ShareView, error) {
	if !p.IsStaff() {
		return ShareView{}, errShareReviewer
	}
	reason = strings.TrimSpace(reason)
	if !approve {
		var v validate.Checker
		v.Required("reason", "未通过的原因", reason, maxNote)
		if err := v.Err(); err != nil {
			return ShareView{}, err
		}
	}
	status := ShareApproved
	if !approve {
		status = ShareRejected
	}
	now := s.clock.Now()
	// Read before the transaction: SQLite has a single connection, which the transaction holds.
	if _, err := s.loadShare(s.db.WithContext(ctx), ctx, p, id, false); err != nil {
		return ShareView{}, err
	}
	var sh Share
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		if err = tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&sh).Error; err != nil {
			return err
		}
		if !p.CanSeeRegion(sh.AudienceCode) {
			return errShareReviewer
		}
		if sh.Status != SharePending {
			if sh.Status == status && sh.RejectReason == reason {
				return nil
			}
			return errShareReviewed
		}
		sh.Status, sh.RejectReason, sh.ReviewedBy, sh.ReviewedAt, sh.UpdatedAt = status, reason, p.AccountID, &now, now
		return tx.Model(&Share{}).Where("id = ?", sh.ID).Updates(map[string]any{"status": status, "reject_reason": reason,
			"reviewed_by": p.AccountID, "reviewed_at": now, "updated_at": now}).Error
	})
	if err != nil {
		return ShareView{}, err
	}
	audit.Subject(ctx, shareSubject, sh.ID, sh.RegionCode)
	views, err := s.shareViews(ctx, p, []Share{sh})
	if err != nil {
		return ShareView{}, err
	}
	return views[0], nil
}

// PromoteShare makes an approved share into a draft bulletin of the staff member's region,
// addressed to the share's audience (or to the staff member's region when the audience is wider),
// its text followed by a line that credits the author. The draft is published from the bulletin
// page after editing. Promoting it again returns the same draft (created false). The photos stay
// with the share: the draft names how many there were.
func (s *Service) PromoteShare(ctx context.Context, p *access.Principal, id int64) (View, bool, error) {
	if !p.IsStaff() {
		return View{}, false, errStaffOnly
	}
	sh, err := s.loadShare(s.db.WithContext(ctx), ctx, p, id, false)
	if err != nil {
		return View{}, false, err
	}
	if sh.BulletinID > 0 {
		v, err := s.Get(ctx, p, sh.BulletinID)
		if err == nil {
			return v, false, nil
		}
		if !errors.Is(err, errNotFound) {
			return View{}, false, err
		}
	}
	views, err := s.shareViews(ctx, p, []Share{sh})
	if err != nil {
		return View{}, false, err
	}
	sv := views[0]
	credit := fmt.Sprintf("\n\n(本文由%s%s指导员%s分享", sv.RegionName, sv.UnitName, sv.InstructorName)
	if n := len(sv.Attachments); n > 0 {
		credit += fmt.Sprintf(",原文附照片%d张", n)
	}
	body := sh.Text + credit + "。)"
	scope := []string{sh.AudienceCode}
	if !p.CanSeeRegion(sh.AudienceCode) {
		scope = []string{p.RegionCode}
	}
	var b Bulletin
	created := false
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		var cur Share
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", sh.ID).Take(&cur).Error; err != nil {
			return err
		}
		if cur.Status != ShareApproved {
			return errShareNotPassed
		}
		if cur.BulletinID > 0 {
			b.ID = cur.BulletinID
			return nil
		}
		var err error
		if b, err = s.draft(tx, p, sh.Title, body, scope, sh.ID); err != nil {
			return err
		}
		created = true
		return tx.Model(&Share{}).Where("id = ?", sh.ID).Updates(map[string]any{"bulletin_id": b.ID, "updated_at": s.clock.Now()}).Error
	})
	if err != nil {
		return View{}, false, err
	}
	if created {
		audit.Subject(ctx, subjectType, b.ID, p.RegionCode)
	}
	v, err := s.Get(ctx, p, b.ID)
	return v, created, err
}

func (s *Service) shareViews(ctx context.Context, p *access.Principal, rows []Share) ([]ShareView, error) {
	out := make([]ShareView, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	db := s.db.WithContext(ctx)
	ids, insIDs, unitIDs := make([]int64, len(rows)), make([]int64, len(rows)), make([]int64, len(rows))
	for i, sh := range rows {
		ids[i], insIDs[i], unitIDs[i] = sh.ID, sh.InstructorID, sh.UnitID
	}
	var people []roster.Instructor
	if err := db.Select("id", "name").Where("id IN ?", insIDs).Find(&people).Error; err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, x := range people {
		names[x.ID] = x.Name
	}
	var units []roster.Unit
	if err := db.Select("id", "name").Where("id IN ?", unitIDs).Find(&units).Error; err != nil {
		return nil, err
	}
	unitNames := map[int64]string{}
	for _, u := range units {
		unitNames[u.ID] = u.Name
	}
	files := map[int64][]upload.View{}
	if s.files != nil {
		var err error
		if files, err = s.files.List(ctx, shareSubject, ids); err != nil {
			return nil, err
		}
	}
	for i, sh := range rows {
		mine := p.IsInstructor() && p.InstructorID == sh.InstructorID
		v := ShareView{ID: sh.ID, Title: sh.Title, Text: sh.Text, Attachments: files[sh.ID], Audience: sh.Audience,
			AudienceName: roster.Label(ShareAudiences, sh.Audience), AudienceCode: sh.AudienceCode,
			AudienceRegion: s.regionName(ctx, sh.AudienceCode), Status: sh.Status, StatusName: roster.Label(ShareStatuses, sh.Status),
			InstructorID: sh.InstructorID, InstructorName: names[sh.InstructorID], UnitName: unitNames[sh.UnitID],
			RegionCode: sh.RegionCode, RegionName: s.regionName(ctx, sh.RegionCode), Mine: mine,
			CanReview:  p.IsStaff() && sh.Status == SharePending && p.CanSeeRegion(sh.AudienceCode),
			ReviewedAt: clock.LocalPtr(sh.ReviewedAt), CreatedAt: clock.Local(sh.CreatedAt)}
		if v.Attachments == nil {
			v.Attachments = []upload.View{}
		}
		if mine || p.IsStaff() {
			v.RejectReason, v.BulletinID = sh.RejectReason, sh.BulletinID
		}
		if mine {
			v.ClientID = sh.ClientID
		}
		out[i] = v
	}
	return out, nil
}
