package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/upload"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Limits of the common fields.
const (
	// MaxFuture is the clock skew allowed between a phone and the server for occurred_at.
	MaxFuture = 5 * time.Minute
	// MaxPast bounds how old a record may be: offline drafts are days old, not years.
	MaxPast = 366 * 24 * time.Hour
	maxNote = 500
	// OwnerKind is what records are called to the upload package.
	OwnerKind = "record"
)

// Options configure the service.
type Options struct {
	// AckDeadlines is how long a tip of each level may wait for acknowledgement before it
	// escalates by itself.
	AckDeadlines map[string]time.Duration
	// MaxExportRows caps one export; 0 means DefaultMaxExportRows.
	MaxExportRows int
	// Tally keeps the statistics (package stats) in step with the records; nil keeps none.
	Tally Tally
	// Committed is told of every change of a record once its transaction has committed (the tip
	// desk's wake-up, package tipfeed); nil tells no one. It must not block.
	Committed func(kind, regionCode string)
}

// Tally is called in the transaction of every submission and change, once the record and its
// detail are saved, so that what is derived from records commits or rolls back with them. created
// says the record is being submitted: nothing was tallied for it before.
type Tally interface {
	Tally(tx *gorm.DB, rec *Record, d Detail, created bool) error
}

// Service keeps field records. Every method takes the caller explicitly and scopes its queries
// through package access: instructors see their own records, staff their region's subtree.
type Service struct {
	db      *gorm.DB
	roster  *roster.Service
	regions *region.Store
	files   upload.Attacher
	clock   clock.Clock
	log     *slog.Logger
	opt     Options
	search  *fulltext.Index
}

// NewService wires the records. files may be nil while uploads are not available: records then
// take no attachments.
func NewService(db *gorm.DB, rs *roster.Service, regions *region.Store, files upload.Attacher, clk clock.Clock, log *slog.Logger, opt Options) *Service {
	return &Service{db: db, roster: rs, regions: regions, files: files, clock: clk, log: log, opt: opt, search: fulltext.New(db)}
}

var (
	errNotFound         = apperr.New(http.StatusNotFound, "record_not_found", "记录不存在或不在您的管辖范围内")
	errInstructorOnly   = apperr.Forbidden("只有指导员可以提交记录")
	errClientIDConflict = apperr.New(http.StatusConflict, "client_id_conflict",
		"该提交编号(client_id)已用于另一条内容不同的记录。重试时请原样提交;提交新记录请生成新的编号").
		WithField("client_id", "已用于内容不同的记录")
	errInactive = apperr.New(http.StatusForbidden, "instructor_inactive", "您已不在任,不能提交记录")
	errStale    = apperr.New(http.StatusConflict, "record_changed", "记录刚刚被他人更新,请刷新后重试")
	errLocked   = apperr.New(http.StatusConflict, "record_locked", "工作人员已处理该记录,不能再修改或撤回;如需更正,请联系工作人员退回")
)

func errTransition(k *Kind, status string, a Action) error {
	return apperr.New(http.StatusConflict, "invalid_transition",
		fmt.Sprintf("记录当前状态为“%s”,不能执行“%s”", k.statusLabel(status), a.Label))
}

func kindOf(name string) (*Kind, error) {
	k, ok := KindByName(name)
	if !ok {
		return nil, errNotFound
	}
	return k, nil
}

// ---- submission ----

