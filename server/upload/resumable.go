package upload

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Resumable uploads (the tus protocol, served by httpapi): a file goes up in chunks that survive
// a dropped connection and an app restart. The state of each partial upload is a database row
// (so any instance answers any request of it) and each chunk's bytes are an object in the same
// Storage as finished uploads, under "partial/<partial id>/<random>": nothing is appended in
// place, so the partials move to an object store along with the uploads (Storage is the one
// interface they use). Two PATCHes of the same offset, on one instance or two, race on a
// conditional update of the row: one counts, the other's bytes are deleted and it is told the
// offset moved. When the last byte has arrived the chunks are read back and the file goes through
// Create, exactly as a file sent whole: sniffed, cleaned, capped, idempotent by client_id.

// DefaultPartialTTL is how long a partial upload is kept after its last chunk arrived.
const DefaultPartialTTL = 24 * time.Hour

// Partial is a resumable upload under way (or finished: UploadID is then the upload it became).
type Partial struct {
	ID        string
	AccountID int64
	ClientID  *string
	Name      string
	Length    int64
	Offset    int64 `gorm:"column:received"`
	UploadID  *int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (Partial) TableName() string { return "upload_partials" }

// chunk is one stored piece of a partial: its bytes [FirstByte, FirstByte+Size).
type chunk struct {
	PartialID  string
	FirstByte  int64
	Size       int64
	StorageKey string
}

func (chunk) TableName() string { return "upload_chunks" }

var (
	errPartialNotFound = apperr.New(http.StatusNotFound, "upload_not_found", "该上传不存在或已过期,请重新上传")
	// ErrOffsetMismatch answers a chunk sent for another offset than where the upload stands: the
	// phone asks again (HEAD) and goes on from the server's offset.
	ErrOffsetMismatch = apperr.New(http.StatusConflict, "upload_offset_mismatch",
		"上传进度与服务器不一致,请重新获取进度后继续上传").WithField("Upload-Offset", "与服务器已收到的字节数不一致")
	errPastLength = apperr.New(http.StatusRequestEntityTooLarge, "upload_length_exceeded",
		"上传的数据超过了创建上传时声明的文件大小").WithField("Upload-Length", "数据超过声明的文件大小")
	errBadLength = apperr.Field("Upload-Length", "文件大小(Upload-Length)应为正整数")
)

// PartialInput is what a phone declares when it starts a resumable upload.
type PartialInput struct {
	Length   int64
	Name     string
	ClientID string
}

// CreatePartial starts a resumable upload of in.Length bytes. With a client id it is idempotent
// per uploader: the partial already started with that id is returned (where it stands), so a
// creation whose answer was lost does not start over. A finished or expired one is replaced.
func (s *Service) CreatePartial(ctx context.Context, p *access.Principal, in PartialInput) (Partial, error) {
	if err := mayUpload(p); err != nil {
		return Partial{}, err
	}
	clientID := strings.ToLower(strings.TrimSpace(in.ClientID))
	var chk validate.Checker
	chk.Check(clientID == "" || validUUID(clientID), "client_id", "上传编号(client_id)应为UUID,如3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17")
	if err := chk.Err(); err != nil {
		return Partial{}, err
	}
	switch {
	case in.Length <= 0:
		return Partial{}, errBadLength
	case in.Length > s.maxBytes:
		return Partial{}, TooLarge(s.maxBytes)
	}
	now := s.clock.Now()
	id, err := partialID()
	if err != nil {
		return Partial{}, err
	}
	if clientID == "" {
		// Create is idempotent by client id; a partial without one gets its own, so that two
		// completions of it (a retry on another instance) still make one upload.
		clientID = id[0:8] + "-" + id[8:12] + "-4" + id[13:16] + "-8" + id[17:20] + "-" + id[20:32]
	} else {
		var old Partial
		err := s.db.WithContext(ctx).Where("account_id = ? AND client_id = ?", p.AccountID, clientID).Take(&old).Error
		switch {
		case err == nil && old.UploadID == nil && now.Before(old.ExpiresAt) && old.Length == in.Length:
			return old, nil
		case err == nil:
			if _, err := s.dropPartial(ctx, old, false); err != nil {
				return Partial{}, err
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return Partial{}, err
		}
	}
	pt := Partial{ID: id, AccountID: p.AccountID, ClientID: &clientID, Name: CleanName(in.Name), Length: in.Length,
		CreatedAt: now, ExpiresAt: now.Add(s.partialTTL)}
	if err := s.db.WithContext(ctx).Create(&pt).Error; err != nil {
		if isDuplicate(err) {
			// a concurrent creation with the same client id won: use it
			var won Partial
			if err := s.db.WithContext(ctx).Where("account_id = ? AND client_id = ?", p.AccountID, clientID).Take(&won).Error; err != nil {
				return Partial{}, err
			}
			return won, nil
		}
		return Partial{}, err
	}
	return pt, nil
}

// isDuplicate reports a unique key violation, on MySQL or SQLite.
func isDuplicate(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "Duplicate entry") || strings.Contains(msg, "UNIQUE constraint failed")
}

func partialID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Partial returns a partial upload of p's where it stands (HEAD): 404 when it is not p's, is
// unknown, or has expired.
func (s *Service) Partial(ctx context.Context, p *access.Principal, id string) (Partial, error) {
	if err := mayUpload(p); err != nil {
		return Partial{}, err
	}
	if len(id) != 32 {
		return Partial{}, errPartialNotFound
	}
	var pt Partial
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&pt).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return Partial{}, errPartialNotFound
	case err != nil:
		return Partial{}, err
	case pt.AccountID != p.AccountID || !s.clock.Now().Before(pt.ExpiresAt):
		return Partial{}, errPartialNotFound
	}
	return pt, nil
}

