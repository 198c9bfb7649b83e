package upload

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// MaxAttachments is how many attachments one owner (a record, a task, a task report, a bulletin)
// may have: Attach refuses more. miniprogram-api/openapi.yaml says it as maxItems of every
// request's `attachments` (a test in server/httpapi keeps the two equal) and the mini-program takes
// it from there (miniprogram/utils/limits.js, checked by its spec).
const MaxAttachments = 9

// MaxNameLength is the longest original file name kept, in characters.
const MaxNameLength = 100

// Upload is one stored file. Until it is attached, region_code is the uploader's region; once
// attached, the owner's, so downloads are scope-checked like the owner. ClientID is the phone's
// id of the upload, unique per uploader (NULL when none was sent).
type Upload struct {
	ID           int64
	AccountID    int64
	ClientID     *string
	InstructorID *int64
	Kind         string
	MIME         string `gorm:"column:mime"`
	Size         int64
	SHA256       string `gorm:"column:sha256"`
	StorageKey   string
	Name         string
	OwnerKind    string
	OwnerID      *int64
	RegionCode   string
	CreatedAt    time.Time
	AttachedAt   *time.Time
}

func (Upload) TableName() string { return "uploads" }

// Service stores uploads and hands out signed links to them. It implements Attacher.
type Service struct {
	db       *gorm.DB
	store    Storage
	key      []byte
	clock    clock.Clock
	urlTTL   time.Duration
	basePath string
	maxBytes int64
	// partialTTL is how long a resumable upload is kept after its last chunk.
	partialTTL time.Duration
	gate       gate
	log        *slog.Logger
	metrics    metrics
	// missingAfter is how long a declared attachment is shown on the way before it is shown
	// missing (pending.go).
	missingAfter time.Duration
}

var _ Attacher = (*Service)(nil)

// Options bound what uploads may hold at once.
type Options struct {
	// MaxConcurrent is how many uploads may be received (held in memory, up to maxBytes each) at
	// once per instance; 0 means DefaultMaxConcurrent.
	MaxConcurrent int
	// QueueWait is how long an upload waits for a free place before it is refused as busy.
	QueueWait time.Duration
	// MaxPerAccount is how many of the places one account may hold at once; 0 means
	// DefaultMaxPerAccount. Configuration keeps it at most MaxConcurrent.
	MaxPerAccount int
	// MissingAfter is how long after a record declared an attachment by client id (pending.go)
	// it is shown as on the way; after that, as missing (未送达). 0 means DefaultMissingAfter; the
	// app passes uploads.orphan_after.
	MissingAfter time.Duration
	// PartialTTL is how long a resumable upload that receives nothing is kept; 0 means
	// DefaultPartialTTL.
	PartialTTL time.Duration
	Log        *slog.Logger
}

// DefaultMaxConcurrent is Options.MaxConcurrent when none is set.
const DefaultMaxConcurrent = 8

// DefaultMaxPerAccount is Options.MaxPerAccount when none is set.
const DefaultMaxPerAccount = 2

// NewService wires uploads. signingKey signs download links (see SigningKey); urlTTL is how long a
// link works; basePath is where links point ("/api/v1/files"); maxBytes caps one file.
func NewService(db *gorm.DB, store Storage, signingKey []byte, clk clock.Clock, urlTTL time.Duration, basePath string, maxBytes int64, opt Options) *Service {
	if opt.MaxConcurrent <= 0 {
		opt.MaxConcurrent = DefaultMaxConcurrent
	}
	if opt.MaxPerAccount <= 0 {
		opt.MaxPerAccount = DefaultMaxPerAccount
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.MissingAfter <= 0 {
		opt.MissingAfter = DefaultMissingAfter
	}
	if opt.PartialTTL <= 0 {
		opt.PartialTTL = DefaultPartialTTL
	}
	return &Service{db: db, store: store, key: signingKey, clock: clk, urlTTL: urlTTL,
		basePath: strings.TrimRight(basePath, "/"), maxBytes: maxBytes, partialTTL: opt.PartialTTL,
		gate: gate{slots: make(chan struct{}, opt.MaxConcurrent), wait: opt.QueueWait,
			perAccount: opt.MaxPerAccount, held: map[int64]int{}}, log: opt.Log,
		metrics: newMetrics(), missingAfter: opt.MissingAfter}
}

// SigningKey derives the link-signing key from a configured secret, so the token secret can serve
// when no separate one is set without being used for two purposes as is.
func SigningKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("shiliu upload links v1"))
	return m.Sum(nil)
}

