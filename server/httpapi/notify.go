package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/notify"
	"github.com/shiliu/shiliu/server/paging"
)

func (h *handlers) notifyRoutes(in *gin.RouterGroup) {
	in.POST("/notification-groups", h.createGroup)
	in.GET("/notification-groups", h.listGroups)
	in.PATCH("/notification-groups/:id", h.updateGroup)
	in.POST("/notification-groups/:id/test", h.testGroup)
	in.POST("/subscriptions", h.recordSubscriptions)
	in.GET("/subscriptions", h.listSubscriptions)
	in.PUT("/me/duty", h.setDuty)
	in.GET("/notifications", h.listNotifications)
	in.POST("/notifications/:id/retry", h.retryNotification)
}

type groupRequest struct {
	Name       *string `json:"name"`
	RegionCode *string `json:"region_code"`
	Audience   *string `json:"audience"`
	WebhookKey *string `json:"webhook_key"`
	Status     *string `json:"status"`
}

func (h *handlers) createGroup(c *gin.Context) {
	var req groupRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	if req.Status != nil {
		fail(c, h.log, apperr.Field("status", "新登记的通知群总是启用的,不能指定状态"))
		return
	}
	g, err := h.notify.CreateGroup(c.Request.Context(), principal(c), notify.GroupInput{
		Name: str(req.Name), RegionCode: str(req.RegionCode), Audience: str(req.Audience), WebhookKey: str(req.WebhookKey)})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, g)
}

func (h *handlers) listGroups(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.notify.ListGroups(c.Request.Context(), principal(c), notify.GroupFilter{
		RegionCode: c.Query("region_code"), Audience: c.Query("audience"), Status: c.Query("status"), Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) updateGroup(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req groupRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	g, err := h.notify.UpdateGroup(c.Request.Context(), principal(c), id, notify.GroupPatch{
		Name: req.Name, RegionCode: req.RegionCode, Audience: req.Audience, WebhookKey: req.WebhookKey, Status: req.Status})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, g)
}

func (h *handlers) testGroup(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	res, err := h.notify.TestGroup(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// subscriptionsRequest carries the result object of wx.requestSubscribeMessage as it is.
type subscriptionsRequest struct {
	Results map[string]string `json:"results"`
}

func (h *handlers) recordSubscriptions(c *gin.Context) {
	var req subscriptionsRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	items, err := h.notify.RecordSubscriptions(c.Request.Context(), principal(c), req.Results)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, "")
}

func (h *handlers) listSubscriptions(c *gin.Context) {
	items, err := h.notify.ListSubscriptions(c.Request.Context(), principal(c))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, "")
}

type dutyRequest struct {
	OnDuty *bool `json:"on_duty"`
}

func (h *handlers) setDuty(c *gin.Context) {
	var req dutyRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	if req.OnDuty == nil {
		fail(c, h.log, apperr.Field("on_duty", "请指定是否值班(on_duty: true 或 false)"))
		return
	}
	v, err := h.notify.SetDuty(c.Request.Context(), principal(c), *req.OnDuty)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) listNotifications(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	eventID, err := queryID(c, "event_id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	subjectID, err := queryID(c, "subject_id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.notify.ListNotifications(c.Request.Context(), principal(c), notify.NotificationFilter{
		Status: c.Query("status"), Channel: c.Query("channel"), EventKind: c.Query("event_kind"),
		EventID: eventID, SubjectType: c.Query("subject_type"), SubjectID: subjectID, Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) retryNotification(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.notify.Retry(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
