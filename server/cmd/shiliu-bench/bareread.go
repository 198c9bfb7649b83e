package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/upload"
)

// The bare tip list is the floor under a county officer's page of tips: a Gin handler that
// reads the same rows and fields with database/sql in one query (the page's ids as a derived
// table, the records with their authors', units' and tips' rows, and whether each has
// attachments) and encodes them as the same JSON. It does not authenticate, check a filter,
// read a record's attachments or look up a label (the labels are fixed strings as long as
// Shiliu's). What Shiliu costs above it is what its layers cost; what it costs itself is what
// the database and the JSON cost on this machine.
//
// With audit=1 it also writes the audit entry Shiliu writes for each read of the tips, after
// the answer and before the handler returns, the entries of concurrent reads gathered into one
// INSERT (bareAudit): the page with the work the law asks of it. On SQLite each such commit
// makes every connection read its pages from the file again at its next read.

// bareTipPage is the query of GET /bare/tips: the county's tips, of one status or all. On
// MySQL it has Shiliu's hint (record.Service.filtered): without it MariaDB walks the primary
// key down from the newest record for a county whose tips lie under its newest visits, and
// the bare page of the county's newest 20 tips took 6-7 s.
func bareTipPage(mysql, withStatus bool) string {
	status, hint := "", ""
	if withStatus {
		status = " AND status = ?"
	}
	if mysql {
		hint = " IGNORE INDEX FOR ORDER BY (PRIMARY)"
	}
	return "SELECT r.id, r.client_id, r.author_id, r.unit_id, r.region_code, r.title, r.occurred_at, r.received_at, " +
		"r.place, r.latitude, r.longitude, r.status, r.role, r.tags, r.return_note, r.withdraw_reason, r.version, r.updated_at, " +
		"i.name, u.name, t.level, t.tip_kind, t.people_involved, t.groups_involved, t.description, t.ongoing, " +
		"t.ack_deadline, t.acknowledged_at, t.escalated_to_level, t.escalated_at, t.resolved_at, t.duplicate_of, " +
		"EXISTS (SELECT 1 FROM uploads WHERE uploads.owner_kind = '" + record.OwnerKind + "' AND uploads.owner_id = r.id), " +
		"EXISTS (SELECT 1 FROM pending_attachments p WHERE p.owner_kind = '" + record.OwnerKind + "' AND p.owner_id = r.id) " +
		"FROM (SELECT id FROM records" + hint + " WHERE county_code = ? AND kind = 'tip'" + status + " ORDER BY id DESC LIMIT ?) page " +
		"JOIN records r ON r.id = page.id " +
		"LEFT JOIN instructors i ON i.id = r.author_id LEFT JOIN units u ON u.id = r.unit_id " +
		"JOIN record_tips t ON t.record_id = r.id ORDER BY r.id DESC"
}

var bareBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// tipPage is the query of a tip page prepared once, on SQLite: Shiliu's lists keep theirs
// prepared there, and on MySQL send them with their parameters interpolated, in one round trip.
func (b *bareServer) tipPage(withStatus bool) (*sql.Stmt, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st := b.prepared[withStatus]; st != nil {
		return st, nil
	}
	st, err := b.db.Prepare(bareTipPage(false, withStatus))
	if err == nil {
		b.prepared[withStatus] = st
	}
	return st, err
}