// ErrIncomplete is a file whose bytes could not be read to the end: the client went away or sent a
// broken multipart body.
var ErrIncomplete = errors.New("upload: file not received completely")

// MaxBytes is the size limit of one file.
func (s *Service) MaxBytes() int64 { return s.maxBytes }

var (
	errForbidden   = apperr.Forbidden("只有指导员和民族工作部门工作人员可以上传附件")
	errUnsupported = apperr.New(http.StatusUnsupportedMediaType, "unsupported_file_type",
		"不支持的文件类型:只能上传图片(JPEG、PNG、WebP、HEIC)或录音(AAC、M4A、MP3)").
		WithField("file", "文件内容不是支持的图片或录音格式")
	errHEIF = apperr.New(http.StatusUnsupportedMediaType, "unsupported_file_type",
		"无法处理这张HEIC图片,请在选择图片时使用“压缩”(JPEG格式)后重新上传").
		WithField("file", "无法去除该HEIC图片中的位置信息")
	errDamaged = apperr.New(http.StatusUnsupportedMediaType, "unsupported_file_type",
		"图片文件已损坏或格式不完整,请重新选择图片上传").
		WithField("file", "图片文件已损坏或格式不完整")
	errEmpty    = apperr.Field("file", "文件内容为空")
	errNotFound = apperr.New(http.StatusNotFound, "upload_not_found", "附件不存在或不在您的管辖范围内")
	errExpired  = apperr.New(http.StatusForbidden, "link_expired", "链接已过期,请返回上一页刷新后重试")
	errInvalid  = apperr.New(http.StatusForbidden, "link_invalid", "链接无效")
)

// TooLarge is the error of a file over the limit.
func TooLarge(maxBytes int64) *apperr.Error {
	limit := fmt.Sprintf("%dMB", maxBytes>>20)
	if maxBytes < 1<<20 {
		limit = fmt.Sprintf("%dKB", maxBytes>>10)
	}
	return apperr.New(http.StatusRequestEntityTooLarge, "file_too_large", "文件过大,单个文件不能超过"+limit).
		WithField("file", "文件不能超过"+limit)
}

// Input is one upload as the transport read it.
type Input struct {
	// Name is the client's file name, kept (sanitised) for display only.
	Name string
	// ClientID is the phone's id of this upload (a UUID), optional: the same uploader sending the
	// same id again gets the first upload back.
	ClientID string
	// Data is the file, as ReadFile returned it.
	Data []byte
}

// ReadFile reads a file from r into memory, at most MaxBytes: the caller holds a place from Admit.
func (s *Service) ReadFile(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, s.maxBytes+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, TooLarge(s.maxBytes)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrIncomplete, err)
	case int64(len(data)) > s.maxBytes:
		return nil, TooLarge(s.maxBytes)
	}
	return data, nil
}