// Submit stores a new record from the calling instructor. It is idempotent on the client's id:
// the same id with the same body returns the stored record (created is false), with a different
// body it is a conflict. The unique key on (author, client_id) decides, between concurrent
// retries on any number of instances as for a retry long after: the insert of a retry fails on
// it, and the stored record is answered.
//
// A submission reads its author's placement once, writes in one transaction (the record, its
// detail, timeline step, version, statistics, outbox event and audit entry) and answers with what
// it wrote, which is what a read of the record would show.
func (s *Service) Submit(ctx context.Context, p *access.Principal, kind string, body Body) (v View, created bool, err error) {
	k, err := kindOf(kind)
	if err != nil {
		return View{}, false, err
	}
	if !p.IsInstructor() {
		return View{}, false, errInstructorOnly
	}
	var chk validate.Checker
	now := stored(s.clock.Now())
	rec, d, attachments, declared := s.parseSubmission(k, body, &chk, now)
	if err := chk.Err(); err != nil {
		return View{}, false, err
	}
	rec.BodyHash = bodyHash(k, rec, d, attachments, declared)
	// On MySQL submissions take the pool's connections in the order they came: at more phones
	// than connections the pool's own draw made the slowest submissions wait several times as
	// long as the others.
	release, err := database.Turn(ctx, s.db)
	if err != nil {
		return View{}, false, err
	}
	defer release()
	at, err := s.roster.UnscopedPlacement(ctx, p.InstructorID)
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		err = errInstructorOnly
	case err == nil && at.Status != roster.StatusActive:
		err = errInactive
	}
	if err != nil {
		if errors.Is(err, errInstructorOnly) || errors.Is(err, errInactive) {
			// A retry of a submission stored before is still answered with the record.
			if old, ok, lerr := s.byClientID(ctx, p.InstructorID, rec.ClientID); lerr == nil && ok {
				return s.replay(ctx, k, old, rec.BodyHash)
			}
		}
		return View{}, false, err
	}
	rec.AuthorID, rec.AuthorAccountID, rec.UnitID, rec.RegionCode = at.ID, p.AccountID, at.UnitID, at.RegionCode
	rec.ReceivedAt, rec.UpdatedAt, rec.Status, rec.Version = now, now, k.Initial, 1
	rec.SearchText = d.text()
	actor := Actor{AccountID: p.AccountID, Role: string(p.Role), Name: at.Name}

	var c *change
	err = database.Grouped(ctx, s.db, func(tx *gorm.DB) error {
		row := *rec
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		d.setRecordID(row.ID)
		c = &change{s: s, tx: tx, p: p, actor: actor, kind: k, rec: &row, detail: d, now: now, action: "submit",
			event: k.Steps.Submitted, created: true}
		if k.Prepare != nil {
			if err := k.Prepare(c); err != nil {
				return err
			}
		}
		// Rows whose writing answers nothing the submission reads (ids, counts) are sent
		// later (database.Later): on MySQL with the next statement that answers, or the COMMIT.
		if err := database.Later(tx).Create(d).Error; err != nil {
			return err
		}
		if err := s.attach(tx, p, attachments, &row); err != nil {
			return err
		}
		if err := s.declare(tx, p, declared, &row); err != nil {
			return err
		}
		if err := c.write(); err != nil {
			return err
		}
		return audit.Write(ctx, database.Later(tx), http.StatusCreated, k.Name, row.ID, row.RegionCode)
	})
	if err == nil {
		// The answer is built from what was written: the next submission's turn need not wait
		// for it. (A turn held while no connection is in use leaves one idle.)
		release()
	}
	if database.IsUniqueViolation(err) {
		// A retry with this client id: its first submission is stored (or a concurrent one won
		// the insert).
		old, ok, lerr := s.byClientID(ctx, p.InstructorID, rec.ClientID)
		if lerr != nil || !ok {
			return View{}, false, errors.Join(err, lerr)
		}
		return s.replay(ctx, k, old, rec.BodyHash)
	}
	if err != nil {
		return View{}, false, err
	}
	audit.Committed(ctx)
	s.committed(k, c.rec.RegionCode)
	var files []upload.View
	if (len(attachments) > 0 || len(declared) > 0) && s.files != nil {
		m, err := s.files.List(ctx, OwnerKind, []int64{c.rec.ID})
		if err != nil {
			return View{}, false, err
		}
		files = m[c.rec.ID]
	}
	var pending []upload.PendingView
	if pd, ok := s.files.(upload.Pender); ok && len(declared) > 0 {
		m, err := pd.ListPending(ctx, OwnerKind, []int64{c.rec.ID})
		if err != nil {
			return View{}, false, err
		}
		pending = m[c.rec.ID]
	}
	v = s.viewOf(ctx, c.rec, d, at.Name, at.UnitName, files, []Step{c.step}, true)
	if pending != nil {
		v.PendingAttachments = pending
	}
	return v, true, nil
}

// stored is a time as the database keeps it: to the millisecond (MySQL's DATETIME(3)), as
// submitted times are read (fields.time), so that an answer built from what a change wrote equals
// a later read of it.
func stored(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

func (s *Service) replay(ctx context.Context, k *Kind, old Record, hash string) (View, bool, error) {
	if old.Kind != k.Name || old.BodyHash != hash {
		return View{}, false, errClientIDConflict
	}
	rows, err := s.withNames(ctx, old)
	if err != nil {
		return View{}, false, err
	}
	views, err := s.views(ctx, rows, true)
	if err != nil {
		return View{}, false, err
	}
	return views[0], false, nil
}

func (s *Service) byClientID(ctx context.Context, authorID int64, clientID string) (Record, bool, error) {
	var rows []Record
	err := s.db.WithContext(ctx).Where("author_id = ? AND client_id = ?", authorID, clientID).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return Record{}, false, err
	}
	return rows[0], true, nil
}

// parseSubmission reads and validates a whole submission.
func (s *Service) parseSubmission(k *Kind, body Body, chk *validate.Checker, now time.Time) (*Record, Detail, []int64, []string) {
	f := newFields(body, chk)
	rec := &Record{Kind: k.Name}
	if f.str("client_id", "提交编号(client_id)", &rec.ClientID) {
		rec.ClientID = strings.ToLower(rec.ClientID)
		f.check(validUUID(rec.ClientID), "client_id", "提交编号(client_id)应为UUID,如3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17")
	} else if !f.has("client_id") {
		f.fail("client_id", "提交编号(client_id)不能为空")
	}
	s.readCommon(f, rec, true, now)
	roleGiven := readRoleAndTags(f, rec)
	var attachments []int64
	if f.ids("attachments", "附件", &attachments) {
		checkAttachments(f, attachments)
	}
	var declared []string
	if f.strs("attachment_client_ids", "待上传附件的编号", &declared) {
		declared = checkDeclared(f, declared, len(attachments))
	}
	d := k.New()
	own, ok := f.object(k.Name, k.Label+"内容")
	if !ok {
		if !f.has(k.Name) {
			f.fail(k.Name, k.Label+"内容不能为空")
		}
		own = &fields{raw: Body{}, prefix: k.Name + ".", v: chk}
	}
	d.apply(own)
	d.check(own)
	if !roleGiven {
		rec.Role = DefaultRole(k.Name, d)
	}
	return rec, d, attachments, declared
}

// readCommon reads the common fields a submission and a patch share; on a patch absent fields
// stay.
func (s *Service) readCommon(f *fields, rec *Record, creating bool, now time.Time) {
	if f.str("title", "标题", &rec.Title) || creating {
		f.required("title", "标题", rec.Title, 40)
	}
	if f.str("place", "地点", &rec.Place) || creating {
		f.maxLen("place", "地点", rec.Place, 100)
	}
	occurred := f.time("occurred_at", "发生时间", &rec.OccurredAt)
	switch {
	case occurred && rec.OccurredAt.After(now.Add(MaxFuture)):
		f.fail("occurred_at", "发生时间不能晚于当前时间")
	case occurred && rec.OccurredAt.Before(now.Add(-MaxPast)):
		f.fail("occurred_at", "发生时间不能早于一年前")
	case creating && !f.has("occurred_at"):
		f.fail("occurred_at", "发生时间不能为空")
	}
	lat, lng := f.float("latitude", "纬度", &rec.Latitude), f.float("longitude", "经度", &rec.Longitude)
	if lat || lng {
		f.check(rec.Latitude != nil && rec.Longitude != nil, "latitude", "经纬度应同时提供")
		if rec.Latitude != nil {
			f.check(*rec.Latitude >= -90 && *rec.Latitude <= 90, "latitude", "纬度应在-90到90之间")
		}
		if rec.Longitude != nil {
			f.check(*rec.Longitude >= -180 && *rec.Longitude <= 180, "longitude", "经度应在-180到180之间")
		}
	}
}

