package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/stats"
)

func (h *handlers) statsRoutes(in *gin.RouterGroup) {
	in.GET("/stats/overview", h.statsOverview)
	in.GET("/stats/overview.xlsx", h.statsWorkbook)
	in.GET("/stats/regions", h.statsRegions)
	in.GET("/stats/units-without-instructor", h.unitsWithoutInstructor)
	in.GET("/stats/inactive-instructors", h.inactiveInstructors)
	in.GET("/instructors/:id/performance-card", h.performanceCard)
}

func statsQuery(c *gin.Context) stats.Query {
	return stats.Query{RegionCode: c.Query("region_code"), From: c.Query("from"), To: c.Query("to")}
}

func (h *handlers) statsOverview(c *gin.Context) {
	ov, err := h.stats.Overview(c.Request.Context(), principal(c), statsQuery(c))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, ov)
}

func (h *handlers) statsRegions(c *gin.Context) {
	t, err := h.stats.Regions(c.Request.Context(), principal(c), statsQuery(c))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

func (h *handlers) statsWorkbook(c *gin.Context) {
	q := statsQuery(c)
	h.extendDeadlines(c)
	f, err := h.stats.Workbook(c.Request.Context(), principal(c), q)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	code := q.RegionCode
	if code == "" {
		code = principal(c).RegionCode
	}
	h.sendXLSX(c, http.StatusOK, "指导员工作统计_"+code+".xlsx", f)
}

func (h *handlers) unitsWithoutInstructor(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	heavy, err := queryBool(c, "heavy")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.stats.UnitsWithoutInstructor(c.Request.Context(), principal(c), c.Query("region_code"), heavy, page)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) inactiveInstructors(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.stats.InactiveInstructors(c.Request.Context(), principal(c), c.Query("region_code"), page)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) performanceCard(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	year, err := stats.ParseYear(c.Query("year"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	card, err := h.stats.Card(c.Request.Context(), principal(c), id, year)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, card)
}