// Create stores a file an instructor or staff member sent: its type is read from its bytes, its
// location metadata removed, then it is kept under a random key. With a client id it is
// idempotent per uploader: the first upload with that id is returned (created is false) and
// nothing more is stored, even if this file's bytes differ. The unique key on (uploader,
// client_id) decides between concurrent retries on any number of instances.
func (s *Service) Create(ctx context.Context, p *access.Principal, in Input) (v View, created bool, err error) {
	if err := mayUpload(p); err != nil {
		return View{}, false, err
	}
	clientID := strings.ToLower(strings.TrimSpace(in.ClientID))
	var chk validate.Checker
	chk.Check(clientID == "" || validUUID(clientID), "client_id", "上传编号(client_id)应为UUID,如3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17")
	if err := chk.Err(); err != nil {
		return View{}, false, err
	}
	data := in.Data
	switch {
	case int64(len(data)) > s.maxBytes:
		return View{}, false, TooLarge(s.maxBytes)
	case len(data) == 0:
		return View{}, false, errEmpty
	}
	if clientID != "" {
		if old, ok, err := s.byClientID(ctx, p.AccountID, clientID); err != nil || ok {
			if err != nil {
				return View{}, false, err
			}
			if old.OwnerID == nil {
				// A retry: the first try may have stored the file but not reached its record.
				if old, err = s.attachDeclared(ctx, old); err != nil {
					return View{}, false, err
				}
			}
			audit.Subject(ctx, "upload", old.ID, old.RegionCode)
			return s.view(old, s.clock.Now()), false, nil
		}
	}
	typ, ok := Detect(data)
	if !ok {
		return View{}, false, errUnsupported
	}
	data, err = Clean(typ, data)
	if err != nil {
		if typ == typeHEIC || typ == typeHEIF {
			return View{}, false, errHEIF.Wrap(err)
		}
		return View{}, false, errDamaged.Wrap(err)
	}
	sum := sha256.Sum256(data)
	now := s.clock.Now()
	key, err := newKey(now)
	if err != nil {
		return View{}, false, err
	}
	u := Upload{
		AccountID: p.AccountID, Kind: typ.Kind, MIME: typ.MIME, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), StorageKey: key, Name: CleanName(in.Name), RegionCode: p.RegionCode,
		CreatedAt: now,
	}
	if clientID != "" {
		u.ClientID = &clientID
	}
	if p.IsInstructor() {
		id := p.InstructorID
		u.InstructorID = &id
	}
	if err := s.store.Put(ctx, key, bytes.NewReader(data)); err != nil {
		return View{}, false, storageError(fmt.Errorf("store upload: %w", err))
	}
	if err := s.db.WithContext(ctx).Create(&u).Error; err != nil {
		// The row is what makes a file exist: without it, the bytes go.
		if derr := s.store.Delete(context.WithoutCancel(ctx), key); derr != nil {
			err = errors.Join(err, derr)
		}
		if clientID != "" && database.IsUniqueViolation(err) {
			// A concurrent retry with this client id won the insert.
			old, ok, lerr := s.byClientID(ctx, p.AccountID, clientID)
			if lerr != nil || !ok {
				return View{}, false, errors.Join(err, lerr)
			}
			if old.OwnerID == nil {
				if old, err = s.attachDeclared(ctx, old); err != nil {
					return View{}, false, err
				}
			}
			audit.Subject(ctx, "upload", old.ID, old.RegionCode)
			return s.view(old, s.clock.Now()), false, nil
		}
		return View{}, false, err
	}
	if clientID != "" {
		// A record may have declared this upload before it arrived (text first).
		if u, err = s.attachDeclared(ctx, u); err != nil {
			return View{}, false, err
		}
	}
	audit.Subject(ctx, "upload", u.ID, u.RegionCode)
	return s.view(u, now), true, nil
}

// attachDeclared attaches u to the owner that declared its client id, if any (pending.go), and
// returns it as stored afterwards. The upload is stored either way: a failure here is an error
// the phone retries, and the retry attaches it.
func (s *Service) attachDeclared(ctx context.Context, u Upload) (Upload, error) {
	if u.ClientID == nil {
		return u, nil
	}
	changed, err := s.resolve(ctx, u.AccountID, *u.ClientID)
	if err != nil || !changed {
		return u, err
	}
	var fresh Upload
	if err := s.db.WithContext(ctx).Where("id = ?", u.ID).Take(&fresh).Error; err != nil {
		return u, err
	}
	return fresh, nil
}

func (s *Service) byClientID(ctx context.Context, accountID int64, clientID string) (Upload, bool, error) {
	var rows []Upload
	err := s.db.WithContext(ctx).Where("account_id = ? AND client_id = ?", accountID, clientID).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return Upload{}, false, err
	}
	return rows[0], true, nil
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validUUID reports whether s (lower-cased) is a UUID in its canonical text form, as record
// client ids are.
func validUUID(s string) bool { return uuidRe.MatchString(s) }

func mayUpload(p *access.Principal) error {
	if !p.IsInstructor() && !p.IsStaff() {
		return errForbidden
	}
	return nil
}