// Append stores data as the bytes of partial id from offset on (PATCH), and answers where the
// upload stands. The call that brings the last byte (or, once all bytes are there, any call at the
// end with no data: a retried completion) turns the partial into an upload through Create and
// returns it as well. An offset other than the server's is ErrOffsetMismatch.
func (s *Service) Append(ctx context.Context, p *access.Principal, id string, offset int64, data []byte) (Partial, *View, error) {
	pt, err := s.Partial(ctx, p, id)
	if err != nil {
		return Partial{}, nil, err
	}
	if offset != pt.Offset {
		return pt, nil, ErrOffsetMismatch
	}
	if offset+int64(len(data)) > pt.Length {
		return pt, nil, errPastLength
	}
	if len(data) > 0 {
		if pt, err = s.storeChunk(ctx, pt, data); err != nil {
			return pt, nil, err
		}
	}
	if pt.Offset < pt.Length {
		return pt, nil, nil
	}
	v, err := s.complete(ctx, p, pt)
	if err != nil {
		return pt, nil, err
	}
	return pt, &v, nil
}

// storeChunk keeps data as the chunk at pt.Offset: the bytes first, then the row, which counts
// only if the offset is still pt's (else the bytes go again).
func (s *Service) storeChunk(ctx context.Context, pt Partial, data []byte) (Partial, error) {
	suffix, err := partialID()
	if err != nil {
		return pt, err
	}
	key := "partial/" + pt.ID + "/" + suffix
	// Kept even if the phone went away while it was being written: it sent these bytes.
	ctx = context.WithoutCancel(ctx)
	if err := s.store.Put(ctx, key, bytes.NewReader(data)); err != nil {
		return pt, storageError(fmt.Errorf("store chunk: %w", err))
	}
	now := s.clock.Now()
	n := int64(len(data))
	counted := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Partial{}).Where("id = ? AND received = ? AND upload_id IS NULL", pt.ID, pt.Offset).
			Updates(map[string]any{"received": pt.Offset + n, "expires_at": now.Add(s.partialTTL)})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		counted = true
		return tx.Create(&chunk{PartialID: pt.ID, FirstByte: pt.Offset, Size: n, StorageKey: key}).Error
	})
	if err != nil || !counted {
		if derr := s.store.Delete(ctx, key); derr != nil {
			s.log.WarnContext(ctx, "chunk of a partial upload not deleted", "key", key, "err", derr)
		}
		if err != nil {
			return pt, err
		}
		return pt, ErrOffsetMismatch
	}
	pt.Offset += n
	pt.ExpiresAt = now.Add(s.partialTTL)
	return pt, nil
}

// complete turns a partial whose bytes have all arrived into an upload (or returns the one it
// became). Create's idempotency by client id makes concurrent completions one upload.
func (s *Service) complete(ctx context.Context, p *access.Principal, pt Partial) (View, error) {
	if pt.UploadID != nil {
		v, err := s.Get(ctx, p, *pt.UploadID)
		if apperr.Is(err, "upload_not_found") {
			return View{}, errPartialNotFound.Wrap(err)
		}
		return v, err
	}
	chunks, data, err := s.assemble(ctx, pt)
	if err != nil {
		// Another instance may have completed it meanwhile and deleted the chunks.
		var again Partial
		if s.db.WithContext(ctx).Where("id = ?", pt.ID).Take(&again).Error == nil && again.UploadID != nil {
			return s.complete(ctx, p, again)
		}
		return View{}, err
	}
	cid := ""
	if pt.ClientID != nil {
		cid = *pt.ClientID
	}
	v, _, err := s.Create(ctx, p, Input{Name: pt.Name, ClientID: cid, Data: data})
	if err != nil {
		return View{}, err
	}
	ctx = context.WithoutCancel(ctx)
	if err := s.db.WithContext(ctx).Model(&Partial{}).Where("id = ?", pt.ID).Update("upload_id", v.ID).Error; err != nil {
		return View{}, err
	}
	s.dropChunks(ctx, pt.ID, chunks)
	return v, nil
}

