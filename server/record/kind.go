// Package record is the field records instructors submit from their phones: visit logs, sentiment
// reports, risk tips and mediation records. One core owns what they share (author, unit, region,
// client id, title, time, place, attachments, status, versions, timeline, outbox events, and the
// common edit → return → resubmit → withdraw flow); each kind adds its own fields, list filters and
// staff workflow in one file.
package record

import (
	"slices"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/roster"
	"gorm.io/gorm"
)

// Code is an entry of a code list, the same shape as the roster's so GET /dictionaries merges them.
type Code = roster.Code

// Kind is one kind of record. Adding a fifth kind is one file declaring a *Kind and its Detail
// type, one line in kinds and a migration creating its detail table; routes, dictionaries and
// the common flow follow from the declaration.
type Kind struct {
	Name  string // code ("tip"); also the key of the kind's own fields in request and response bodies
	Path  string // URL collection ("tips")
	Label string
	// Steps are the outbox kinds of the steps every kind shares (outbox declares them).
	Steps outbox.RecordSteps
	// Initial is the status on submission and after resubmission; records in a Final status are done.
	Initial  string
	Final    []string
	Statuses []Code // the kind's own statuses; returned and withdrawn are common to all kinds
	Codes    map[string][]Code
	Actions  []Action // staff workflow beyond the common return/resubmit/withdraw
	New      func() Detail
	// Load reads the detail rows of the given records (and whatever else the view needs).
	Load func(db *gorm.DB, ids []int64) (map[int64]Detail, error)
	// Filter applies the kind's own list filters, read by query parameter name. Optional.
	Filter func(q *gorm.DB, get func(string) string, f *fields) *gorm.DB
	// Prepare runs in every change's transaction before the detail is saved (tips set or clear
	// their acknowledge deadline). Optional.
	Prepare func(c *change) error
	// Guard may refuse a staff action on a record (a duplicate tip is acted on through its
	// original). Optional.
	Guard func(c *change) error
	// After runs in every change's transaction once the record is saved (tips move their
	// duplicates along). Optional.
	After func(c *change) error
	// Columns are the kind's own columns in exports, after the common ones. Optional.
	Columns []Column
}

// Detail is a kind's own fields: the row of its detail table. Kinds read request fields one by
// one (never a mass bind), so a client cannot set what staff or the server set.
type Detail interface {
	recordID() int64
	setRecordID(id int64)
	// apply reads the kind's fields from a submission or a patch; absent fields stay.
	apply(f *fields)
	// check validates the whole detail after apply.
	check(f *fields)
	// text is what keyword search reads besides the title.
	text() string
	// view is the kind's part of the record as the API shows it.
	view() any
}

// Who may take an action.
type Who int

const (
	ByStaff         Who = iota // staff whose region holds the record
	ByAuthor                   // the instructor who submitted it
	ByAuthorOrStaff            // either
)

// Action is one step of a workflow, POST /api/v1/{path}/{id}/{name}.
type Action struct {
	Name  string
	Label string
	Who   Who
	// From are the statuses the action applies to; nil means any status that is not final,
	// returned or withdrawn.
	From []string
	To   string // status after; "" keeps it
	// Event is the outbox event kind written with the step; the zero Kind writes none.
	Event outbox.Kind
	// Created makes the action answer 201: it appends something (a follow-up visit).
	Created bool
	// Apply reads the action's own fields and changes the detail. Optional.
	Apply func(c *change, f *fields)
}

// Status codes shared by all kinds.
const (
	StatusReturned  = "returned"
	StatusWithdrawn = "withdrawn"
)

var commonStatuses = []Code{{Code: StatusReturned, Label: "已退回修改"}, {Code: StatusWithdrawn, Label: "已撤回"}}

// kinds is the registry, in the order lists and dictionaries show them.
var kinds = []*Kind{visitKind, sentimentKind, tipKind, mediationKind}

// Kinds returns every kind.
func Kinds() []*Kind { return kinds }

// kindNames are the codes of every kind.
func kindNames() []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Name
	}
	return names
}

// KindByName returns the kind with this code.
func KindByName(name string) (*Kind, bool) {
	for _, k := range kinds {
		if k.Name == name {
			return k, true
		}
	}
	return nil, false
}

// AllStatuses are the kind's statuses and the common ones.
func (k *Kind) AllStatuses() []Code { return append(slices.Clone(k.Statuses), commonStatuses...) }

// AllActions are the kind's workflow and the common actions.
func (k *Kind) AllActions() []Action { return append(slices.Clone(k.Actions), commonActions(k)...) }

func (k *Kind) action(name string) (Action, bool) {
	for _, a := range k.AllActions() {
		if a.Name == name {
			return a, true
		}
	}
	return Action{}, false
}

func (k *Kind) isFinal(status string) bool { return slices.Contains(k.Final, status) }

// open reports whether a record in this status can still be acted on at all.
func (k *Kind) open(status string) bool {
	return status != StatusReturned && status != StatusWithdrawn && !k.isFinal(status)
}

func (k *Kind) statusLabel(status string) string {
	// Not AllStatuses: a list page asks once per record, and that copies the list each time.
	if l := roster.Label(k.Statuses, status); l != "" || status == "" {
		return l
	}
	return roster.Label(commonStatuses, status)
}

// Dictionaries are the code lists of all kinds, merged into GET /api/v1/dictionaries.
func Dictionaries() map[string][]Code {
	out := map[string][]Code{}
	var names []Code
	for _, k := range kinds {
		names = append(names, Code{Code: k.Name, Label: k.Label})
		out[k.Name+"_status"] = k.AllStatuses()
		for name, list := range k.Codes {
			out[name] = list
		}
	}
	out["record_kind"] = names
	out["instructor_role"] = Roles
	out["record_tag"] = Tags
	return out
}

func oneOf(list []Code) func(string) bool {
	return func(s string) bool { return roster.Label(list, s) != "" }
}

func label(list []Code, code string) string { return roster.Label(list, code) }

// loadRows is the usual Kind.Load: the kind's rows keyed by record id.
func loadRows[T any, PT interface {
	*T
	Detail
}](db *gorm.DB, ids []int64) (map[int64]Detail, error) {
	rows, err := database.Find[T](db.Session(&gorm.Session{QueryFields: true}).Model(new(T)).Where("record_id IN ?", ids), len(ids))
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Detail, len(rows))
	for i := range rows {
		d := PT(&rows[i])
		out[d.recordID()] = d
	}
	return out, nil
}
