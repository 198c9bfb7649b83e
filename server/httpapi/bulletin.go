package httpapi

import (
	"context"
	"github.com/shiliu/shiliu/server/access"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/bulletin"
	"github.com/shiliu/shiliu/server/paging"
)

func (h *handlers) bulletinRoutes(in *gin.RouterGroup) {
	in.POST("/bulletins", h.createBulletin)
	in.GET("/bulletins", h.listBulletins)
	in.GET("/bulletins/unread-count", h.bulletinUnreadCount)
	in.GET("/bulletins/:id", h.getBulletin)
	in.GET("/bulletins/:id/receipts", h.bulletinReceipts)
	in.GET("/bulletins/:id/unread", h.bulletinUnread)
	in.POST("/bulletins/:id/correct", h.correctBulletin)
	in.POST("/bulletins/:id/withdraw", h.withdrawBulletin)
	in.POST("/bulletins/:id/publish", h.publishBulletin)

	in.POST("/shares", h.createShare)
	in.GET("/shares", h.listShares)
	in.GET("/shares/:id", h.getShare)
	in.POST("/shares/:id/approve", h.approveShare)
	in.POST("/shares/:id/reject", h.rejectShare)
	in.POST("/shares/:id/promote", h.promoteShare)
}

type bulletinRequest struct {
	Title       *string  `json:"title"`
	Body        *string  `json:"body"`
	Attachments []int64  `json:"attachments"`
	Scope       []string `json:"scope"`
	PublishAt   *string  `json:"publish_at"`
}

func (h *handlers) createBulletin(c *gin.Context) {
	var req bulletinRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.bulletins.Create(c.Request.Context(), principal(c), bulletin.Input{
		Title: str(req.Title), Body: str(req.Body), Attachments: req.Attachments, Scope: req.Scope, PublishAt: str(req.PublishAt)})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (h *handlers) listBulletins(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var unread bool
	switch c.Query("unread") {
	case "", "false":
	case "true":
		unread = true
	default:
		fail(c, h.log, apperr.Field("unread", "unread应为true或false"))
		return
	}
	items, next, err := h.bulletins.List(c.Request.Context(), principal(c), bulletin.Filter{
		Status: c.Query("status"), Unread: unread, Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getBulletin(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.bulletins.Get(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) bulletinUnreadCount(c *gin.Context) {
	n, err := h.bulletins.UnreadCount(c.Request.Context(), principal(c))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"unread": n})
}

func (h *handlers) bulletinReceipts(c *gin.Context) {
	h.bulletinPeople(c, func(ctx context.Context, p *access.Principal, id int64, page paging.Page) (any, error) {
		return h.bulletins.Receipts(ctx, p, id, page)
	})
}

func (h *handlers) bulletinUnread(c *gin.Context) {
	h.bulletinPeople(c, func(ctx context.Context, p *access.Principal, id int64, page paging.Page) (any, error) {
		return h.bulletins.Unread(ctx, p, id, page)
	})
}

// bulletinPeople answers a page of a bulletin's readers or of those who have not read it.
func (h *handlers) bulletinPeople(c *gin.Context, list func(context.Context, *access.Principal, int64, paging.Page) (any, error)) {
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
	v, err := list(c.Request.Context(), principal(c), id, page)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) correctBulletin(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		Note  *string `json:"note"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.bulletins.Correct(c.Request.Context(), principal(c), id, bulletin.CorrectInput{
		Title: str(req.Title), Body: str(req.Body), Note: str(req.Note)})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) withdrawBulletin(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		Reason *string `json:"reason"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.bulletins.Withdraw(c.Request.Context(), principal(c), id, str(req.Reason))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) publishBulletin(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req bulletinRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	if len(req.Attachments) > 0 {
		fail(c, h.log, apperr.Field("attachments", "发布草稿时不能添加附件"))
		return
	}
	v, err := h.bulletins.Publish(c.Request.Context(), principal(c), id, bulletin.Input{
		Title: str(req.Title), Body: str(req.Body), Scope: req.Scope, PublishAt: str(req.PublishAt)})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// ---- experience shares ----

func (h *handlers) createShare(c *gin.Context) {
	var req struct {
		ClientID    string  `json:"client_id"`
		Title       string  `json:"title"`
		Text        string  `json:"text"`
		Audience    string  `json:"audience"`
		Attachments []int64 `json:"attachments"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, created, err := h.bulletins.SubmitShare(c.Request.Context(), principal(c), bulletin.ShareInput{ClientID: req.ClientID,
		Title: req.Title, Text: req.Text, Audience: req.Audience, Attachments: req.Attachments})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, v)
}

func (h *handlers) listShares(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var mine bool
	switch c.Query("mine") {
	case "", "false":
	case "true":
		mine = true
	default:
		fail(c, h.log, apperr.Field("mine", "mine应为true或false"))
		return
	}
	items, next, err := h.bulletins.ListShares(c.Request.Context(), principal(c), bulletin.ShareFilter{
		Status: c.Query("status"), Mine: mine, Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getShare(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.bulletins.GetShare(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) approveShare(c *gin.Context) { h.reviewShare(c, true) }
func (h *handlers) rejectShare(c *gin.Context)  { h.reviewShare(c, false) }

func (h *handlers) reviewShare(c *gin.Context, approve bool) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		Reason *string `json:"reason"`
	}
	if err := decodeOptional(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.bulletins.ReviewShare(c.Request.Context(), principal(c), id, approve, str(req.Reason))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) promoteShare(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if err := decodeOptional(c, &struct{}{}); err != nil {
		fail(c, h.log, err)
		return
	}
	v, created, err := h.bulletins.PromoteShare(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, v)
}