// assemble reads a partial's chunks back, in order, as the whole file.
func (s *Service) assemble(ctx context.Context, pt Partial) ([]chunk, []byte, error) {
	var chunks []chunk
	if err := s.db.WithContext(ctx).Where("partial_id = ?", pt.ID).Order("first_byte").Find(&chunks).Error; err != nil {
		return nil, nil, err
	}
	data := make([]byte, 0, pt.Length)
	for _, c := range chunks {
		if c.FirstByte != int64(len(data)) {
			return nil, nil, fmt.Errorf("partial upload %s: chunk at %d, expected %d", pt.ID, c.FirstByte, len(data))
		}
		b, err := s.readChunk(ctx, c)
		if err != nil {
			return nil, nil, err
		}
		data = append(data, b...)
	}
	if int64(len(data)) != pt.Length {
		return nil, nil, fmt.Errorf("partial upload %s: %d bytes stored of %d", pt.ID, len(data), pt.Length)
	}
	return chunks, data, nil
}

func (s *Service) readChunk(ctx context.Context, c chunk) ([]byte, error) {
	r, err := s.store.Open(ctx, c.StorageKey)
	if err != nil {
		return nil, fmt.Errorf("open chunk %s: %w", c.StorageKey, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, c.Size+1))
	if err != nil {
		return nil, fmt.Errorf("read chunk %s: %w", c.StorageKey, err)
	}
	if int64(len(b)) != c.Size {
		return nil, fmt.Errorf("chunk %s: %d bytes, expected %d", c.StorageKey, len(b), c.Size)
	}
	return b, nil
}

// dropChunks deletes chunk rows and their bytes; a file left behind is only logged.
func (s *Service) dropChunks(ctx context.Context, partialID string, chunks []chunk) {
	if err := s.db.WithContext(ctx).Where("partial_id = ?", partialID).Delete(&chunk{}).Error; err != nil {
		s.log.WarnContext(ctx, "chunk rows of a partial upload not deleted", "partial", partialID, "err", err)
		return
	}
	for _, c := range chunks {
		if err := s.store.Delete(ctx, c.StorageKey); err != nil {
			s.log.WarnContext(ctx, "chunk of a partial upload not deleted", "key", c.StorageKey, "err", err)
		}
	}
}

// DeletePartial ends a partial upload of p's (tus termination): its chunks are deleted. An upload
// it already became stays.
func (s *Service) DeletePartial(ctx context.Context, p *access.Principal, id string) error {
	pt, err := s.Partial(ctx, p, id)
	if err != nil {
		return err
	}
	_, err = s.dropPartial(ctx, pt, false)
	return err
}

// dropPartial deletes a partial's row (only while it has not expired anew when onlyExpired) and
// then its chunks; false when another instance deleted it first.
func (s *Service) dropPartial(ctx context.Context, pt Partial, onlyExpired bool) (bool, error) {
	ctx = context.WithoutCancel(ctx)
	q := s.db.WithContext(ctx).Where("id = ?", pt.ID)
	if onlyExpired {
		q = q.Where("expires_at < ?", s.clock.Now())
	}
	res := q.Delete(&Partial{})
	if res.Error != nil {
		return false, res.Error
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	var chunks []chunk
	if err := s.db.WithContext(ctx).Where("partial_id = ?", pt.ID).Find(&chunks).Error; err != nil {
		return true, err
	}
	s.dropChunks(ctx, pt.ID, chunks)
	return true, nil
}

// DeleteExpiredPartials deletes the partial uploads abandoned longer than their expiry (no chunk
// for the partial TTL), with their chunks; finished ones go too (their upload stays). Several
// instances may run it at once. It returns how many it deleted.
func (s *Service) DeleteExpiredPartials(ctx context.Context) (int, error) {
	deleted := 0
	for {
		var rows []Partial
		if err := s.db.WithContext(ctx).Select("id").Where("expires_at < ?", s.clock.Now()).
			Order("expires_at").Limit(orphanBatch).Find(&rows).Error; err != nil {
			return deleted, err
		}
		for _, pt := range rows {
			gone, err := s.dropPartial(ctx, pt, true)
			if err != nil {
				return deleted, err
			}
			if gone {
				deleted++
			}
		}
		if len(rows) < orphanBatch {
			return deleted, nil
		}
	}
}
