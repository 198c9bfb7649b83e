// Package upload stores attachments (photos, voice notes) sent from phones: recognised by their
// bytes, location metadata stripped, kept behind a storage interface, served through short-lived
// signed URLs after a scope check.
package upload

import (
	"context"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"gorm.io/gorm"
)

// View is an attachment as the API shows it inside a record.
type View struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"` // image or audio
	MIME      string    `json:"mime"`
	Size      int64     `json:"size"`
	Name      string    `json:"name"`
	URL       string    `json:"url"` // signed, short-lived
	ExpiresAt time.Time `json:"url_expires_at"`
}

// Attacher is what records (and later bulletins, tasks) need from uploads. Attach runs inside the
// caller's transaction: each id must have been uploaded by p's account and not be attached to a
// different owner (re-attaching to the same owner is a no-op, so retries are safe); the owner's
// region is stored so downloads can be scope-checked. A bad id is a 400 naming "attachments".
// List returns the attachments of several owners with fresh signed URLs.
type Attacher interface {
	Attach(tx *gorm.DB, p *access.Principal, ids []int64, ownerKind string, ownerID int64, regionCode string) error
	List(ctx context.Context, ownerKind string, ownerIDs []int64) (map[int64][]View, error)
}
