package httpapi

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/paging"
)

// sensitiveReads are the route templates whose GETs are audited, with everything under them
// (lists, details, versions, exports): risk tips and mediation records name people, their
// ethnicity and their disputes. The list of all records is included: it shows tips and mediations
// too. Roster and filing exports are included: each is a whole list of people with ethnicity.
// So are the statistics that name people: the performance card (what a term's renewal is decided
// on), the list of instructors without records and the statistics workbook, which carries it.
// The overview itself is counts only. A filing's detail, differences and export are the same
// filed roster.
var sensitiveReads = []string{"/api/v1/tips", "/api/v1/mediations", "/api/v1/records",
	"/api/v1/roster/export.xlsx", "/api/v1/filings/:id",
	"/api/v1/instructors/:id/performance-card", "/api/v1/stats/inactive-instructors", "/api/v1/stats/overview.xlsx"}

// personalReads are the details that show a person's whole phone and ID number to staff: audited
// even when refused (a probe of ids out of scope). Their answers mark the entry as a read of
// personal data (audit.PersonalData), as does any other answer that unmasks it.
var personalReads = []string{"/api/v1/instructors/:id", "/api/v1/nominations/:id"}

// routeParam is a gin path parameter (:id), written {id} in actions as in the API contract.
var routeParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// audited reports whether a request to a route template goes into the audit trail: every write,
// and reads of sensitive records.
func audited(method, route string) bool {
	if route == "" {
		return false
	}
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	case http.MethodGet:
		if route == tipStreamRoute {
			return false
		}
		for _, p := range sensitiveReads {
			if route == p || strings.HasPrefix(route, p+"/") {
				return true
			}
		}
		return slices.Contains(personalReads, route)
	}
	return false
}

// auditTrail records audited requests after the handler has answered, whatever the answer: the
// status tells whether the write was done or refused. Any other request is recorded when its
// answer carried personal data in full (audit.PersonalData). It runs after authenticate, so every
// entry has an actor; unauthenticated attempts are only in the access log. A failure to record
// is logged and never changes the answer.
func (h *handlers) auditTrail() gin.HandlerFunc {
	return func(c *gin.Context) {
		if h.audit == nil {
			c.Next()
			return
		}
		route := c.FullPath()
		// Every request of an administrator is audited, reads included: the audit
		// administrator's reading of the trail is itself in the trail.
		// The chunks of a resumable upload are not changes of their own: only the one that
		// completes the file (and names the upload it became) is recorded, as POST /uploads is.
		chunk := route == resumablePath+"/:id" && c.Request.Method != http.MethodHead
		always := (audited(c.Request.Method, route) && !chunk) || principal(c).IsAdministrator()
		p := principal(c)
		note := &audit.Note{}
		if p != nil {
			// A change may store this entry in its own transaction (audit.Write): then it is
			// not written again here.
			note = h.audit.NoteFor(entryOf(c, p, route), always)
		}
		c.Request = c.Request.WithContext(audit.WithNote(c.Request.Context(), note))
		c.Next()

		if p == nil || !(always || note.PersonalData || chunk && note.SubjectID > 0) || note.Stored() {
			return
		}
		e := note.Entry(c.Writer.Status())
		// The client may be gone; the entry is still written.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
		defer cancel()
		if err := h.audit.Record(ctx, e); err != nil {
			h.log.ErrorContext(ctx, "audit entry not written", "err", err, "action", e.Action, "status", e.Status)
		}
	}
}

// entryOf is the audit entry of a request as far as it is known before its handler runs.
func entryOf(c *gin.Context, p *access.Principal, route string) audit.Entry {
	e := audit.Entry{
		AccountID: p.AccountID, Role: string(p.Role), RegionCode: p.RegionCode,
		Action: c.Request.Method + " " + routeParam.ReplaceAllString(route, "{$1}"), SubjectType: subjectType(route),
		RequestID: requestID(c), ClientIP: c.ClientIP(),
	}
	if id, err := strconv.ParseInt(c.Param("id"), 10, 64); err == nil && id > 0 {
		e.SubjectID = &id
	}
	return e
}

// subjectType names what a route acts on: the resource before its :id
// ("/api/v1/tips/:id/acknowledge" → "tip"), else the first segment after /api/v1
// ("/api/v1/units" → "unit"), singular.
func subjectType(route string) string {
	segs := strings.Split(strings.TrimPrefix(route, "/api/v1/"), "/")
	name := segs[0]
	for i, s := range segs {
		if s == ":id" && i > 0 {
			name = segs[i-1]
		}
	}
	if len(name) > 1 && strings.HasSuffix(name, "s") && !strings.HasSuffix(name, "ss") {
		name = name[:len(name)-1]
	}
	return name
}

func (h *handlers) listAudit(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f := audit.Filter{Page: page, Action: c.Query("action"), SubjectType: c.Query("subject_type"),
		RegionCode: c.Query("region_code")}
	switch c.Query("personal_data") {
	case "", "false":
	case "true":
		f.PersonalData = true
	default:
		fail(c, h.log, apperr.Field("personal_data", "personal_data应为true或false"))
		return
	}
	if f.AccountID, err = queryID(c, "account_id"); err != nil {
		fail(c, h.log, err)
		return
	}
	if f.SubjectID, err = queryID(c, "subject_id"); err != nil {
		fail(c, h.log, err)
		return
	}
	if f.From, err = queryTime(c, "from"); err != nil {
		fail(c, h.log, err)
		return
	}
	if f.To, err = queryTime(c, "to"); err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.audit.List(c.Request.Context(), principal(c), f)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

// queryTime reads an optional RFC 3339 time query parameter.
func queryTime(c *gin.Context, name string) (*time.Time, error) {
	s := c.Query(name)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, apperr.Field(name, name+"应为RFC 3339时间,例如2024-05-01T09:30:00+08:00")
	}
	return &t, nil
}
