package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/filing"
	"github.com/shiliu/shiliu/server/paging"
)

func (h *handlers) filingRoutes(in *gin.RouterGroup) {
	in.POST("/filings", h.createFiling)
	in.GET("/filings", h.listFilings)
	in.GET("/filings/overview", h.filingOverview)
	in.GET("/filings/:id", h.getFiling)
	in.GET("/filings/:id/diff", h.filingDiff)
	in.GET("/filings/:id/export.xlsx", h.exportFiling)
	in.POST("/filings/:id/accept", h.acceptFiling)
	in.POST("/filings/:id/return", h.returnFiling)
}

// decodeOptional reads a JSON body that may be left out altogether.
func decodeOptional(c *gin.Context, dst any) error {
	if c.Request.ContentLength == 0 {
		return nil
	}
	return decode(c, dst)
}

type filingRequest struct {
	Note string `json:"note"`
}

func (h *handlers) createFiling(c *gin.Context) {
	var req filingRequest
	if err := decodeOptional(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	d, err := h.filings.File(c.Request.Context(), principal(c), req.Note)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, d)
}

func (h *handlers) listFilings(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	statuses, err := queryStatuses(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.filings.List(c.Request.Context(), principal(c), filing.Filter{
		Level: c.Query("level"), Statuses: statuses, RegionCode: c.Query("region_code"), Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) filingOverview(c *gin.Context) {
	o, err := h.filings.Overview(c.Request.Context(), principal(c), c.Query("region_code"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, o)
}

func (h *handlers) getFiling(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	d, err := h.filings.Get(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (h *handlers) filingDiff(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	d, err := h.filings.Diff(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (h *handlers) acceptFiling(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if err := decodeOptional(c, &struct{}{}); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.filings.Accept(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) returnFiling(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req reasonRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.filings.Return(c.Request.Context(), principal(c), id, req.Reason)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