func checkAttachments(f *fields, ids []int64) {
	// upload.Attach refuses more too; checked here as well so that the form's other mistakes are
	// listed with it in one answer.
	f.check(len(ids) <= upload.MaxAttachments, "attachments", fmt.Sprintf("附件最多%d个", upload.MaxAttachments))
	seen := map[int64]bool{}
	for _, id := range ids {
		if id <= 0 || seen[id] {
			f.fail("attachments", "附件编号应为不重复的正整数")
			return
		}
		seen[id] = true
	}
}

// checkDeclared checks the client ids of attachments declared before their upload (text first):
// UUIDs, lower-cased, no repeats, and with the attachments sent by id at most
// upload.MaxAttachments.
func checkDeclared(f *fields, cids []string, byID int) []string {
	f.check(len(cids)+byID <= upload.MaxAttachments, "attachment_client_ids", fmt.Sprintf("附件(含待上传的照片)最多%d个", upload.MaxAttachments))
	out := make([]string, 0, len(cids))
	seen := map[string]bool{}
	for _, c := range cids {
		c = strings.ToLower(strings.TrimSpace(c))
		if !upload.ValidClientID(c) || seen[c] {
			f.fail("attachment_client_ids", "待上传附件的编号应为不重复的UUID(即上传照片时的client_id)")
			return nil
		}
		seen[c] = true
		out = append(out, c)
	}
	return out
}

// declare records the attachments declared by client id; those already uploaded are attached now.
func (s *Service) declare(tx *gorm.DB, p *access.Principal, cids []string, rec *Record) error {
	if len(cids) == 0 {
		return nil
	}
	pd, ok := s.files.(upload.Pender)
	if !ok {
		return apperr.Field("attachment_client_ids", "暂不支持先提交文字后上传照片")
	}
	return pd.Declare(tx, p, cids, OwnerKind, rec.ID, rec.RegionCode)
}

func (s *Service) attach(tx *gorm.DB, p *access.Principal, ids []int64, rec *Record) error {
	if len(ids) == 0 {
		return nil
	}
	if s.files == nil {
		return apperr.Field("attachments", "附件不存在")
	}
	return s.files.Attach(tx, p, ids, OwnerKind, rec.ID, rec.RegionCode)
}

// bodyHash fingerprints a submission after parsing, so retries compare by meaning, not by bytes
// (key order, spacing, time zone of occurred_at).
func bodyHash(k *Kind, rec *Record, d Detail, attachments []int64, declared []string) string {
	ids := slices.Clone(attachments)
	slices.Sort(ids)
	cids := slices.Clone(declared)
	slices.Sort(cids)
	// The default role and no tags are left out, so that a submission stored before records had
	// them (migration 38) and retried by a phone afterwards has the fingerprint it was stored with.
	role := rec.Role
	if role == DefaultRole(k.Name, d) {
		role = ""
	}
	b, _ := json.Marshal(struct {
		Kind, Title, Place string
		OccurredAt         time.Time
		Lat, Lng           *float64
		Attachments        []int64
		Fields             any
		Role               string `json:",omitempty"`
		Tags               string `json:",omitempty"`
		// Left out when none, for the fingerprints stored before migration 42.
		Declared []string `json:",omitempty"`
	}{k.Name, rec.Title, rec.Place, rec.OccurredAt.UTC(), rec.Latitude, rec.Longitude, ids, d, role, rec.Tags, cids})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// transact runs fn in a transaction, retried when MySQL picks it as a deadlock victim.
func (s *Service) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return database.Transact(ctx, s.db, fn)
}

// committed tells Options.Committed of a change of a record that committed, and has its
// full-text entry written when the index is written after the transaction (Mroonga: the
// transaction noted it pending; SQLite: a new record; fulltext.Index.Touch, Run writes it).
func (s *Service) committed(k *Kind, regionCode string) {
	if s.opt.Committed != nil {
		s.opt.Committed(k.Name, regionCode)
	}
	s.search.Kick()
}

// ---- reading ----

// scopeFor limits a query to what p may see of records: staff their subtree, an instructor their own.
func scopeFor(p *access.Principal) func(*gorm.DB) *gorm.DB {
	return access.InRegionOrOwn(p, "region_code", "author_id")
}

func (s *Service) find(tx *gorm.DB, scope func(*gorm.DB) *gorm.DB, k *Kind, id int64) (Record, error) {
	var rec Record
	err := tx.Scopes(scope).Where("id = ? AND kind = ?", id, k.Name).Take(&rec).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return rec, errNotFound
	}
	return rec, err
}

// Get returns one record in scope with its timeline.
func (s *Service) Get(ctx context.Context, p *access.Principal, kind string, id int64) (View, error) {
	k, err := kindOf(kind)
	if err != nil {
		return View{}, err
	}
	rec, err := s.find(s.db.WithContext(ctx), scopeFor(p), k, id)
	if err != nil {
		return View{}, err
	}
	rows, err := s.withNames(ctx, rec)
	if err != nil {
		return View{}, err
	}
	views, err := s.views(ctx, rows, true)
	if err != nil {
		return View{}, err
	}
	return views[0], nil
}