// newKey is a random storage key under a directory per day.
func newKey(now time.Time) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return now.UTC().Format("2006/01/02") + "/" + hex.EncodeToString(b), nil
}

// CleanName keeps the base name of a client's file name without control or format characters,
// at most MaxNameLength characters, keeping the extension when it has to cut.
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == "/" || name == ".." {
		return ""
	}
	if utf8.RuneCountInString(name) <= MaxNameLength {
		return name
	}
	ext := path.Ext(name)
	if utf8.RuneCountInString(ext) > 10 {
		ext = ""
	}
	runes := []rune(strings.TrimSuffix(name, ext))
	return string(runes[:MaxNameLength-utf8.RuneCountInString(ext)]) + ext
}

// Get returns one upload with a fresh link: to its uploader, and to staff whose subtree holds its
// region (the owner's, once attached). Anyone else gets 404.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (View, error) {
	var u Upload
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return View{}, errNotFound
	}
	if err != nil {
		return View{}, err
	}
	own := p != nil && p.AccountID > 0 && u.AccountID == p.AccountID
	if !own && !p.CanSeeRegion(u.RegionCode) {
		return View{}, errNotFound
	}
	return s.view(u, s.clock.Now()), nil
}

// File is an upload's bytes, for a download.
type File struct {
	Body io.ReadCloser
	MIME string
	Size int64
	Name string
	// MaxAge is how long the link has left: how long a client may cache the bytes.
	MaxAge time.Duration
}

// Open checks a signed link and returns the file. The link is the only credential: the
// mini-program's <image> and audio players cannot send a bearer token.
func (s *Service) Open(ctx context.Context, id int64, exp, sig string) (File, error) {
	expires, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || sig == "" || !hmac.Equal([]byte(sig), []byte(s.sign(id, expires))) {
		return File{}, errInvalid
	}
	expiresAt := time.Unix(expires, 0)
	now := s.clock.Now()
	if !now.Before(expiresAt) {
		return File{}, errExpired
	}
	var u Upload
	err = s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return File{}, errNotFound
	}
	if err != nil {
		return File{}, err
	}
	body, err := s.store.Open(ctx, u.StorageKey)
	if errors.Is(err, ErrNotStored) {
		return File{}, errNotFound.Wrap(err)
	}
	if err != nil {
		return File{}, err
	}
	return File{Body: body, MIME: u.MIME, Size: u.Size, Name: u.Name, MaxAge: expiresAt.Sub(now)}, nil
}

func (s *Service) sign(id int64, expires int64) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%d:%d", id, expires)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// view signs a link valid for at least the TTL, ending on a whole minute so that the same file
// listed twice within a minute has the same URL and the phone's image cache can reuse it.
func (s *Service) view(u Upload, now time.Time) View {
	exp := now.Add(s.urlTTL).Add(time.Minute - time.Nanosecond).Truncate(time.Minute)
	return View{
		ID: u.ID, Kind: u.Kind, MIME: u.MIME, Size: u.Size, Name: u.Name,
		URL:       fmt.Sprintf("%s/%d?exp=%d&sig=%s", s.basePath, u.ID, exp.Unix(), s.sign(u.ID, exp.Unix())),
		ExpiresAt: clock.Local(exp),
	}
}

