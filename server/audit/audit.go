// Package audit is the trail of who did what: every write through the API, every read of a
// risk tip or a mediation record (sensitive personal information under the PIPL) and every
// answer that carried a person's whole phone or ID number, with the actor, role, action,
// subject, outcome, request id and client address. Ids only: no request bodies, no names, no
// phone numbers.
//
// Each entry carries a region so staff can read the trail of their own subtree: the region of the
// subject when the handling code names it (Subject), otherwise the actor's region (a staff
// member's region, an instructor's unit region).
//
// The trail writes an entry after the answer. A change of a field record stores its entry in its
// own transaction instead (Write, Committed): the record and its entry commit together or not at
// all, so a failure of the trail there fails the change rather than leaving it unrecorded.
package audit

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Entry is one audited request.
type Entry struct {
	ID          int64
	AccountID   int64
	Role        string
	RegionCode  string
	Action      string // "POST /api/v1/tips/{id}/acknowledge": method and route template
	SubjectType string
	SubjectID   *int64
	Status      int
	// PersonalData: the answer carried personal data in full (a whole phone or ID number), which
	// every list shows masked. See PersonalData.
	PersonalData bool
	RequestID    string
	ClientIP     string `gorm:"column:client_ip"`
	CreatedAt    time.Time
}

func (Entry) TableName() string { return "audit_log" }

// View is an entry as the API shows it.
type View struct {
	ID           int64     `json:"id"`
	AccountID    int64     `json:"account_id"`
	Role         string    `json:"role"`
	RegionCode   string    `json:"region_code"`
	Action       string    `json:"action"`
	SubjectType  string    `json:"subject_type"`
	SubjectID    *int64    `json:"subject_id,omitempty"`
	Status       int       `json:"status"`
	PersonalData bool      `json:"personal_data"`
	RequestID    string    `json:"request_id"`
	ClientIP     string    `json:"client_ip"`
	CreatedAt    time.Time `json:"created_at"`
}

func (e Entry) view() View {
	return View{ID: e.ID, AccountID: e.AccountID, Role: e.Role, RegionCode: e.RegionCode, Action: e.Action,
		SubjectType: e.SubjectType, SubjectID: e.SubjectID, Status: e.Status, PersonalData: e.PersonalData, RequestID: e.RequestID,
		ClientIP: e.ClientIP, CreatedAt: clock.Local(e.CreatedAt)}
}

// Service writes and reads the trail.
type Service struct {
	db    *gorm.DB
	clock clock.Clock

	// Record's group commit: writer is held by the one caller writing a batch; the entries
	// recorded meanwhile gather in pending and go in the next INSERT.
	writer  chan struct{}
	mu      sync.Mutex
	pending *batch
}

// batch is the entries of one INSERT; written and err are set under Service.mu once it ran.
type batch struct {
	entries []Entry
	written bool
	err     error
}

// NewService wires the audit trail.
func NewService(db *gorm.DB, clk clock.Clock) *Service {
	return &Service{db: db, clock: clk, writer: make(chan struct{}, 1)}
}

// Record stores one entry, stamped now, and returns once it is committed. Callers log a failure
// and carry on: the audit trail must not turn a done write into an error.
//
// Reads of tips, mediations and the list of all records are each audited, so a busy console
// writes an entry per page. Entries recorded while another INSERT is running are written
// together in the next one (one statement and one log flush for all of them), and each caller
// still waits for its own entry's commit: the answer never leaves before its entry is stored.
func (s *Service) Record(ctx context.Context, e Entry) error {
	e = s.stamped(e)
	s.mu.Lock()
	if s.pending == nil {
		s.pending = &batch{}
	}
	b := s.pending
	b.entries = append(b.entries, e)
	s.mu.Unlock()

	// No giving up on ctx here: the entry is in the batch already and is written by whoever
	// holds writer next; the holder's INSERT is bounded by its own context.
	s.writer <- struct{}{}
	defer func() { <-s.writer }()
	s.mu.Lock()
	if b.written { // an earlier holder wrote it with its own batch
		err := b.err
		s.mu.Unlock()
		return err
	}
	// b is still the pending batch: batches are taken whole, only by the holder of writer.
	s.pending = nil
	s.mu.Unlock()
	err := s.db.WithContext(ctx).Create(&b.entries).Error
	s.mu.Lock()
	b.written, b.err = true, err
	s.mu.Unlock()
	return err
}

func (s *Service) store(db *gorm.DB, e Entry) error {
	e = s.stamped(e)
	return db.Create(&e).Error
}