// Versions lists the kept versions of a record in scope, oldest first.
func (s *Service) Versions(ctx context.Context, p *access.Principal, kind string, id int64) ([]VersionView, error) {
	k, err := kindOf(kind)
	if err != nil {
		return nil, err
	}
	if _, err := s.find(s.db.WithContext(ctx), scopeFor(p), k, id); err != nil {
		return nil, err
	}
	var rows []Version
	if err := s.db.WithContext(ctx).Where("record_id = ?", id).Order("version").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]VersionView, len(rows))
	for i, r := range rows {
		out[i] = VersionView{Version: r.Version, Action: r.Action, CreatedAt: clock.Local(r.CreatedAt),
			Actor: Actor{AccountID: r.ActorAccountID, Role: r.ActorRole, Name: r.ActorName}, Snapshot: json.RawMessage(r.Snapshot)}
	}
	return out, nil
}

// Filter narrows a record list.
type Filter struct {
	Kind string
	// Statuses are the statuses asked for, any of them (GET ...?status=a&status=b); none means all.
	Statuses   []string
	Role       string
	Tag        string
	RegionCode string
	AuthorID   int64
	UnitID     int64
	From, To   string // RFC 3339 times or dates (YYYY-MM-DD, Beijing time) bounding occurred_at
	Q          string
	// Param reads the kind's own filters (tip level, unsettled mediations) by query parameter name.
	Param func(string) string
	Page  paging.Page
}

// List lists records in scope, newest first.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]View, string, error) {
	rows, err := s.pageRows(ctx, p, f)
	if err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(r named) int64 { return r.ID })
	out, err := s.views(ctx, rows, false)
	return out, next, err
}

// pageRows are the rows of a list page, one more than the page (paging.Trim): the page's ids
// (pageQuery) as a derived table, and the rows of those ids, in one query. A keyword is looked
// up in the full-text index when the database has one (searchIDs), and its ids read by byIDs.
func (s *Service) pageRows(ctx context.Context, p *access.Principal, f Filter) ([]named, error) {
	if f.Q != "" {
		ids, err := s.searchIDs(ctx, p, f)
		if !errors.Is(err, fulltext.ErrUnusable) {
			if err != nil {
				return nil, err
			}
			return s.byIDs(ctx, ids)
		}
	}
	q, err := s.pageRowsQuery(ctx, p, f)
	if err != nil {
		return nil, err
	}
	return database.Find[named](q, f.Page.Limit+1)
}

// pageRowsQuery is the query of pageRows without a keyword.
func (s *Service) pageRowsQuery(ctx context.Context, p *access.Principal, f Filter) (*gorm.DB, error) {
	q, err := s.pageQuery(ctx, p, f)
	if err != nil {
		return nil, err
	}
	return s.listed(ctx).Joins("JOIN (?) page ON page.id = records.id", q.Select("id")).Order("records.id DESC"), nil
}

// searchIDs finds a keyword's page through the full-text index (fulltext.Index.PageIDs): the
// newest records in scope with LIKE first, then the index's candidates within the caller's
// scope, matched by the list's own query. The result is what the LIKE query alone returns.
func (s *Service) searchIDs(ctx context.Context, p *access.Principal, f Filter) ([]int64, error) {
	q, err := s.filtered(ctx, p, f)
	if err != nil {
		return nil, err
	}
	fq, none := s.searchQuery(p, f)
	if none {
		return nil, nil
	}
	noQ := f
	noQ.Q = ""
	newest, err := s.filtered(ctx, p, noQ)
	if err != nil {
		return nil, err
	}
	return s.search.PageIDs(ctx, fq, q, newest, f.Page)
}

// searchQuery is the index query of a keyword search by p with f's filters; none when the
// region filter lies outside p's scope.
func (s *Service) searchQuery(p *access.Principal, f Filter) (fq fulltext.Query, none bool) {
	fq = fulltext.Query{Keyword: f.Q, Kind: f.Kind,
		Scope: access.InRegionOrOwnWithin(p, f.RegionCode, "region_code", "county_code", "author_id")}
	if prefix, none, ok := access.SubtreeWithin(p, f.RegionCode); ok && none {
		return fq, true
	} else if ok {
		fq.Prefix = prefix
		if strings.HasPrefix(region.ProvinceCode, prefix) && len(prefix) <= 2 {
			// The whole province holds every entry of the index: its range over region_code
			// would only keep Mroonga from ordering and cutting the keyword's matches itself
			// (ORDER BY … LIMIT: 0.09 s against 0.30 s for a keyword in 0.4 % of 24 M records).
			// The list's own query (PageIDs' matching) applies the caller's scope in any case.
			fq.Scope = nil
		}
	}
	switch {
	case f.AuthorID > 0:
		fq.AuthorID = f.AuthorID
	case p.IsInstructor():
		fq.AuthorID = p.InstructorID
	}
	return fq, false
}

// pageQuery is the query of a list page's ids (one more than the page, paging.Trim): the page's
// ids first, then its rows (pageRows). Asked for whole rows in id order with a limit, MariaDB
// walks the primary key backwards and, when the matches are old (a date range) or few, reads
// most of the table; asked for ids, it can answer from a covering index (migrations 11 and 33).
func (s *Service) pageQuery(ctx context.Context, p *access.Principal, f Filter) (*gorm.DB, error) {
	q, err := s.filtered(ctx, p, f)
	if err != nil {
		return nil, err
	}
	return q.Scopes(f.Page.Apply("id")), nil
}

// named is a record with the names of its author and unit, as views shows it.
type named struct {
	Record
	AuthorName string
	UnitName   string
	// WithFiles and WithPending say whether the record has attachments, and attachments declared
	// but not arrived: views reads those of only these records.
	WithFiles   bool
	WithPending bool
}

