package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/roster"
)

func (h *handlers) termRoutes(in *gin.RouterGroup) {
	in.GET("/terms/ending", h.termsEnding)
	in.POST("/instructors/:id/renew", h.renewInstructor)
	in.POST("/instructors/:id/end-term", h.endTerm)
	in.POST("/instructors/:id/adjust", h.adjustInstructor)
	in.GET("/instructors/:id/history", h.instructorHistory)
}

func (h *handlers) termsEnding(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	days := 90
	if s := c.Query("within_days"); s != "" {
		if days, err = strconv.Atoi(s); err != nil {
			fail(c, h.log, apperr.Field("within_days", "天数应为0到1098之间的整数"))
			return
		}
	}
	items, next, err := h.roster.TermsEnding(c.Request.Context(), principal(c), days, c.Query("region_code"), page)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

type renewRequest struct {
	TermStart string `json:"term_start"`
}

func (h *handlers) renewInstructor(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req renewRequest
	if err := decodeOptional(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	var start *time.Time
	if req.TermStart != "" {
		t, ok := roster.ParseDate(req.TermStart)
		if !ok {
			fail(c, h.log, apperr.Field("term_start", "任期开始日期应为“2024-05-01”格式的日期"))
			return
		}
		start = &t
	}
	v, err := h.roster.Renew(c.Request.Context(), principal(c), id, start)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) endTerm(c *gin.Context) {
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
	v, err := h.roster.EndTerm(c.Request.Context(), principal(c), id, req.Reason)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

type adjustRequest struct {
	Action                  string             `json:"action"`
	ReasonCategory          string             `json:"reason_category"`
	Note                    string             `json:"note"`
	Replacement             *instructorRequest `json:"replacement"`
	ReplacementInstructorID int64              `json:"replacement_instructor_id"`
	ToUnitID                int64              `json:"to_unit_id"`
}

func (h *handlers) adjustInstructor(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req adjustRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	in := roster.AdjustInput{Action: req.Action, ReasonCategory: req.ReasonCategory, Note: req.Note,
		ReplacementID: req.ReplacementInstructorID, ToUnitID: req.ToUnitID}
	if r := req.Replacement; r != nil {
		p := r.input()
		p.UnitID = 0 // a replacement takes the dismissed instructor's unit
		in.Replacement = &p
	}
	v, err := h.roster.Adjust(c.Request.Context(), principal(c), id, in)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) instructorHistory(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.roster.ListHistory(c.Request.Context(), principal(c), id, page)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}
