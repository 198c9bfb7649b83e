package outbox

// The kinds of the filing chain (备案, measures §二(四) "及时报备").
var (
	FilingSubmittedKind = declare[FilingSubmitted]("filing.submitted")
	FilingAcceptedKind  = declare[FilingAccepted]("filing.accepted")
	FilingReturnedKind  = declare[FilingReturned]("filing.returned")
	FilingStaleKind     = declare[FilingStale]("filing.stale")
)

// Filing is what every filing notice carries: who filed to whom.
type Filing struct {
	FilingID        int64  `json:"filing_id"`
	Level           string `json:"level"`       // county (to the city), city (to the province)
	RegionCode      string `json:"region_code"` // the filer
	ParentCode      string `json:"parent_code"` // the level that accepts or returns it
	InstructorCount int    `json:"instructor_count"`
}

// FilingSubmitted tells the receiving level that a filing arrived.
type FilingSubmitted struct {
	Filing
	Note string `json:"note"`
}

// FilingAccepted tells the filer that its filing was accepted.
type FilingAccepted struct {
	Filing
}

// FilingReturned tells the filer that its filing was returned, and why.
type FilingReturned struct {
	Filing
	Reason string `json:"reason"`
}

// Notice is the part the filing payloads share.
func (f Filing) Notice() Filing { return f }

// FilingStale reminds a county that its roster changed after its last accepted filing.
type FilingStale struct {
	CountyCode       string `json:"county_code"`
	AcceptedFilingID int64  `json:"accepted_filing_id"`
	AcceptedOn       string `json:"accepted_on"` // the accepted filing's date, 2006-01-02
	StaleSince       string `json:"stale_since"` // when the sweep first saw the change, 2006-01-02
	Days             int    `json:"days"`        // since the accepted filing
}

func (FilingSubmitted) Kind() Kind { return FilingSubmittedKind }
func (FilingAccepted) Kind() Kind  { return FilingAcceptedKind }
func (FilingReturned) Kind() Kind  { return FilingReturnedKind }
func (FilingStale) Kind() Kind     { return FilingStaleKind }
func (FilingSubmitted) payload()   {}
func (FilingAccepted) payload()    {}
func (FilingReturned) payload()    {}
func (FilingStale) payload()       {}
