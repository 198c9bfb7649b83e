package bulletin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/sweep"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/upload"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Service keeps bulletins. Every method takes the caller explicitly: staff manage the bulletins
// issued in their subtree, instructors read the published ones whose scope holds their unit.
type Service struct {
	db      *gorm.DB
	roster  *roster.Service
	regions *region.Store
	files   upload.Attacher
	clock   clock.Clock
	log     *slog.Logger
}

// NewService wires bulletins. files may be nil: bulletins then take no attachments.
func NewService(db *gorm.DB, rs *roster.Service, regions *region.Store, files upload.Attacher, clk clock.Clock, log *slog.Logger) *Service {
	return &Service{db: db, roster: rs, regions: regions, files: files, clock: clk, log: log}
}

const (
	subjectType = "bulletin"
	maxTitle    = 60
	maxBody     = 20000
	maxScope    = 50
	// pastSlack lets a phone or browser whose clock is a little behind ask for "now" as a time.
	pastSlack  = 5 * time.Minute
	maxAhead   = 366 * 24 * time.Hour
	sweepBatch = 100
)

var (
	errNotFound   = apperr.New(http.StatusNotFound, "bulletin_not_found", "工作简报不存在或不在您的范围内")
	errStaffOnly  = apperr.Forbidden("只有民族工作部门工作人员可以发布工作简报和查看阅读情况")
	errNoAudience = apperr.Forbidden("无权查看工作简报")
)

// transact runs fn in a transaction, retried when MySQL picks it as a deadlock victim.
func (s *Service) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return database.Transact(ctx, s.db, fn)
}

// ---- issuing ----

// Input issues a bulletin. Scope defaults to the issuer's region; an empty PublishAt means now.
type Input struct {
	Title       string
	Body        string
	Attachments []int64
	Scope       []string
	PublishAt   string
}

// Create issues a bulletin: published at once (with its event) or scheduled for the sweep.
func (s *Service) Create(ctx context.Context, p *access.Principal, in Input) (View, error) {
	if !p.IsStaff() {
		return View{}, errStaffOnly
	}
	now := s.clock.Now()
	in.Title = strings.TrimSpace(in.Title)
	var v validate.Checker
	v.Required("title", "简报标题", in.Title, maxTitle)
	v.Check(strings.TrimSpace(in.Body) != "", "body", "简报正文不能为空")
	v.MaxLen("body", "简报正文", in.Body, maxBody)
	publishAt := now
	if raw := strings.TrimSpace(in.PublishAt); raw != "" {
		t, err := time.Parse(time.RFC3339Nano, raw)
		switch {
		case err != nil:
			v.Fail("publish_at", "发布时间应为RFC 3339格式的时间,如2024-05-01T09:30:00+08:00")
		case t.Before(now.Add(-pastSlack)):
			v.Fail("publish_at", "发布时间不能早于当前时间;立即发布请不传发布时间")
		case t.After(now.Add(maxAhead)):
			v.Fail("publish_at", "发布时间不能超过一年以后")
		case t.After(now):
			publishAt = t.UTC().Truncate(time.Second)
		}
	}
	if len(in.Attachments) > 0 && s.files == nil {
		v.Fail("attachments", "暂不支持附件")
	}
	scope, err := s.checkScope(ctx, p, &v, in.Scope)
	if err != nil {
		return View{}, err
	}
	if err := v.Err(); err != nil {
		return View{}, err
	}
	b := Bulletin{RegionCode: p.RegionCode, Title: in.Title, Body: in.Body, Status: StatusScheduled, PublishAt: publishAt,
		CreatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now, Version: 1}
	if !publishAt.After(now) {
		b.Status, b.PublishedAt = StatusPublished, &now
	}
	err = s.transact(ctx, func(tx *gorm.DB) error {
		row := b
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		rows := make([]Scope, len(scope))
		for i, code := range scope {
			rows[i] = Scope{BulletinID: row.ID, RegionCode: code}
		}
		if err := tx.Create(&rows).Error; err != nil {
			return err
		}
		if s.files != nil {
			if err := s.files.Attach(tx, p, in.Attachments, subjectType, row.ID, row.RegionCode); err != nil {
				return err
			}
		}
		b = row
		if b.Status == StatusPublished {
			return s.emitPublished(tx, b, scope, now)
		}
		return nil
	})
	if err != nil {
		return View{}, err
	}
	audit.Subject(ctx, subjectType, b.ID, b.RegionCode)
	return s.detail(ctx, b, nil)
}

