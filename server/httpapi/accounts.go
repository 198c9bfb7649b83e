package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/auth"
	"github.com/shiliu/shiliu/server/paging"
)

var errNoConsoleSession = apperr.New(http.StatusUnauthorized, "refresh_invalid", "登录已过期,请重新登录")

func (h *handlers) accountRoutes(v1, in *gin.RouterGroup) {
	v1.POST("/auth/console/login", h.consoleLogin)
	v1.POST("/auth/console/session", h.consoleRefresh)
	v1.DELETE("/auth/console/session", h.consoleLogout)
	in.POST("/me/password", h.changePassword)

	in.GET("/accounts", h.listAccounts)
	in.POST("/accounts", h.createAccount)
	in.GET("/accounts/:id", h.getAccount)
	in.PATCH("/accounts/:id", h.updateAccount)
	in.POST("/accounts/:id/disable", h.disableAccount)
	in.POST("/accounts/:id/enable", h.enableAccount)
	in.POST("/accounts/:id/reset-password", h.resetAccountPassword)
	in.POST("/accounts/:id/unlock", h.unlockAccount)
	in.DELETE("/accounts/:id/sessions", h.endAccountSessions)
}

func (h *handlers) listAccounts(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f := auth.StaffFilter{Role: c.Query("role"), Status: c.Query("status"), RegionCode: c.Query("region_code"),
		Query: c.Query("q"), Page: page}
	switch c.Query("locked") {
	case "", "false":
	case "true":
		f.Locked = true
	default:
		fail(c, h.log, apperr.Field("locked", "locked应为true或false"))
		return
	}
	items, next, err := h.auth.ListStaff(c.Request.Context(), principal(c), f)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

type accountRequest struct {
	Username    *string `json:"username"`
	DisplayName *string `json:"display_name"`
	Role        *string `json:"role"`
	RegionCode  *string `json:"region_code"`
}

func (h *handlers) createAccount(c *gin.Context) {
	var req accountRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	out, err := h.auth.CreateStaff(c.Request.Context(), principal(c), auth.StaffInput{
		Username: str(req.Username), DisplayName: str(req.DisplayName), Role: str(req.Role), RegionCode: str(req.RegionCode)})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, out)
}

// accountAction runs a change of one account by its path id and renders the account.
func (h *handlers) accountAction(c *gin.Context, do func(id int64) (auth.StaffView, error)) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := do(id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) getAccount(c *gin.Context) {
	h.accountAction(c, func(id int64) (auth.StaffView, error) {
		return h.auth.GetStaff(c.Request.Context(), principal(c), id)
	})
}

func (h *handlers) updateAccount(c *gin.Context) {
	var req accountRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	if req.Username != nil {
		fail(c, h.log, apperr.Field("username", "用户名创建后不能修改"))
		return
	}
	h.accountAction(c, func(id int64) (auth.StaffView, error) {
		return h.auth.UpdateStaff(c.Request.Context(), principal(c), id, auth.StaffPatch{
			DisplayName: req.DisplayName, Role: req.Role, RegionCode: req.RegionCode})
	})
}

func (h *handlers) disableAccount(c *gin.Context) {
	h.accountAction(c, func(id int64) (auth.StaffView, error) {
		return h.auth.DisableStaff(c.Request.Context(), principal(c), id)
	})
}

func (h *handlers) enableAccount(c *gin.Context) {
	h.accountAction(c, func(id int64) (auth.StaffView, error) {
		return h.auth.EnableStaff(c.Request.Context(), principal(c), id)
	})
}

func (h *handlers) unlockAccount(c *gin.Context) {
	h.accountAction(c, func(id int64) (auth.StaffView, error) {
		return h.auth.UnlockStaff(c.Request.Context(), principal(c), id)
	})
}

func (h *handlers) resetAccountPassword(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	out, err := h.auth.ResetStaffPassword(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func (h *handlers) endAccountSessions(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if err := h.auth.EndStaffSessions(c.Request.Context(), principal(c), id); err != nil {
		fail(c, h.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}
