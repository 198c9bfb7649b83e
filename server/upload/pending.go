package upload

import (
	"context"
	"fmt"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Text first: a record may be submitted before its photos, its attachments declared by the upload
// client_ids the phone will send them with. Each declaration is a row of pending_attachments
// (migration 42), keyed like an upload by (account, client_id); it goes when the upload with that
// client_id from the same account is attached to the owner, whichever arrives first:
//
//   - Declare (in the owner's transaction) inserts the row, then looks for the upload with a
//     locking read: an upload already there is attached at once and the row deleted.
//   - Create, once an upload with a client_id is stored (and on every retry of it), runs resolve:
//     a locking read of the row, then the upload is attached and the row deleted.
//
// Both take the row first and the upload second, so they never wait for each other in opposite
// order. An upload stored after the owner's transaction read "no upload" commits after that
// transaction inserted its row, so the resolve that follows the upload finds the row (waiting for
// the owner's commit if needed). Nothing is kept in memory: any instance may take either side.
// Client ids are the uploader's own: another account's upload with the same client_id is never
// matched, so a record cannot claim someone else's file.

// PendingAttachment is an attachment declared by client_id whose upload has not arrived.
type PendingAttachment struct {
	ID         int64
	AccountID  int64
	ClientID   string
	OwnerKind  string
	OwnerID    int64
	RegionCode string
	CreatedAt  time.Time
}

func (PendingAttachment) TableName() string { return "pending_attachments" }

// Pending states as record views show them.
const (
	PendingOnTheWay = "pending" // 照片上传中
	PendingMissing  = "missing" // 未送达: not arrived within the orphan window
)

// PendingView is a declared attachment not arrived yet, as the API shows it inside its owner.
type PendingView struct {
	ClientID   string    `json:"client_id"`
	State      string    `json:"state"`
	StateName  string    `json:"state_name"`
	DeclaredAt time.Time `json:"declared_at"`
}

// Pender is what owners taking attachments by client id (records) need besides Attacher.
type Pender interface {
	Declare(tx *gorm.DB, p *access.Principal, clientIDs []string, ownerKind string, ownerID int64, regionCode string) error
	ListPending(ctx context.Context, ownerKind string, ownerIDs []int64) (map[int64][]PendingView, error)
}

var _ Pender = (*Service)(nil)

// DefaultMissingAfter is Options.MissingAfter when none is set: the default orphan window.
const DefaultMissingAfter = 7 * 24 * time.Hour

// ValidClientID reports whether s is an upload client id as Create takes it (a lower-case UUID).
func ValidClientID(s string) bool { return validUUID(s) }

// Declare records, inside the owner's transaction, that the owner's attachments include the
// uploads p will send (or sent) with these client ids (lower-case UUIDs, checked by the caller).
// An upload already stored is attached now. Declaring a client id again for the same owner is a
// no-op; one declared for, or an upload attached to, another owner is a 400 on field
// "attachment_client_ids".
func (s *Service) Declare(tx *gorm.DB, p *access.Principal, clientIDs []string, ownerKind string, ownerID int64, regionCode string) error {
	if len(clientIDs) == 0 {
		return nil
	}
	if p == nil || p.AccountID <= 0 {
		return apperr.Field("attachment_client_ids", "只有上传者本人可以声明附件")
	}
	if len(clientIDs) > MaxAttachments {
		return apperr.Field("attachment_client_ids", fmt.Sprintf("附件不能超过%d个", MaxAttachments))
	}
	now := s.clock.Now()
	for _, cid := range clientIDs {
		if !validUUID(cid) {
			return apperr.Field("attachment_client_ids", "照片编号应为UUID")
		}
		var rows []PendingAttachment
		if err := tx.Where("account_id = ? AND client_id = ?", p.AccountID, cid).Limit(1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) > 0 {
			if rows[0].OwnerKind == ownerKind && rows[0].OwnerID == ownerID {
				continue
			}
			return errDeclaredElsewhere(cid)
		}
		row := PendingAttachment{AccountID: p.AccountID, ClientID: cid, OwnerKind: ownerKind, OwnerID: ownerID,
			RegionCode: regionCode, CreatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			if database.IsUniqueViolation(err) {
				return errDeclaredElsewhere(cid)
			}
			return err
		}
		var ups []Upload
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id", "owner_kind", "owner_id").
			Where("account_id = ? AND client_id = ?", p.AccountID, cid).Limit(1).Find(&ups).Error; err != nil {
			return err
		}
		if len(ups) == 0 {
			continue // on the way
		}
		u := ups[0]
		switch {
		case u.OwnerID == nil:
			if err := tx.Model(&Upload{}).Where("id = ?", u.ID).
				Updates(map[string]any{"owner_kind": ownerKind, "owner_id": ownerID, "region_code": regionCode, "attached_at": now}).Error; err != nil {
				return err
			}
		case *u.OwnerID != ownerID || u.OwnerKind != ownerKind:
			return apperr.Field("attachment_client_ids", fmt.Sprintf("照片%s已用于其他记录,请重新选择", cid))
		}
		if err := tx.Where("id = ?", row.ID).Delete(&PendingAttachment{}).Error; err != nil {
			return err
		}
	}
	return nil
}

func errDeclaredElsewhere(cid string) error {
	return apperr.Field("attachment_client_ids", fmt.Sprintf("照片编号%s已被另一条记录使用", cid))
}

// resolve attaches the upload of accountID with clientID to the owner that declared it, if one
// did and it is still unattached; idempotent, safe on any instance and any number of times.
func (s *Service) resolve(ctx context.Context, accountID int64, clientID string) (changed bool, err error) {
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		changed = false
		var rows []PendingAttachment
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("account_id = ? AND client_id = ?", accountID, clientID).Limit(1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		pa := rows[0]
		var ups []Upload
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id", "owner_kind", "owner_id").
			Where("account_id = ? AND client_id = ?", accountID, clientID).Limit(1).Find(&ups).Error; err != nil {
			return err
		}
		if len(ups) == 0 {
			return nil
		}
		u := ups[0]
		if u.OwnerID == nil {
			if err := tx.Model(&Upload{}).Where("id = ? AND owner_id IS NULL", u.ID).
				Updates(map[string]any{"owner_kind": pa.OwnerKind, "owner_id": pa.OwnerID, "region_code": pa.RegionCode,
					"attached_at": s.clock.Now()}).Error; err != nil {
				return err
			}
		} else if *u.OwnerID != pa.OwnerID || u.OwnerKind != pa.OwnerKind {
			// Taken by id for something else meanwhile: the declaration stays, and shows as missing
			// in time.
			return nil
		}
		changed = true
		return tx.Where("id = ?", pa.ID).Delete(&PendingAttachment{}).Error
	})
	return changed, err
}

// ListPending returns the declared attachments of each owner that have not arrived, oldest
// first: on the way, or missing once the orphan window (Options.MissingAfter) has passed since
// the declaration. A late upload is still attached.
func (s *Service) ListPending(ctx context.Context, ownerKind string, ownerIDs []int64) (map[int64][]PendingView, error) {
	out := map[int64][]PendingView{}
	if len(ownerIDs) == 0 {
		return out, nil
	}
	var rows []PendingAttachment
	if err := s.db.WithContext(ctx).Where("owner_kind = ? AND owner_id IN ?", ownerKind, ownerIDs).
		Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	now := s.clock.Now()
	for _, r := range rows {
		v := PendingView{ClientID: r.ClientID, State: PendingOnTheWay, StateName: "照片上传中", DeclaredAt: clock.Local(r.CreatedAt)}
		if !now.Before(r.CreatedAt.Add(s.missingAfter)) {
			v.State, v.StateName = PendingMissing, "未送达"
		}
		out[r.OwnerID] = append(out[r.OwnerID], v)
	}
	return out, nil
}
