package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/nomination"
	"github.com/shiliu/shiliu/server/paging"
)

// nominationRoutes: creating a nomination is open to a WeChat user who is not on the roster yet
// (self-nomination with a bind ticket) as well as to staff (a unit's recommendation, with a
// token); everything else needs a login.
func (h *handlers) nominationRoutes(public, in *gin.RouterGroup) {
	public.POST("/nominations", h.optionalAuth(), h.auditTrail(), h.createNomination)
	in.GET("/nominations", h.listNominations)
	in.GET("/nominations/:id", h.getNomination)
	in.POST("/nominations/:id/review", h.reviewNomination)
	in.POST("/nominations/:id/appoint", h.appointNomination)
	in.POST("/nominations/:id/reject", h.rejectNomination)
}

// optionalAuth authenticates a request that carries a token and lets one without through with
// no principal.
func (h *handlers) optionalAuth() gin.HandlerFunc {
	authenticate := h.authenticate()
	return func(c *gin.Context) {
		if c.GetHeader("Authorization") == "" {
			c.Next()
			return
		}
		authenticate(c)
	}
}

type nominationRequest struct {
	personRequest
	BindTicket  *string `json:"bind_ticket"`
	RegionCode  *string `json:"region_code"`
	UnitName    *string `json:"unit_name"`
	Statement   *string `json:"statement"`
	Recommender *string `json:"recommender"`
}

func (h *handlers) createNomination(c *gin.Context) {
	var req nominationRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	in := nomination.Input{
		Person:     req.input(),
		RegionCode: str(req.RegionCode), UnitName: str(req.UnitName), Statement: str(req.Statement), Recommender: str(req.Recommender),
	}
	ctx := c.Request.Context()
	var v nomination.View
	var err error
	switch p := principal(c); {
	case p != nil:
		v, err = h.nominations.Recommend(ctx, p, in)
	case str(req.BindTicket) != "":
		v, err = h.nominations.SelfNominate(ctx, str(req.BindTicket), in)
	default:
		err = apperr.New(http.StatusUnauthorized, "unauthenticated", "请先登录;自荐请先在小程序中用微信登录")
	}
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (h *handlers) listNominations(c *gin.Context) {
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
	items, next, err := h.nominations.List(c.Request.Context(), principal(c), nomination.Filter{
		Statuses: statuses, Source: c.Query("source"), RegionCode: c.Query("region_code"), Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getNomination(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.nominations.Get(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

type reviewRequest struct {
	Criteria []struct {
		Code string `json:"code"`
		Met  bool   `json:"met"`
		Note string `json:"note"`
	} `json:"criteria"`
	Note string `json:"note"`
}

func (h *handlers) reviewNomination(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req reviewRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	in := nomination.ReviewInput{Note: req.Note}
	for _, cr := range req.Criteria {
		in.Criteria = append(in.Criteria, nomination.Check{Code: cr.Code, Met: cr.Met, Note: cr.Note})
	}
	v, err := h.nominations.Review(c.Request.Context(), principal(c), id, in)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

type appointRequest struct {
	TermStart string `json:"term_start"`
	UnitID    int64  `json:"unit_id"`
}

func (h *handlers) appointNomination(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req appointRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.nominations.Appoint(c.Request.Context(), principal(c), id, nomination.AppointInput{TermStart: req.TermStart, UnitID: req.UnitID})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (h *handlers) rejectNomination(c *gin.Context) {
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
	v, err := h.nominations.Reject(c.Request.Context(), principal(c), id, req.Reason)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
