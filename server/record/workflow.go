package record

import (
	"encoding/json"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/upload"
	"gorm.io/gorm"
)

// change is one change of a record in progress, inside its transaction: submission, edit,
// workflow action or automatic escalation. Writing it saves the record (guarded by the version it
// was read at), its detail, a version snapshot, a timeline step and an outbox event together.
type change struct {
	s      *Service
	tx     *gorm.DB
	p      *access.Principal
	actor  Actor
	kind   *Kind
	rec    *Record // as it will be after the change
	detail Detail
	now    time.Time
	action string
	from   string
	note   string
	facts  outbox.RecordFacts // what the step adds, for the timeline and the event
	event  outbox.Kind
	err    error // set by an action's Apply to refuse the change
	// quiet skips the outbox event (a duplicate tip moved along with its original).
	quiet bool
	// created: the change is the record's submission, so nothing was tallied for it before.
	created bool
	// step is the timeline step write appended.
	step Step
	// followOf and moved carry a duplicate marking to the tip's own former duplicates.
	followOf int64
	moved    []int64
}

// resolveActor fixes who acts as shown in the timeline: the instructor's name, the staff
// account's display name (or username), or the system.
func (c *change) resolveActor() error {
	p := c.p
	if p.IsSystem() {
		c.actor = Actor{Role: "system", Name: "系统"}
		return nil
	}
	c.actor = Actor{AccountID: p.AccountID, Role: string(p.Role)}
	var names []string
	q := c.tx.Table("accounts").Where("id = ?", p.AccountID).
		Select("CASE WHEN display_name <> '' THEN display_name ELSE COALESCE(username, '') END")
	if p.IsInstructor() {
		q = c.tx.Model(&roster.Instructor{}).Where("id = ?", p.InstructorID).Select("name")
	}
	if err := q.Limit(1).Scan(&names).Error; err != nil {
		return err
	}
	if len(names) > 0 {
		c.actor.Name = names[0]
	}
	return nil
}

// commit saves a change of an existing record.
func (c *change) commit() error {
	k, r := c.kind, c.rec
	if k.Prepare != nil {
		if err := k.Prepare(c); err != nil {
			return err
		}
	}
	prev := r.Version
	r.Version++
	r.UpdatedAt = c.now
	r.SearchText = c.detail.text()
	res := c.tx.Model(&Record{}).Where("id = ? AND version = ?", r.ID, prev).Updates(map[string]any{
		"title": r.Title, "search_text": r.SearchText, "occurred_at": r.OccurredAt, "place": r.Place,
		"latitude": r.Latitude, "longitude": r.Longitude, "status": r.Status, "locked": r.Locked,
		"return_note": r.ReturnNote, "withdraw_reason": r.WithdrawReason, "version": r.Version, "updated_at": r.UpdatedAt,
		"role": r.Role, "tags": r.Tags,
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errStale
	}
	if err := c.tx.Select("*").Save(c.detail).Error; err != nil {
		return err
	}
	if k.After != nil {
		if err := k.After(c); err != nil {
			return err
		}
	}
	return c.write()
}

// write appends the timeline step, the version snapshot and the outbox event of a change.
func (c *change) write() error {
	r := c.rec
	// Only the step's id is read back (the answer's timeline): the other rows go later
	// (database.Later), with the step's insert or the COMMIT in a grouped transaction on MySQL.
	later := database.Later(c.tx)
	indexed := fulltext.Doc{ID: r.ID, Version: r.Version, Kind: r.Kind, RegionCode: r.RegionCode,
		AuthorID: r.AuthorID, Title: r.Title, Text: r.SearchText, New: c.created}
	if err := c.s.search.Touch(later, indexed); err != nil {
		return err
	}
	data, err := json.Marshal(c.facts)
	if err != nil {
		return err
	}
	step := Step{RecordID: r.ID, Action: c.action, FromStatus: c.from, ToStatus: r.Status, Note: c.note, Data: string(data),
		ActorAccountID: c.actor.AccountID, ActorRole: c.actor.Role, ActorName: c.actor.Name, CreatedAt: c.now}
	if err := c.tx.Create(&step).Error; err != nil {
		return err
	}
	c.step = step
	snap, err := json.Marshal(snapshot(c.kind, r, c.detail))
	if err != nil {
		return err
	}
	ver := Version{RecordID: r.ID, Version: r.Version, Action: c.action, Snapshot: string(snap),
		ActorAccountID: c.actor.AccountID, ActorRole: c.actor.Role, ActorName: c.actor.Name, CreatedAt: c.now}
	if err := later.Create(&ver).Error; err != nil {
		return err
	}
	if t := c.s.opt.Tally; t != nil {
		if err := t.Tally(later, r, c.detail, c.created); err != nil {
			return err
		}
	}
	if c.quiet || c.event.IsZero() {
		return nil
	}
	return outbox.Write(later, outbox.Entry{SubjectType: r.Kind, SubjectID: r.ID, RegionCode: r.RegionCode, At: c.now,
		Payload: outbox.Record{
			Event: c.event, RecordID: r.ID, RecordKind: r.Kind, Title: r.Title, Action: c.action, FromStatus: c.from,
			Status: r.Status, Note: c.note, AuthorID: r.AuthorID, UnitID: r.UnitID, Actor: outbox.Actor(c.actor),
			RecordFacts: c.facts,
		}})
}

// snapshot is a record as one version keeps it: every field the author or staff can change.
func snapshot(k *Kind, r *Record, d Detail) View {
	v := View{
		ID: r.ID, Kind: r.Kind, KindName: k.Label, ClientID: r.ClientID, Title: r.Title, Status: r.Status,
		StatusName: k.statusLabel(r.Status), OccurredAt: clock.Shown(r.OccurredAt), ReceivedAt: clock.Shown(r.ReceivedAt),
		UpdatedAt: clock.Shown(r.UpdatedAt),
		Place:     r.Place, Latitude: r.Latitude, Longitude: r.Longitude, AuthorID: r.AuthorID, UnitID: r.UnitID,
		RegionCode: r.RegionCode, Version: r.Version, Editable: r.editable(k), ReturnNote: r.ReturnNote,
		WithdrawReason: r.WithdrawReason, Attachments: []upload.View{},
		Role: r.Role, RoleName: label(Roles, r.Role), Tags: SplitTags(r.Tags), TagNames: tagNames(SplitTags(r.Tags)),
	}
	v.setFields(d.view())
	return v
}
