package outbox

import "time"

// The kinds of a bulletin corrected or withdrawn after it was published.
var (
	BulletinCorrectedKind = declare[BulletinCorrected]("bulletin.corrected")
	BulletinWithdrawnKind = declare[BulletinWithdrawn]("bulletin.withdrawn")
)

// BulletinChange is what both notices carry. They are for the instructors who had opened the
// bulletin by At (its read receipts then); those who had not see the new state when they open it.
// The readers are not listed here: a province-wide bulletin has tens of thousands, more than an
// event's payload holds.
type BulletinChange struct {
	BulletinID int64     `json:"bulletin_id"`
	Title      string    `json:"title"`
	RegionCode string    `json:"region_code"` // the issuer's
	At         time.Time `json:"at"`
	Readers    int64     `json:"readers"` // how many had read it at At
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