var errScopeOutside = apperr.Forbidden("发布范围超出了您的管辖范围")

// checkScope validates the scope codes: each an existing region in the issuer's subtree. Codes
// inside another chosen code are dropped, so a recipient is counted once.
func (s *Service) checkScope(ctx context.Context, p *access.Principal, v *validate.Checker, codes []string) ([]string, error) {
	if len(codes) == 0 {
		return []string{p.RegionCode}, nil
	}
	if len(codes) > maxScope {
		v.Fail("scope", fmt.Sprintf("发布范围最多%d个行政区划", maxScope))
		return nil, nil
	}
	var out []string
	for _, c := range codes {
		c = strings.TrimSpace(c)
		if !region.ValidCode(c) {
			v.Fail("scope", "发布范围应为12位行政区划代码")
			return nil, nil
		}
		ok, err := s.regions.Exists(ctx, c)
		if err != nil {
			return nil, err
		}
		if !ok {
			v.Fail("scope", fmt.Sprintf("行政区划代码%s不存在", c))
			return nil, nil
		}
		if !p.CanSeeRegion(c) {
			return nil, errScopeOutside.WithField("scope", fmt.Sprintf("%s不在您的管辖范围内", c))
		}
		out = append(out, c)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	kept := out[:0:0]
	for _, c := range out {
		covered := false
		for _, o := range out {
			covered = covered || (o != c && region.Contains(o, c))
		}
		if !covered {
			kept = append(kept, c)
		}
	}
	return kept, nil
}

// emitPublished writes the bulletin.published event in the transaction that publishes b.
func (s *Service) emitPublished(tx *gorm.DB, b Bulletin, scope []string, now time.Time) error {
	return outbox.Write(tx, outbox.Entry{SubjectType: subjectType, SubjectID: b.ID, RegionCode: b.RegionCode, At: now,
		Payload: outbox.BulletinPublished{
			BulletinID: b.ID, Title: b.Title, Summary: summary(b.Body, 120), Scope: scope,
			RegionCode: b.RegionCode, PublishedAt: clock.Local(now),
		}})
}

// PublishDue publishes every scheduled bulletin whose time has come and returns how many. Any
// number of instances may sweep at once: the conditional update publishes each bulletin once,
// and its event is written in the same transaction.
func (s *Service) PublishDue(ctx context.Context) (int, error) {
	now := s.clock.Now()
	done := 0
	for {
		var ids []int64
		if err := s.db.WithContext(ctx).Model(&Bulletin{}).Where("status = ? AND publish_at <= ?", StatusScheduled, now).
			Order("publish_at, id").Limit(sweepBatch).Pluck("id", &ids).Error; err != nil {
			return done, err
		}
		claimed := 0
		for _, id := range ids {
			ok, err := s.publish(ctx, id, now)
			if err != nil {
				if ctx.Err() != nil {
					return done, nil
				}
				return done, fmt.Errorf("bulletin %d: %w", id, err)
			}
			if ok {
				done++
				claimed++
			}
		}
		if len(ids) < sweepBatch || claimed == 0 {
			return done, nil
		}
	}
}

func (s *Service) publish(ctx context.Context, id int64, now time.Time) (bool, error) {
	published := false
	err := s.transact(ctx, func(tx *gorm.DB) error {
		published = false
		res := tx.Model(&Bulletin{}).Where("id = ? AND status = ? AND publish_at <= ?", id, StatusScheduled, now).
			Updates(map[string]any{"status": StatusPublished, "published_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		var b Bulletin
		if err := tx.Where("id = ?", id).Take(&b).Error; err != nil {
			return err
		}
		var scope []string
		if err := tx.Model(&Scope{}).Where("bulletin_id = ?", id).Order("region_code").Pluck("region_code", &scope).Error; err != nil {
			return err
		}
		published = true
		return s.emitPublished(tx, b, scope, now)
	})
	return published, err
}

// Sweep runs PublishDue every interval until ctx ends; a zero interval disables it.
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	sweep.Counting(ctx, s.log, every, "scheduled bulletins published", s.PublishDue)
}

// ---- reading ----

// reader is the instructor reading: their current unit region and its ancestors (a bulletin
// scoped to any of them reaches them). ok is false for an instructor no longer in office.
type reader struct {
	id        int64
	ancestors []string
}

func (s *Service) reader(ctx context.Context, p *access.Principal) (reader, bool, error) {
	ins, err := s.roster.UnscopedInstructor(ctx, p.InstructorID)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return reader{}, false, nil
	}
	if err != nil {
		return reader{}, false, err
	}
	if ins.Status != roster.StatusActive || region.LevelOf(ins.RegionCode) == 0 {
		return reader{}, false, nil
	}
	return reader{id: ins.ID, ancestors: ancestors(ins.RegionCode)}, true, nil
}

// ancestors lists code and every region above it ("130102001000" → 130000000000, 130100000000,
// 130102000000, 130102001000).
func ancestors(code string) []string {
	var out []string
	for _, n := range []int{2, 4, 6, 9, 12} {
		c := code[:n] + strings.Repeat("0", 12-n)
		if region.LevelOf(c) > 0 && (len(out) == 0 || out[len(out)-1] != c) {
			out = append(out, c)
		}
	}
	return out
}

// visibleTo limits a query on bulletins to the published ones whose scope holds the reader, and
// those withdrawn after they were published: the phone shows them as withdrawn, with the reason.
func (s *Service) visibleTo(r reader) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Where("status IN ? AND published_at IS NOT NULL", []string{StatusPublished, StatusWithdrawn}).
			Where("id IN (?)", s.db.Model(&Scope{}).Select("bulletin_id").Where("region_code IN ?", r.ancestors))
	}
}