// Attach implements Attacher: inside the caller's transaction, each upload becomes the owner's
// and takes the owner's region. The uploads are locked by primary key, in id order, before they
// are changed, and changed by primary key alone: the orphan sweep deletes a row the same way
// (its row, then its index entries), so an attach that waits on a row being swept holds no index
// entry the sweep needs next, and neither is killed as a deadlock victim. A conditional update
// filtering on account and owner lets MySQL scan the account index instead, locking its entries
// before the rows. Only unattached uploads of p are claimed, so two concurrent attaches of one
// upload cannot both win.
func (s *Service) Attach(tx *gorm.DB, p *access.Principal, ids []int64, ownerKind string, ownerID int64, regionCode string) error {
	if len(ids) == 0 {
		return nil
	}
	if ownerKind == "" || len(ownerKind) > 32 || ownerID <= 0 || !region.ValidCode(regionCode) {
		return fmt.Errorf("upload: attach to %q %d in %q: bad owner", ownerKind, ownerID, regionCode)
	}
	if p == nil || p.AccountID <= 0 {
		return apperr.Field("attachments", "附件不存在或不是您上传的")
	}
	var uniq []int64
	seen := map[int64]bool{}
	for _, id := range ids {
		if id <= 0 {
			return apperr.Field("attachments", "附件编号无效")
		}
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	if len(uniq) > MaxAttachments {
		return apperr.Field("attachments", fmt.Sprintf("附件不能超过%d个", MaxAttachments))
	}
	var others int64
	if err := tx.Model(&Upload{}).Where("owner_kind = ? AND owner_id = ? AND id NOT IN ?", ownerKind, ownerID, uniq).
		Count(&others).Error; err != nil {
		return err
	}
	// Attachments declared by client id and not arrived yet count too (pending.go).
	var declared int64
	if err := tx.Model(&PendingAttachment{}).Where("owner_kind = ? AND owner_id = ?", ownerKind, ownerID).Count(&declared).Error; err != nil {
		return err
	}
	others += declared
	if others+int64(len(uniq)) > MaxAttachments {
		return apperr.Field("attachments", fmt.Sprintf("附件不能超过%d个", MaxAttachments))
	}
	var rows []Upload
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id", "account_id", "owner_kind", "owner_id").
		Where("id IN ?", uniq).Order("id").Find(&rows).Error; err != nil {
		return err
	}
	byID := map[int64]Upload{}
	for _, u := range rows {
		byID[u.ID] = u
	}
	var claim []int64
	for _, id := range uniq {
		u, ok := byID[id]
		switch {
		case !ok || u.AccountID != p.AccountID:
			return apperr.Field("attachments", fmt.Sprintf("附件%d不存在或不是您上传的", id))
		case u.OwnerID == nil:
			claim = append(claim, id)
		case *u.OwnerID != ownerID || u.OwnerKind != ownerKind:
			return apperr.Field("attachments", fmt.Sprintf("附件%d已用于其他记录,请重新上传", id))
		}
	}
	if len(claim) == 0 {
		return nil
	}
	return tx.Model(&Upload{}).Where("id IN ?", claim).
		Updates(map[string]any{"owner_kind": ownerKind, "owner_id": ownerID, "region_code": regionCode, "attached_at": s.clock.Now()}).
		Error
}

// Detach lets go of the attachments of an owner that are not in keep, inside the caller's
// transaction: they become unattached again (keeping the owner's region, so staff who saw them
// still may) and the orphan sweep deletes them in time. For owners whose attachments are edited,
// such as a meeting's minutes.
func (s *Service) Detach(tx *gorm.DB, ownerKind string, ownerID int64, keep []int64) error {
	q := tx.Model(&Upload{}).Where("owner_kind = ? AND owner_id = ?", ownerKind, ownerID)
	if len(keep) > 0 {
		q = q.Where("id NOT IN ?", keep)
	}
	return q.Updates(map[string]any{"owner_kind": "", "owner_id": nil, "attached_at": nil}).Error
}

// MoveUnattached files an instructor's uploads that are not attached yet under regionCode, inside
// the caller's transaction: an instructor moved to another county takes them along, so the new
// county reads them and the old one no longer does. Attached ones stay with their owner.
func (s *Service) MoveUnattached(ctx context.Context, tx *gorm.DB, instructorID int64, regionCode string) error {
	return tx.WithContext(ctx).Model(&Upload{}).Where("instructor_id = ? AND owner_id IS NULL", instructorID).
		Update("region_code", regionCode).Error
}

// List implements Attacher: the attachments of each owner, oldest first, with fresh links.
func (s *Service) List(ctx context.Context, ownerKind string, ownerIDs []int64) (map[int64][]View, error) {
	out := map[int64][]View{}
	if len(ownerIDs) == 0 {
		return out, nil
	}
	var rows []Upload
	if err := s.db.WithContext(ctx).Where("owner_kind = ? AND owner_id IN ?", ownerKind, ownerIDs).
		Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	now := s.clock.Now()
	for _, u := range rows {
		out[*u.OwnerID] = append(out[*u.OwnerID], s.view(u, now))
	}
	return out, nil
}