// byIDs reads records by id, newest first, as listed reads them.
func (s *Service) byIDs(ctx context.Context, ids []int64) ([]named, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return database.Find[named](s.listed(ctx).Where("records.id IN ?", ids).Order("records.id DESC"), len(ids))
}

// listed is the query of a list's rows: each record with its author's and unit's names, and
// whether it has attachments, in the same query. A list page is then two queries (these rows,
// found by their ids' query as a derived table, and the details), and more only for the
// records with attachments: most pages have none (a tip, a sentiment), and on a page of 100
// tips the two queries that found nothing, with the query of the page's ids, were a tenth of
// the server's CPU (docs/performance.md).
func (s *Service) listed(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("records").
		Select(listedColumns+", instructors.name AS author_name, units.name AS unit_name, "+
			"EXISTS (SELECT 1 FROM uploads WHERE uploads.owner_kind = ? AND uploads.owner_id = records.id) AS with_files, "+
			"EXISTS (SELECT 1 FROM pending_attachments p WHERE p.owner_kind = ? AND p.owner_id = records.id) AS with_pending",
			OwnerKind, OwnerKind).
		Joins("LEFT JOIN instructors ON instructors.id = records.author_id").
		Joins("LEFT JOIN units ON units.id = records.unit_id")
}

// listedColumns are the columns of records a view shows. Not search_text, a copy of the
// detail's text (read with the detail) kept for keyword searches, as long as the record's
// narrative, and on a page of 50 records as many kilobytes read, sent and scanned for nothing.
// Nor what only a write reads: body_hash (64 characters, the replay check of a submission) and
// author_account_id.
const listedColumns = "records.id, records.kind, records.client_id, records.author_id, " +
	"records.unit_id, records.region_code, records.title, records.occurred_at, " +
	"records.received_at, records.place, records.latitude, records.longitude, records.status, records.role, " +
	"records.tags, records.locked, records.return_note, records.withdraw_reason, records.version, records.updated_at"

// withNames reads the names of one record's author and unit (a record read alone).
func (s *Service) withNames(ctx context.Context, r Record) ([]named, error) {
	db := s.db.WithContext(ctx)
	authors, err := names(db, &roster.Instructor{}, []int64{r.AuthorID})
	if err != nil {
		return nil, err
	}
	units, err := names(db, &roster.Unit{}, []int64{r.UnitID})
	if err != nil {
		return nil, err
	}
	return []named{{Record: r, AuthorName: authors[r.AuthorID], UnitName: units[r.UnitID], WithFiles: true, WithPending: true}}, nil
}

// filtered validates a list's filters and builds its query, scoped to p; f.Page is not applied.
// The query is a fresh session: each use (a count, a page) starts from the same conditions.
func (s *Service) filtered(ctx context.Context, p *access.Principal, f Filter) (*gorm.DB, error) {
	var chk validate.Checker
	ff := newFields(nil, &chk)
	var k *Kind
	if f.Kind != "" {
		var ok bool
		if k, ok = KindByName(f.Kind); !ok {
			chk.Fail("kind", "记录类型的取值无效")
		}
	}
	statuses := commonStatuses
	if k != nil {
		statuses = k.AllStatuses()
	} else {
		for _, kk := range kinds {
			statuses = append(statuses, kk.Statuses...)
		}
	}
	for _, st := range f.Statuses {
		chk.Code("status", "状态", st, true, roster.Codes(statuses))
	}
	chk.Code("role", "工作角色", f.Role, false, roster.Codes(Roles))
	chk.Code("tag", "标签", f.Tag, false, roster.Codes(Tags))
	chk.RegionCode("region_code", f.RegionCode)
	from, fromOK := parseBound(&chk, "from", f.From, false)
	to, toOK := parseBound(&chk, "to", f.To, true)
	chk.MaxLen("q", "关键词", f.Q, 50)

	window := fromOK || toOK
	withinCounty := access.WithinCounty(p, f.RegionCode)
	q := s.db.WithContext(ctx).Model(&Record{})
	if k != nil {
		q = q.Where("kind = ?", k.Name)
		if k.Filter != nil && f.Param != nil {
			q = k.Filter(q, f.Param, ff)
		}
	}
	if err := chk.Err(); err != nil {
		return nil, err
	}
	switch st := slices.Compact(slices.Sorted(slices.Values(f.Statuses))); len(st) {
	case 0:
	case 1:
		q = q.Where("status = ?", st[0])
	default:
		q = q.Where("status IN ?", st)
	}
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.Tag != "" {
		// tags is comma-separated codes: the tag alone, first, last or between two others.
		q = q.Where("(tags = ? OR tags LIKE ? ESCAPE '!' OR tags LIKE ? ESCAPE '!' OR tags LIKE ? ESCAPE '!')",
			f.Tag, escapeLike(f.Tag)+",%", "%,"+escapeLike(f.Tag), "%,"+escapeLike(f.Tag)+",%")
	}
	if window && !withinCounty {
		// A window of dates wider than a county is found through the region and date indexes
		// (migration 11), which need the region as a range.
		q = q.Scopes(scopeFor(p), access.UnderRegion("region_code", f.RegionCode))
	} else {
		// A subtree within one county is said as county_code = ?, the equality the list indexes
		// of migrations 33 and 47 lead with: a county's page is read in id order from an index
		// instead of sorting the county or walking down from the newest record of the province,
		// and a window in a county from county_code, kind, occurred_at.
		q = q.Scopes(access.InRegionOrOwnWithin(p, f.RegionCode, "region_code", "county_code", "author_id"))
	}
	if f.AuthorID > 0 {
		q = q.Where("author_id = ?", f.AuthorID)
	}
	if f.UnitID > 0 {
		q = q.Where("unit_id = ?", f.UnitID)
	}
	if fromOK {
		q = q.Where("occurred_at >= ?", from)
	}
	if toOK {
		q = q.Where("occurred_at < ?", to)
	}
	if f.Q != "" {
		like := "%" + escapeLike(f.Q) + "%"
		q = q.Where("(title LIKE ? ESCAPE '!' OR search_text LIKE ? ESCAPE '!')", like, like)
	}
	byWindow := window && withinCounty
	if byWindow && !toOK {
		// A window open to now holds the kind's newest records, unless the kind has none
		// since: when it holds many, the list's own index in id order finds a page among the
		// newest at once, and the window would be read whole and sorted.
		var err error
		if byWindow, err = s.fewInWindow(ctx, p, f, k, from); err != nil {
			return nil, err
		}
	}
	mysql := s.db.Dialector.Name() == "mysql"
	switch {
	case byWindow:
		// A county's window is read from county_code, kind, occurred_at (migration 47) and its
		// ids sorted: the work is the window's records, whatever their age. Both databases
		// would rather walk the county's list index in id order for its LIMIT, which is quick
		// only while the window holds the kind's newest records: for last year's sentiments it
		// reads every newer one first, and for a kind with none in the window, all of them.
		if k == nil {
			// Every kind in turn: the window index has the kind before the date.
			q = q.Where("kind IN ?", kindNames())
		}
		q = q.Table(s.byWindowIndex())
	case mysql && (toOK || withinCounty || (!window && p.IsInstructor())):
		// MariaDB's plan for "ORDER BY id DESC LIMIT n" is often to walk the primary key down
		// from the newest record, filtering, when its estimate says enough matches lie near the
		// top. It cannot know their age: a window ending in the past, an instructor's records or
		// a county's tips under all its newest visits have none there, and it would read every
		// newer record first. A window is then found through the date indexes and its ids sorted;
		// a county or an instructor is read from its index already in id order (migration 33).
		// Within a county the window index (county_code, kind, then dates) looks as good to it
		// as the list's own (county_code, kind, then id), and a sort of the county's every tip
		// is as cheap to it as none.
		hints := "IGNORE INDEX FOR ORDER BY (PRIMARY)"
		if withinCounty {
			hints += " IGNORE INDEX (" + windowIndex + ")"
		}
		q = q.Table("`records` " + hints)
	}
	return q.Session(&gorm.Session{}), nil
}

