package outbox

import "time"

// The kinds of a bulletin corrected or withdrawn after it was published.
var (
	BulletinCorrectedKind = declare[BulletinCorrected]("bulletin.corrected")
	BulletinWithdrawnKind = declare[BulletinWithdrawn]("bulletin.withdrawn")
)

// BulletinChange is what both notices carry: the bulletin and the instructors who had opened it
// when it changed (those who had not will see the new state when they open it).
type BulletinChange struct {
	BulletinID    int64     `json:"bulletin_id"`
	Title         string    `json:"title"`
	RegionCode    string    `json:"region_code"` // the issuer's
	At            time.Time `json:"at"`
	InstructorIDs []int64   `json:"instructor_ids"` // the readers, each once; never null
}

// BulletinCorrected tells a bulletin's readers that it was corrected, and why.
type BulletinCorrected struct {
	BulletinChange
	Version int    `json:"version"`
	Note    string `json:"note"`
}

// BulletinWithdrawn tells a bulletin's readers that it was withdrawn, and why.
type BulletinWithdrawn struct {
	BulletinChange
	Reason string `json:"reason"`
}

// Change is the part both payloads share.
func (c BulletinChange) Change() BulletinChange { return c }

func (BulletinCorrected) Kind() Kind { return BulletinCorrectedKind }
func (BulletinWithdrawn) Kind() Kind { return BulletinWithdrawnKind }
func (BulletinCorrected) payload()   {}
func (BulletinWithdrawn) payload()   {}