// Filter narrows a bulletin list.
type Filter struct {
	Status string
	Unread bool
	Page   paging.Page
}

// List lists bulletins newest first: for staff those issued in their subtree with how many have
// read each, for an instructor the published ones addressed to them with their read flag.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]View, string, error) {
	var v validate.Checker
	v.OneOf("status", "状态", f.Status, false, roster.OneOf(Statuses))
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	db := s.db.WithContext(ctx)
	q := db.Model(&Bulletin{}).Scopes(f.Page.Apply("id"))
	var rd reader
	switch {
	case p.IsStaff():
		q = q.Scopes(access.InRegion(p, "region_code"))
		if f.Status != "" {
			q = q.Where("status = ?", f.Status)
		}
	case p.IsInstructor():
		var ok bool
		var err error
		if rd, ok, err = s.reader(ctx, p); err != nil || !ok {
			return nil, "", err
		}
		q = q.Scopes(s.visibleTo(rd))
		if f.Unread {
			q = q.Where("status = ?", StatusPublished).Where("id NOT IN (?)", s.db.Model(&Read{}).Select("bulletin_id").Where("instructor_id = ?", rd.id))
		}
	default:
		return nil, "", errNoAudience
	}
	var rows []Bulletin
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(b Bulletin) int64 { return b.ID })
	ids := make([]int64, len(rows))
	for i, b := range rows {
		ids[i] = b.ID
	}
	scopes, err := s.scopes(db, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]View, len(rows))
	for i, b := range rows {
		out[i] = s.view(ctx, b, scopes[b.ID])
	}
	if len(ids) == 0 {
		return out, next, nil
	}
	if p.IsStaff() {
		counts, err := s.readCounts(db, ids)
		if err != nil {
			return nil, "", err
		}
		for i := range out {
			n := counts[out[i].ID]
			out[i].ReadCount = &n
		}
		return out, next, nil
	}
	var reads []Read
	if err := db.Where("instructor_id = ? AND bulletin_id IN ?", rd.id, ids).Find(&reads).Error; err != nil {
		return nil, "", err
	}
	readAt := map[int64]time.Time{}
	for _, r := range reads {
		readAt[r.BulletinID] = r.ReadAt
	}
	for i := range out {
		if out[i].Status == StatusWithdrawn {
			out[i].Summary = ""
		}
		t, ok := readAt[out[i].ID]
		out[i].Read = &ok
		if ok {
			out[i].ReadAt = clock.LocalPtr(&t)
		}
	}
	return out, next, nil
}