// windowIndex is a county's records by kind and date (migration 47).
const windowIndex = "idx_records_county_kind_occurred"

// byWindowIndex is the records table read through windowIndex and no other.
func (s *Service) byWindowIndex() string {
	if s.db.Dialector.Name() == "mysql" {
		return "`records` FORCE INDEX (" + windowIndex + ")"
	}
	return "`records` INDEXED BY " + windowIndex
}

// windowProbe is the size of a county's window from which a window open to now is read in id
// order rather than whole: a sort of this many ids costs about what a walk costs that reads
// as many records to fill a page.
const windowProbe = 1000

// fewInWindow reports whether a county's window from a date to now holds at most windowProbe
// records of the list's kind (of every kind without one), counted from the window index alone
// and only up to that many.
func (s *Service) fewInWindow(ctx context.Context, p *access.Principal, f Filter, k *Kind, from time.Time) (bool, error) {
	prefix, _, _ := access.SubtreeWithin(p, f.RegionCode)
	names := kindNames()
	if k != nil {
		names = []string{k.Name}
	}
	var beyond []int64
	err := s.db.WithContext(ctx).Table(s.byWindowIndex()).
		Where("county_code = ? AND kind IN ? AND occurred_at >= ?", prefix[:6], names, from).
		Offset(windowProbe).Limit(1).Pluck("id", &beyond).Error
	return len(beyond) == 0, err
}

// parseBound reads a list bound: an RFC 3339 time, or a date meaning the start of that day in
// Beijing time (for "to", the end of it).
func parseBound(chk *validate.Checker, name, s string, end bool) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	d, err := time.ParseInLocation("2006-01-02", s, clock.Shanghai)
	if err != nil {
		chk.Fail(name, "日期应为YYYY-MM-DD或RFC 3339格式的时间")
		return time.Time{}, false
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d.UTC(), true
}

// escapeLike escapes a keyword for "LIKE ? ESCAPE '!'", a form MySQL and SQLite read alike.
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// followed is implemented by details whose displayed status comes from another record (a
// duplicate tip shows its original's status).
type followed interface{ followedStatus() string }

// views renders records with their kind fields and attachments; one query per table.
func (s *Service) views(ctx context.Context, recs []named, withTimeline bool) ([]View, error) {
	out := make([]View, 0, len(recs))
	if len(recs) == 0 {
		return out, nil
	}
	db := s.db.WithContext(ctx)
	byKind := map[string][]int64{}
	var ids, withFiles, withPending []int64
	for _, r := range recs {
		byKind[r.Kind] = append(byKind[r.Kind], r.ID)
		ids = append(ids, r.ID)
		if r.WithFiles {
			withFiles = append(withFiles, r.ID)
		}
		if r.WithPending {
			withPending = append(withPending, r.ID)
		}
	}
	details := map[int64]Detail{}
	for name, kindIDs := range byKind {
		k, ok := KindByName(name)
		if !ok {
			continue
		}
		m, err := k.Load(db, kindIDs)
		if err != nil {
			return nil, err
		}
		for id, d := range m {
			details[id] = d
		}
	}
	files := map[int64][]upload.View{}
	if s.files != nil && len(withFiles) > 0 {
		var err error
		if files, err = s.files.List(ctx, OwnerKind, withFiles); err != nil {
			return nil, err
		}
	}
	pending := map[int64][]upload.PendingView{}
	if pd, ok := s.files.(upload.Pender); ok && len(withPending) > 0 {
		var err error
		if pending, err = pd.ListPending(ctx, OwnerKind, withPending); err != nil {
			return nil, err
		}
	}
	steps := map[int64][]Step{}
	if withTimeline {
		var rows []Step
		if err := db.Where("record_id IN ?", ids).Order("id").Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, st := range rows {
			steps[st.RecordID] = append(steps[st.RecordID], st)
		}
	}
	for _, r := range recs {
		var d Detail
		if dd, ok := details[r.ID]; ok {
			d = dd
		}
		v := s.viewOf(ctx, &r.Record, d, r.AuthorName, r.UnitName, files[r.ID], steps[r.ID], withTimeline)
		if p := pending[r.ID]; p != nil {
			v.PendingAttachments = p
		}
		out = append(out, v)
	}
	return out, nil
}