// tips answers GET /bare/tips?county=130000&status=submitted&limit=100.
func (b *bareServer) tips(c *gin.Context) {
	limit, err := strconv.Atoi(c.DefaultQuery("limit", "20"))
	if err != nil || limit < 1 || limit > 100 {
		c.JSON(http.StatusBadRequest, gin.H{"error": "limit"})
		return
	}
	args := []any{c.Query("county")}
	if st := c.Query("status"); st != "" {
		args = append(args, st)
	}
	args = append(args, limit+1)
	// Callers take the pool's connections in the order they came (as Shiliu's submissions do,
	// database.Turn): database/sql hands a freed connection to a waiter drawn at random, and
	// on SQLite's four connections the floor's p99 was then 80-87 ms, against 28-50 in turn.
	// Shiliu's lists draw: in turns they cost more CPU for no better p99 (docs/performance.md).
	b.turns <- struct{}{}
	defer func() { <-b.turns }()
	var rows *sql.Rows
	if b.dialect == "mysql" {
		rows, err = b.db.QueryContext(c.Request.Context(), bareTipPage(true, len(args) == 3), args...)
	} else {
		var stmt *sql.Stmt
		if stmt, err = b.tipPage(len(args) == 3); err == nil {
			rows, err = stmt.QueryContext(c.Request.Context(), args...)
		}
	}
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	defer rows.Close()
	items := make([]record.View, 0, limit+1)
	for rows.Next() {
		var (
			v                                  record.View
			t                                  record.TipView
			occurred, received, updated        time.Time
			ack, acked, escalated, resolved    *time.Time
			tags, author, unit                 sql.NullString
			escalatedTo                        int
			withFiles, withPending             bool
			returnNote, withdrawReason, client sql.NullString
		)
		err := rows.Scan(&v.ID, &client, &v.AuthorID, &v.UnitID, &v.RegionCode, &v.Title, &occurred, &received,
			&v.Place, &v.Latitude, &v.Longitude, &v.Status, &v.Role, &tags, &returnNote, &withdrawReason, &v.Version, &updated,
			&author, &unit, &t.Level, &t.Kind, &t.PeopleInvolved, &t.GroupsInvolved, &t.Description, &t.Ongoing,
			&ack, &acked, &escalatedTo, &escalated, &resolved, &t.DuplicateOf, &withFiles, &withPending)
		if err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
		v.Kind, v.KindName, v.StatusName, v.RegionName, v.RoleName = "tip", "线索", "待签收", "某某县某某镇某某村", "联络员"
		v.ClientID, v.ReturnNote, v.WithdrawReason = client.String, returnNote.String, withdrawReason.String
		v.AuthorName, v.UnitName = author.String, unit.String
		v.OccurredAt, v.ReceivedAt, v.UpdatedAt = clock.Shown(occurred), clock.Shown(received), clock.Shown(updated)
		v.Tags, v.TagNames = []string{}, []string{}
		if tags.String != "" {
			v.Tags = strings.Split(tags.String, ",")
			v.TagNames = v.Tags
		}
		v.Attachments, v.PendingAttachments = []upload.View{}, []upload.PendingView{}
		t.LevelName, t.KindName, t.EscalatedTo, t.EscalatedToName = "一般", "矛盾纠纷", "", "未上报"
		t.AckDeadline, t.AcknowledgedAt = clock.ShownPtr(ack), clock.ShownPtr(acked)
		t.EscalatedAt, t.ResolvedAt = clock.ShownPtr(escalated), clock.ShownPtr(resolved)
		v.Tip = t
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = strconv.FormatInt(items[limit-1].ID, 10)
	}
	buf := bareBuffers.Get().(*bytes.Buffer)
	defer bareBuffers.Put(buf)
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(gin.H{"items": items, "next_cursor": next}); err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", buf.Bytes())
	if c.Query("audit") == "1" {
		// As Shiliu's trail: the last bytes of the answer leave when the handler returns, after
		// the entry is stored.
		if err := b.audit.record(c.Request.Context(), b.db, c.Query("county"), c.ClientIP()); err != nil {
			c.Error(err)
		}
	}
}

// bareAudit gathers the audit entries of concurrent bare reads: entries recorded while one
// INSERT runs go together in the next one, and each caller waits for its own, as Shiliu's
// audit.Service.Record does.
type bareAudit struct {
	writer  chan struct{}
	mu      sync.Mutex
	pending *bareAuditBatch
}

type bareAuditBatch struct {
	rows    [][]any
	written bool
	err     error
}

func (a *bareAudit) record(ctx context.Context, db *sql.DB, county, clientIP string) error {
	row := []any{int64(1), "county_staff", county + "000000", "GET /api/v1/tips", "tip", http.StatusOK, false,
		"bare", clientIP, time.Now().UTC()}
	a.mu.Lock()
	if a.pending == nil {
		a.pending = &bareAuditBatch{}
	}
	batch := a.pending
	batch.rows = append(batch.rows, row)
	a.mu.Unlock()

	a.writer <- struct{}{}
	defer func() { <-a.writer }()
	a.mu.Lock()
	if batch.written {
		err := batch.err
		a.mu.Unlock()
		return err
	}
	a.pending = nil
	a.mu.Unlock()
	var sb strings.Builder
	var args []any
	sb.WriteString("INSERT INTO audit_log (account_id, role, region_code, action, subject_type, status, personal_data, " +
		"request_id, client_ip, created_at) VALUES ")
	for i, r := range batch.rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?,?,?,?,?,?,?,?,?,?)")
		args = append(args, r...)
	}
	// As Shiliu's trail: a caller gone does not stop the entries, a stuck database does.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := db.ExecContext(wctx, sb.String(), args...)
	a.mu.Lock()
	batch.written, batch.err = true, err
	a.mu.Unlock()
	return err
}