// Get returns one bulletin with its body and attachments. An instructor opening it leaves a read
// receipt (once; opening it again keeps the first).
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (View, error) {
	db := s.db.WithContext(ctx)
	var b Bulletin
	switch {
	case p.IsStaff():
		err := db.Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&b).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return View{}, errNotFound
		}
		if err != nil {
			return View{}, err
		}
		v, err := s.detail(ctx, b, nil)
		if err != nil {
			return View{}, err
		}
		if v.Versions, err = s.versions(db, b); err != nil {
			return View{}, err
		}
		counts, err := s.readCounts(db, []int64{b.ID})
		n := counts[b.ID]
		v.ReadCount = &n
		return v, err
	case p.IsInstructor():
		rd, ok, err := s.reader(ctx, p)
		if err != nil {
			return View{}, err
		}
		if !ok {
			return View{}, errNotFound
		}
		err = db.Model(&Bulletin{}).Scopes(s.visibleTo(rd)).Where("id = ?", id).Take(&b).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return View{}, errNotFound
		}
		if err != nil {
			return View{}, err
		}
		if b.Status == StatusWithdrawn {
			// what was withdrawn is not read any more: the reason, not the body, and no receipt
			var rs []Read
			if err := db.Where("bulletin_id = ? AND instructor_id = ?", b.ID, rd.id).Limit(1).Find(&rs).Error; err != nil {
				return View{}, err
			}
			scopes, err := s.scopes(db, []int64{b.ID})
			if err != nil {
				return View{}, err
			}
			v := s.view(ctx, b, scopes[b.ID])
			v.Summary = ""
			read := len(rs) > 0
			v.Read = &read
			if read {
				v.ReadAt = clock.LocalPtr(&rs[0].ReadAt)
			}
			return v, nil
		}
		now := s.clock.Now()
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&Read{BulletinID: b.ID, InstructorID: rd.id, AccountID: p.AccountID, ReadAt: now}).Error; err != nil {
			return View{}, err
		}
		var r Read
		if err := db.Where("bulletin_id = ? AND instructor_id = ?", b.ID, rd.id).Take(&r).Error; err != nil {
			return View{}, err
		}
		return s.detail(ctx, b, &r)
	}
	return View{}, errNotFound
}

// UnreadCount counts the published bulletins addressed to the calling instructor that they have
// not opened: the mini-program's badge.
func (s *Service) UnreadCount(ctx context.Context, p *access.Principal) (int64, error) {
	if !p.IsInstructor() {
		return 0, apperr.Forbidden("只有指导员有未读工作简报")
	}
	rd, ok, err := s.reader(ctx, p)
	if err != nil || !ok {
		return 0, err
	}
	var n int64
	err = s.db.WithContext(ctx).Model(&Bulletin{}).Scopes(s.visibleTo(rd)).Where("status = ?", StatusPublished).
		Where("id NOT IN (?)", s.db.Model(&Read{}).Select("bulletin_id").Where("instructor_id = ?", rd.id)).
		Count(&n).Error
	return n, err
}

// staffBulletin is a bulletin in the staff member's region and the regions it was sent to, for
// its receipts and its unread list.
func (s *Service) staffBulletin(db *gorm.DB, p *access.Principal, id int64) (Bulletin, []string, error) {
	if !p.IsStaff() {
		return Bulletin{}, nil, errStaffOnly
	}
	var b Bulletin
	err := db.Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return b, nil, errNotFound
	}
	if err != nil {
		return b, nil, err
	}
	var scope []string
	err = db.Model(&Scope{}).Where("bulletin_id = ?", b.ID).Pluck("region_code", &scope).Error
	return b, scope, err
}