// viewOf renders one record from its row, its detail (nil if missing), the names of its author
// and unit, its attachments and its timeline.
func (s *Service) viewOf(ctx context.Context, r *Record, d Detail, author, unit string, files []upload.View, steps []Step, withTimeline bool) View {
	k, _ := KindByName(r.Kind)
	v := View{
		ID: r.ID, Kind: r.Kind, ClientID: r.ClientID, Title: r.Title, Status: r.Status,
		OccurredAt: clock.Shown(r.OccurredAt), ReceivedAt: clock.Shown(r.ReceivedAt), UpdatedAt: clock.Shown(r.UpdatedAt),
		Place: r.Place, Latitude: r.Latitude, Longitude: r.Longitude,
		AuthorID: r.AuthorID, AuthorName: author, UnitID: r.UnitID, UnitName: unit,
		RegionCode: r.RegionCode, RegionName: s.regionName(ctx, r.RegionCode), Version: r.Version,
		ReturnNote: r.ReturnNote, WithdrawReason: r.WithdrawReason, Attachments: files,
		Role: r.Role, RoleName: label(Roles, r.Role), Tags: SplitTags(r.Tags), TagNames: tagNames(SplitTags(r.Tags)),
	}
	if v.Attachments == nil {
		v.Attachments = []upload.View{}
	}
	v.PendingAttachments = []upload.PendingView{}
	if k == nil {
		return v
	}
	v.KindName, v.Editable = k.Label, r.editable(k)
	if d != nil {
		if fd, ok := d.(followed); ok && fd.followedStatus() != "" {
			v.Status = fd.followedStatus()
		}
		v.setFields(d.view())
	}
	v.StatusName = k.statusLabel(v.Status)
	if withTimeline {
		v.Timeline = make([]StepView, 0, len(steps))
		for _, st := range steps {
			v.Timeline = append(v.Timeline, st.view(k))
		}
	}
	return v
}

// names maps ids to the name column of a roster table.
func names(db *gorm.DB, model any, ids []int64) (map[int64]string, error) {
	var rows []struct {
		ID   int64
		Name string
	}
	if err := db.Model(model).Select("id", "name").Where("id IN ?", slices.Compact(slices.Sorted(slices.Values(ids)))).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

func (s *Service) regionName(ctx context.Context, code string) string {
	r, err := s.regions.Get(ctx, code)
	if err != nil {
		return ""
	}
	return r.Name
}

// ---- edits and workflow ----

// Update applies the author's corrections while the record is still theirs to change.
func (s *Service) Update(ctx context.Context, p *access.Principal, kind string, id int64, body Body) (View, error) {
	k, err := kindOf(kind)
	if err != nil {
		return View{}, err
	}
	if !p.IsInstructor() {
		return View{}, apperr.Forbidden("只有提交人可以修改记录")
	}
	var regionCode string
	err = s.transact(ctx, func(tx *gorm.DB) error {
		rec, err := s.find(tx, authorScope(p), k, id)
		if err != nil {
			return err
		}
		if !rec.editable(k) {
			return errLocked
		}
		d, err := s.detail(tx, k, id)
		if err != nil {
			return err
		}
		var chk validate.Checker
		f := newFields(body, &chk)
		now := s.clock.Now()
		s.readCommon(f, &rec, false, now)
		readRoleAndTags(f, &rec)
		var attachments []int64
		if f.ids("attachments", "附件", &attachments) {
			checkAttachments(f, attachments)
		}
		own, ok := f.object(k.Name, k.Label+"内容")
		if !ok {
			own = &fields{raw: Body{}, prefix: k.Name + ".", v: &chk}
		}
		d.apply(own)
		d.check(own)
		if err := chk.Err(); err != nil {
			return err
		}
		c := &change{s: s, tx: tx, p: p, kind: k, rec: &rec, detail: d, now: now, action: "edit", from: rec.Status, event: k.Steps.Updated}
		if err := c.resolveActor(); err != nil {
			return err
		}
		if err := s.attach(tx, p, attachments, &rec); err != nil {
			return err
		}
		if err := c.commit(); err != nil {
			return err
		}
		regionCode = rec.RegionCode
		return audit.Write(ctx, tx, http.StatusOK, k.Name, id, rec.RegionCode)
	})
	if err != nil {
		return View{}, err
	}
	audit.Committed(ctx)
	s.committed(k, regionCode)
	return s.Get(ctx, p, kind, id)
}

func authorScope(p *access.Principal) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if !p.IsInstructor() {
			return db.Where("1 = 0")
		}
		return db.Where("author_id = ?", p.InstructorID)
	}
}

func (s *Service) detail(tx *gorm.DB, k *Kind, id int64) (Detail, error) {
	m, err := k.Load(tx, []int64{id})
	if err != nil {
		return nil, err
	}
	d, ok := m[id]
	if !ok {
		return nil, fmt.Errorf("record %d has no %s detail", id, k.Name)
	}
	return d, nil
}

