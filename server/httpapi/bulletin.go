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