// Receipts lists who has read a bulletin, latest first, with the read rate over the active
// instructors of its scope.
func (s *Service) Receipts(ctx context.Context, p *access.Principal, id int64, page paging.Page) (ReceiptsView, error) {
	db := s.db.WithContext(ctx)
	b, scope, err := s.staffBulletin(db, p, id)
	if err != nil {
		return ReceiptsView{}, err
	}
	out := ReceiptsView{BulletinID: b.ID, Items: []ReceiptView{}}
	for _, code := range scope {
		var n int64
		if err := db.Model(&roster.Instructor{}).Scopes(access.UnderRegion("region_code", code)).
			Where("status = ?", roster.StatusActive).Count(&n).Error; err != nil {
			return out, err
		}
		out.Recipients += n
	}
	if err := db.Model(&Read{}).Where("bulletin_id = ?", b.ID).Count(&out.Read).Error; err != nil {
		return out, err
	}
	if out.Recipients > 0 {
		out.ReadRate = min(1, float64(out.Read)/float64(out.Recipients))
	}
	var reads []Read
	if err := db.Where("bulletin_id = ?", b.ID).Scopes(page.Apply("id")).Find(&reads).Error; err != nil {
		return out, err
	}
	reads, out.NextCursor = paging.Trim(page, reads, func(r Read) int64 { return r.ID })
	if len(reads) == 0 {
		return out, nil
	}
	insIDs := make([]int64, len(reads))
	for i, r := range reads {
		insIDs[i] = r.InstructorID
	}
	var people []roster.Instructor
	if err := db.Select("id", "name", "unit_id", "region_code").Where("id IN ?", insIDs).Find(&people).Error; err != nil {
		return out, err
	}
	byID := map[int64]roster.Instructor{}
	unitIDs := make([]int64, 0, len(people))
	for _, ins := range people {
		byID[ins.ID] = ins
		unitIDs = append(unitIDs, ins.UnitID)
	}
	var units []roster.Unit
	if err := db.Select("id", "name").Where("id IN ?", unitIDs).Find(&units).Error; err != nil {
		return out, err
	}
	unitName := map[int64]string{}
	for _, u := range units {
		unitName[u.ID] = u.Name
	}
	for _, r := range reads {
		ins := byID[r.InstructorID]
		out.Items = append(out.Items, ReceiptView{InstructorID: r.InstructorID, Name: ins.Name, UnitID: ins.UnitID,
			UnitName: unitName[ins.UnitID], RegionCode: ins.RegionCode, ReadAt: clock.Local(r.ReadAt)})
	}
	return out, nil
}

func (s *Service) readCounts(db *gorm.DB, ids []int64) (map[int64]int64, error) {
	var rows []struct {
		BulletinID int64
		N          int64
	}
	err := db.Model(&Read{}).Select("bulletin_id, COUNT(*) AS n").Where("bulletin_id IN ?", ids).
		Group("bulletin_id").Find(&rows).Error
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[r.BulletinID] = r.N
	}
	return out, err
}

func (s *Service) scopes(db *gorm.DB, ids []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Scope
	if err := db.Where("bulletin_id IN ?", ids).Order("region_code").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.BulletinID] = append(out[r.BulletinID], r.RegionCode)
	}
	return out, nil
}

func (s *Service) regionName(ctx context.Context, code string) string {
	if r, err := s.regions.Get(ctx, code); err == nil {
		return r.Name
	}
	return ""
}

func (s *Service) view(ctx context.Context, b Bulletin, scope []string) View {
	v := View{
		ID: b.ID, Title: b.Title, Summary: summary(b.Body, 80), Status: b.Status, StatusName: roster.Label(Statuses, b.Status),
		PublishAt: clock.Local(b.PublishAt), PublishedAt: clock.LocalPtr(b.PublishedAt),
		RegionCode: b.RegionCode, RegionName: s.regionName(ctx, b.RegionCode), Scope: make([]RegionView, len(scope)),
		CreatedAt: clock.Local(b.CreatedAt), Version: max(b.Version, 1), CorrectedAt: clock.LocalPtr(b.CorrectedAt),
		CorrectionNote: b.CorrectionNote, WithdrawnAt: clock.LocalPtr(b.WithdrawnAt), WithdrawReason: b.WithdrawReason,
		SourceShareID: b.SourceShareID,
	}
	for i, c := range scope {
		v.Scope[i] = RegionView{Code: c, Name: s.regionName(ctx, c)}
	}
	return v
}