// Act takes a workflow action on a record. created is true for actions that append something.
func (s *Service) Act(ctx context.Context, p *access.Principal, kind string, id int64, name string, body Body) (View, bool, error) {
	k, err := kindOf(kind)
	if err != nil {
		return View{}, false, err
	}
	a, ok := k.action(name)
	if !ok {
		return View{}, false, errNotFound
	}
	var scope func(*gorm.DB) *gorm.DB
	switch a.Who {
	case ByStaff:
		if !p.IsStaff() {
			return View{}, false, apperr.Forbidden("只有民族工作部门工作人员可以" + a.Label)
		}
		scope = access.InRegion(p, "region_code")
	case ByAuthor:
		if !p.IsInstructor() {
			return View{}, false, apperr.Forbidden("只有提交人可以" + a.Label)
		}
		scope = authorScope(p)
	default:
		if !p.IsStaff() && !p.IsInstructor() {
			return View{}, false, apperr.Forbidden("无权" + a.Label)
		}
		scope = scopeFor(p)
	}
	var regionCode string
	err = s.transact(ctx, func(tx *gorm.DB) error {
		rec, err := s.find(tx, scope, k, id)
		if err != nil {
			return err
		}
		d, err := s.detail(tx, k, id)
		if err != nil {
			return err
		}
		if (a.From == nil && !k.open(rec.Status)) || (a.From != nil && !slices.Contains(a.From, rec.Status)) {
			return errTransition(k, rec.Status, a)
		}
		c := &change{s: s, tx: tx, p: p, kind: k, rec: &rec, detail: d, now: s.clock.Now(), action: a.Name, from: rec.Status, event: a.Event}
		if err := c.resolveActor(); err != nil {
			return err
		}
		if p.IsStaff() && k.Guard != nil {
			if err := k.Guard(c); err != nil {
				return err
			}
		}
		var chk validate.Checker
		f := newFields(body, &chk)
		f.str("note", "备注", &c.note)
		f.maxLen("note", "备注", c.note, maxNote)
		if a.To != "" {
			rec.Status = a.To
		}
		if a.Apply != nil {
			a.Apply(c, f)
		}
		if err := chk.Err(); err != nil {
			return err
		}
		if c.err != nil {
			return c.err
		}
		if p.IsStaff() {
			rec.Locked = true
		}
		if err := c.commit(); err != nil {
			return err
		}
		regionCode = rec.RegionCode
		status := http.StatusOK
		if a.Created {
			status = http.StatusCreated
		}
		return audit.Write(ctx, tx, status, k.Name, id, rec.RegionCode)
	})
	if err != nil {
		return View{}, false, err
	}
	audit.Committed(ctx)
	s.committed(k, regionCode)
	v, err := s.Get(ctx, p, kind, id)
	return v, a.Created, err
}

// commonActions are the flow every kind shares: staff return a record for correction, the author
// fixes and resubmits it, or withdraws it. Nothing is deleted.
func commonActions(k *Kind) []Action {
	return []Action{
		{Name: "return", Label: "退回修改", Who: ByStaff, To: StatusReturned, Event: k.Steps.Returned,
			Apply: func(c *change, f *fields) {
				f.required("note", "退回原因", c.note, maxNote)
				c.rec.ReturnNote = c.note
			}},
		{Name: "resubmit", Label: "重新提交", Who: ByAuthor, From: []string{StatusReturned}, To: k.Initial, Event: k.Steps.Resubmitted,
			Apply: func(c *change, f *fields) {
				c.rec.Locked = false
				c.rec.ReturnNote = ""
			}},
		{Name: "withdraw", Label: "撤回", Who: ByAuthor, From: []string{k.Initial, StatusReturned}, To: StatusWithdrawn, Event: k.Steps.Withdrawn,
			Apply: func(c *change, f *fields) {
				if c.from == k.Initial && c.rec.Locked {
					c.err = errLocked
					return
				}
				var reason string
				f.str("reason", "撤回原因", &reason)
				f.required("reason", "撤回原因", reason, maxNote)
				c.rec.WithdrawReason = reason
				if c.note == "" {
					c.note = reason
				}
			}},
	}
}

// ---- summary ----

// Summary counts the calling instructor's records by kind in this month and this year (Beijing
// time), by when they happened; withdrawn records do not count.
func (s *Service) Summary(ctx context.Context, p *access.Principal) (Summary, error) {
	if !p.IsInstructor() {
		return Summary{}, apperr.Forbidden("只有指导员有个人统计")
	}
	now := s.clock.Now().In(clock.Shanghai)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, clock.Shanghai)
	year := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, clock.Shanghai)
	var out Summary
	for _, period := range []struct {
		dst      *Counts
		from, to time.Time
	}{{&out.Month, month, month.AddDate(0, 1, 0)}, {&out.Year, year, year.AddDate(1, 0, 0)}} {
		var rows []struct {
			Kind string
			N    int64
		}
		err := s.db.WithContext(ctx).Model(&Record{}).Select("kind, COUNT(*) AS n").
			Where("author_id = ? AND status <> ? AND occurred_at >= ? AND occurred_at < ?", p.InstructorID, StatusWithdrawn, period.from.UTC(), period.to.UTC()).
			Group("kind").Scan(&rows).Error
		if err != nil {
			return Summary{}, err
		}
		c := Counts{From: period.from, Counts: map[string]int64{}}
		for _, k := range kinds {
			c.Counts[k.Name] = 0
		}
		for _, r := range rows {
			c.Counts[r.Kind] = r.N
			c.Total += r.N
		}
		*period.dst = c
	}
	return out, nil
}