// stamped is e as it is stored: no id yet, the time now, every text cut to its column.
func (s *Service) stamped(e Entry) Entry {
	e.ID = 0
	e.CreatedAt = s.clock.Now()
	e.Role = cut(e.Role, 32)
	e.RegionCode = cut(e.RegionCode, 12)
	e.Action = cut(e.Action, 160)
	e.SubjectType = cut(e.SubjectType, 32)
	e.RequestID = cut(e.RequestID, 64)
	e.ClientIP = cut(e.ClientIP, 45)
	return e
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Filter narrows the trail.
type Filter struct {
	AccountID   int64
	Action      string // prefix
	SubjectType string
	SubjectID   int64
	RegionCode  string // subtree
	// PersonalData keeps only the entries of answers that carried personal data in full.
	PersonalData bool
	From, To     *time.Time
	Page         paging.Page
}

var errStaffOnly = apperr.Forbidden("只有民族工作部门工作人员和审计管理员可以查看操作日志")

// List returns entries in p's subtree, newest first: officers read their subtree, the audit
// administrator the whole trail (its own reads included); the system and security
// administrators read none of it.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]View, string, error) {
	auditor := p.IsAdministrator() && p.Role == access.RoleAuditAdmin
	if !p.IsStaff() && !auditor {
		return nil, "", errStaffOnly
	}
	var v validate.Checker
	v.MaxLen("action", "操作", f.Action, 160)
	v.MaxLen("subject_type", "对象类型", f.SubjectType, 32)
	v.RegionCode("region_code", f.RegionCode)
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		v.Fail("to", "结束时间应晚于开始时间")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Entry{}).Scopes(f.Page.Apply("id"))
	if !auditor {
		q = q.Scopes(access.InRegion(p, "region_code"))
	}
	q = q.Scopes(access.UnderRegion("region_code", f.RegionCode))
	if f.AccountID > 0 {
		q = q.Where("account_id = ?", f.AccountID)
	}
	if f.Action != "" {
		q = q.Where("action LIKE ? ESCAPE '!'", escapeLike(f.Action)+"%")
	}
	if f.SubjectType != "" {
		q = q.Where("subject_type = ?", f.SubjectType)
	}
	if f.SubjectID > 0 {
		q = q.Where("subject_id = ?", f.SubjectID)
	}
	if f.PersonalData {
		q = q.Where("personal_data = ?", true)
	}
	if f.From != nil {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	var rows []Entry
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(e Entry) int64 { return e.ID })
	out := make([]View, len(rows))
	for i, e := range rows {
		out[i] = e.view()
	}
	return out, next, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// Note is what the handling code tells the trail about the subject of a request; see Subject.
type Note struct {
	SubjectType  string
	SubjectID    int64
	RegionCode   string
	PersonalData bool

	// Set by NoteFor: the request's entry as far as it is known before the handler runs, the
	// trail to store it in, and whether the request is audited whatever its answer.
	trail  *Service
	entry  *Entry
	always bool
	stored bool // the entry committed with the change it records (Write, Committed)
}

// NoteFor returns the note of a request whose entry, as far as it is known before the handler
// runs (actor, action, request id, client), is e. A request audited whatever its answer (always)
// may have its entry stored by the change it makes, in the change's own transaction (Write);
// another is audited only if its answer carries personal data in full (PersonalData).
func (s *Service) NoteFor(e Entry, always bool) *Note {
	return &Note{trail: s, entry: &e, always: always}
}

// Stored reports whether the entry of the request was stored with the change it records, so the
// trail must not write it again.
func (n *Note) Stored() bool { return n.stored }

type noteKey struct{}

// WithNote returns ctx carrying n, for the code that records the entry after the request.
func WithNote(ctx context.Context, n *Note) context.Context {
	return context.WithValue(ctx, noteKey{}, n)
}

// Write stores the entry of the current request in tx, the transaction of the change it records,
// as answered with status and filed under the subject (type, id, region) as Subject files it: the change
// and its entry commit or roll back together, so a stored change always has its entry and a
// change rolled back leaves none. Once the transaction has committed, the caller says so
// (Committed); until then the trail still writes the entry after the answer, with the answer's
// status (a refusal, a failure). Outside a request audited whatever its answer it does nothing.
func Write(ctx context.Context, tx *gorm.DB, status int, subjectType string, id int64, regionCode string) error {
	n, _ := ctx.Value(noteKey{}).(*Note)
	if n == nil || n.entry == nil || !n.always {
		return nil
	}
	e := n.Entry(status)
	if subjectType != "" {
		e.SubjectType = subjectType
	}
	if id > 0 {
		e.SubjectID = &id
	}
	if regionCode != "" {
		e.RegionCode = regionCode
	}
	return n.trail.store(tx, e)
}

// Committed says that the transaction in which Write stored the request's entry has committed.
func Committed(ctx context.Context) {
	if n, _ := ctx.Value(noteKey{}).(*Note); n != nil && n.entry != nil && n.always {
		n.stored = true
	}
}

// Entry is the request's entry with what the handling code said (Subject, PersonalData) and the
// answer's status.
func (n *Note) Entry(status int) Entry {
	var e Entry
	if n.entry != nil {
		e = *n.entry
	}
	e.Status = status
	e.PersonalData = e.PersonalData || n.PersonalData
	if n.SubjectType != "" {
		e.SubjectType = n.SubjectType
	}
	if n.SubjectID > 0 {
		id := n.SubjectID
		e.SubjectID = &id
	}
	if n.RegionCode != "" {
		e.RegionCode = n.RegionCode
	}
	return e
}

// Subject names the subject of the current request: its type, its id (say, of a record just
// created) and its region, so the entry is filed under the subject's region rather than the
// actor's. Empty values leave what the route says. Outside an audited request it does nothing.
func Subject(ctx context.Context, subjectType string, id int64, regionCode string) {
	n, _ := ctx.Value(noteKey{}).(*Note)
	if n == nil {
		return
	}
	if subjectType != "" {
		n.SubjectType = subjectType
	}
	if id > 0 {
		n.SubjectID = id
	}
	if regionCode != "" {
		n.RegionCode = regionCode
	}
}

// PersonalData says that the answer to the current request carries personal data in full: a
// person's whole phone or ID number, decrypted for a reader other than that person. The request
// is then audited, whatever its route, and its entry says so. The code that unmasks the data
// calls it, so a new route that shows it cannot forget the trail. Outside an authenticated
// request (a self-nomination answered to its author) it does nothing.
func PersonalData(ctx context.Context) {
	if n, _ := ctx.Value(noteKey{}).(*Note); n != nil {
		n.PersonalData = true
	}
}
