package outbox

import "time"

// RecordSteps are the kinds every record kind writes on the steps all kinds share.
type RecordSteps struct {
	Submitted, Updated, Returned, Resubmitted, Withdrawn Kind
}

func recordSteps(kind string) RecordSteps {
	return RecordSteps{
		Submitted:   declare[Record](kind + ".submitted"),
		Updated:     declare[Record](kind + ".updated"),
		Returned:    declare[Record](kind + ".returned"),
		Resubmitted: declare[Record](kind + ".resubmitted"),
		Withdrawn:   declare[Record](kind + ".withdrawn"),
	}
}

// The kinds field records write: the shared steps of each record kind and the steps of its own
// workflow.
var (
	VisitSteps     = recordSteps("visit")
	SentimentSteps = recordSteps("sentiment")
	TipSteps       = recordSteps("tip")
	MediationSteps = recordSteps("mediation")

	SentimentForwarded = declare[Record]("sentiment.forwarded")
	SentimentAnswered  = declare[Record]("sentiment.answered")
	SentimentClosed    = declare[Record]("sentiment.closed")

	TipAcknowledged = declare[Record]("tip.acknowledged")
	TipHandling     = declare[Record]("tip.handling")
	TipResolved     = declare[Record]("tip.resolved")
	TipEscalated    = declare[Record]("tip.escalated")
	TipDuplicate    = declare[Record]("tip.duplicate")

	MediationFollowedUp = declare[Record]("mediation.followed_up")
)

// Actor is who took a step: an account with its role, or the system.
type Actor struct {
	AccountID int64  `json:"account_id"`
	Role      string `json:"role"`
	Name      string `json:"name"`
}

// RecordFacts are what a step adds beyond the record itself; the record's timeline shows them
// too. Each is set only by the steps named.
type RecordFacts struct {
	Level       string     `json:"level,omitempty"`        // every step of a tip
	AckDeadline *time.Time `json:"ack_deadline,omitempty"` // a tip waiting for acknowledgement
	EscalatedTo string     `json:"escalated_to,omitempty"` // tip escalated: "city" or "province"
	Automatic   bool       `json:"automatic,omitempty"`    // tip escalated by the system at its deadline
	Deadline    *time.Time `json:"deadline,omitempty"`     // the deadline an automatic escalation missed
	DuplicateOf int64      `json:"duplicate_of,omitempty"` // tip marked as a duplicate of that one
	Original    int64      `json:"original,omitempty"`     // a duplicate moved along with its original
	Department  string     `json:"department,omitempty"`   // sentiment forwarded to
	Answer      string     `json:"answer,omitempty"`       // sentiment answered
	FollowupID  int64      `json:"followup_id,omitempty"`  // mediation followed up
}

// Record is a step of a field record (visit, sentiment report, tip, mediation): the record as it
// now is, the step and who took it.
type Record struct {
	Event      Kind   `json:"-"`
	RecordID   int64  `json:"record_id"`
	RecordKind string `json:"record_kind"`
	Title      string `json:"title"`
	Action     string `json:"action"`
	FromStatus string `json:"from_status"`
	Status     string `json:"status"`
	Note       string `json:"note"`
	AuthorID   int64  `json:"author_id"` // an instructor id
	UnitID     int64  `json:"unit_id"`
	Actor      Actor  `json:"actor"`
	RecordFacts
}

func (r Record) Kind() Kind      { return r.Event }
func (r *Record) setKind(k Kind) { r.Event = k }
func (Record) payload()          {}
