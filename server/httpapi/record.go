package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/sheet"
	"github.com/shiliu/shiliu/server/record"
)

// recordRoutes registers the routes of every record kind from its definition, so a new kind
// brings its routes with it.
func (h *handlers) recordRoutes(g *gin.RouterGroup) {
	g.GET("/records", h.listRecords(""))
	g.GET("/records/export.xlsx", h.exportRecords(""))
	g.GET("/me/summary", h.recordSummary)
	for _, k := range record.Kinds() {
		base := "/" + k.Path
		g.POST(base, h.submitRecord(k.Name))
		g.GET(base, h.listRecords(k.Name))
		g.GET(base+"/export.xlsx", h.exportRecords(k.Name))
		g.GET(base+"/:id", h.getRecord(k.Name))
		g.PATCH(base+"/:id", h.updateRecord(k.Name))
		g.GET(base+"/:id/versions", h.recordVersions(k.Name))
		for _, a := range k.AllActions() {
			g.POST(base+"/:id/"+a.Name, h.recordAction(k.Name, a.Name))
		}
	}
}

// recordBody reads a JSON object. Kinds read their fields from it one by one, each error naming
// its field. Workflow actions may come without a body.
func recordBody(c *gin.Context, optional bool) (record.Body, error) {
	if optional && c.Request.ContentLength == 0 {
		return record.Body{}, nil
	}
	var b record.Body
	if err := decode(c, &b); err != nil {
		return nil, err
	}
	if b == nil {
		if optional {
			return record.Body{}, nil // a JSON null where nothing is required
		}
		return nil, apperr.New(http.StatusBadRequest, "invalid_json", "请求体应为JSON对象")
	}
	return b, nil
}

func (h *handlers) submitRecord(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := recordBody(c, false)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		v, created, err := h.records.Submit(c.Request.Context(), principal(c), kind, body)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		status := http.StatusOK // a retry of a stored submission
		if created {
			status = http.StatusCreated
		}
		auditRecord(c, v)
		c.JSON(status, v)
	}
}

func (h *handlers) listRecords(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
		if err != nil {
			fail(c, h.log, err)
			return
		}
		f, err := recordFilter(c, kind)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		f.Page = page
		items, next, err := h.records.List(c.Request.Context(), principal(c), f)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		list(c, items, next)
	}
}

// recordFilter reads a list's filters; an export takes the same.
func recordFilter(c *gin.Context, kind string) (record.Filter, error) {
	authorID, err := queryID(c, "author_id")
	if err != nil {
		return record.Filter{}, err
	}
	unitID, err := queryID(c, "unit_id")
	if err != nil {
		return record.Filter{}, err
	}
	statuses, err := queryStatuses(c)
	if err != nil {
		return record.Filter{}, err
	}
	if kind == "" {
		kind = c.Query("kind") // GET /records lists every kind
	}
	return record.Filter{Kind: kind, Statuses: statuses, Role: c.Query("role"), Tag: c.Query("tag"), RegionCode: c.Query("region_code"),
		AuthorID: authorID, UnitID: unitID, From: c.Query("from"), To: c.Query("to"), Q: c.Query("q"), Param: c.Query}, nil
}

// exportRecords answers the list's filtered records in scope, all of them, as a workbook. Exports
// of tips, mediations and all records are sensitive reads: the audit trail files them by route.
func (h *handlers) exportRecords(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		f, err := recordFilter(c, kind)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		name := "全部记录"
		if k, ok := record.KindByName(f.Kind); ok {
			name = k.Label
		}
		h.extendDeadlines(c)
		t, err := sheet.New(name)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		defer t.Close()
		if _, err := h.records.Export(c.Request.Context(), principal(c), f, t); err != nil {
			fail(c, h.log, err)
			return
		}
		book, err := t.Finish()
		if err != nil {
			fail(c, h.log, err)
			return
		}
		h.sendXLSX(c, http.StatusOK, name+"-"+time.Now().In(clock.Shanghai).Format("20060102")+".xlsx", book)
	}
}

func (h *handlers) getRecord(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			fail(c, h.log, err)
			return
		}
		v, err := h.records.Get(c.Request.Context(), principal(c), kind, id)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		auditRecord(c, v)
		c.JSON(http.StatusOK, v)
	}
}

func (h *handlers) updateRecord(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			fail(c, h.log, err)
			return
		}
		body, err := recordBody(c, false)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		v, err := h.records.Update(c.Request.Context(), principal(c), kind, id, body)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		auditRecord(c, v)
		c.JSON(http.StatusOK, v)
	}
}

func (h *handlers) recordVersions(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			fail(c, h.log, err)
			return
		}
		items, err := h.records.Versions(c.Request.Context(), principal(c), kind, id)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		list(c, items, "")
	}
}

func (h *handlers) recordAction(kind, action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			fail(c, h.log, err)
			return
		}
		body, err := recordBody(c, true)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		v, created, err := h.records.Act(c.Request.Context(), principal(c), kind, id, action, body)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		auditRecord(c, v)
		c.JSON(status, v)
	}
}

// auditRecord files the audit entry of this request under the record's region, so the county a
// tip belongs to sees who read or changed it, whoever that was.
func auditRecord(c *gin.Context, v record.View) {
	audit.Subject(c.Request.Context(), v.Kind, v.ID, v.RegionCode)
}

func (h *handlers) recordSummary(c *gin.Context) {
	s, err := h.records.Summary(c.Request.Context(), principal(c))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, s)
}