// detail is the view of one bulletin with body and attachments; r is the caller's receipt.
func (s *Service) detail(ctx context.Context, b Bulletin, r *Read) (View, error) {
	scopes, err := s.scopes(s.db.WithContext(ctx), []int64{b.ID})
	if err != nil {
		return View{}, err
	}
	v := s.view(ctx, b, scopes[b.ID])
	body := b.Body
	v.Body = &body
	v.Attachments = []upload.View{}
	if s.files != nil {
		files, err := s.files.List(ctx, subjectType, []int64{b.ID})
		if err != nil {
			return View{}, err
		}
		if f := files[b.ID]; f != nil {
			v.Attachments = f
		}
	}
	if r != nil {
		read := true
		v.Read, v.ReadAt = &read, clock.LocalPtr(&r.ReadAt)
	}
	return v, nil
}

var (
	mdImage  = regexp.MustCompile(`!\[[^\]]*\]\([^)]*\)`)
	mdLink   = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	mdLead   = regexp.MustCompile(`(?m)^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)`)
	mdMarks  = regexp.MustCompile("[*_`~]+")
	mdSpaces = regexp.MustCompile(`\s+`)
)

// summary is the start of a Markdown body as plain text, for lists and notices.
func summary(body string, max int) string {
	s := mdImage.ReplaceAllString(body, "")
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdLead.ReplaceAllString(s, "")
	s = mdMarks.ReplaceAllString(s, "")
	s = strings.TrimSpace(mdSpaces.ReplaceAllString(s, " "))
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

// Unread lists the recipients who have not opened a bulletin (the active instructors of its scope
// now, as Receipts counts them, less those with a receipt), by instructor id descending: the
// officer follows them up by phone.
func (s *Service) Unread(ctx context.Context, p *access.Principal, id int64, page paging.Page) (UnreadView, error) {
	db := s.db.WithContext(ctx)
	b, scope, err := s.staffBulletin(db, p, id)
	if err != nil {
		return UnreadView{}, err
	}
	out := UnreadView{BulletinID: b.ID, Items: []RecipientView{}}
	if len(scope) == 0 {
		return out, nil
	}
	// any of the scope's subtrees: the scope functions are applied to fresh sessions so that
	// their conditions group into one OR
	fresh := func() *gorm.DB { return s.db.Session(&gorm.Session{NewDB: true}) }
	inScope := access.UnderRegion("region_code", scope[0])(fresh())
	for _, code := range scope[1:] {
		inScope = inScope.Or(access.UnderRegion("region_code", code)(fresh()))
	}
	var people []roster.Instructor
	err = db.Select("id", "name", "unit_id", "region_code").Where(inScope).
		Where("status = ?", roster.StatusActive).
		Where("id NOT IN (?)", s.db.Model(&Read{}).Select("instructor_id").Where("bulletin_id = ?", b.ID)).
		Scopes(page.Apply("id")).Find(&people).Error
	if err != nil {
		return out, err
	}
	people, out.NextCursor = paging.Trim(page, people, func(i roster.Instructor) int64 { return i.ID })
	if len(people) == 0 {
		return out, nil
	}
	unitIDs := make([]int64, 0, len(people))
	for _, ins := range people {
		unitIDs = append(unitIDs, ins.UnitID)
	}
	var units []roster.Unit
	if err := db.Select("id", "name").Where("id IN ?", unitIDs).Find(&units).Error; err != nil {
		return out, err
	}
	unitName := map[int64]string{}
	for _, u := range units {
		unitName[u.ID] = u.Name
	}
	for _, ins := range people {
		out.Items = append(out.Items, RecipientView{InstructorID: ins.ID, Name: ins.Name, UnitID: ins.UnitID,
			UnitName: unitName[ins.UnitID], RegionCode: ins.RegionCode})
	}
	return out, nil
}
