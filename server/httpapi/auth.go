package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/auth"
)

type passwordLoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (h *handlers) passwordLogin(c *gin.Context) {
	var req passwordLoginRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	t, err := h.auth.PasswordLogin(c.Request.Context(), req.Username, req.Password, c.ClientIP())
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

type wechatLoginRequest struct {
	Code string `json:"code"`
}

type bindTicketResponse struct {
	BindTicket string `json:"bind_ticket"`
	ExpiresIn  int    `json:"expires_in"`
}

func (h *handlers) wechatLogin(c *gin.Context) {
	var req wechatLoginRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	res, err := h.auth.WeChatLogin(c.Request.Context(), req.Code)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if res.Tokens != nil {
		c.JSON(http.StatusOK, res.Tokens)
		return
	}
	c.JSON(http.StatusOK, bindTicketResponse{BindTicket: res.BindTicket, ExpiresIn: res.ExpiresIn})
}

type bindRequest struct {
	BindTicket string `json:"bind_ticket"`
	InviteCode string `json:"invite_code"`
	PhoneCode  string `json:"phone_code"`
}

func (h *handlers) wechatBind(c *gin.Context) {
	var req bindRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	t, err := h.auth.Bind(c.Request.Context(), auth.BindInput{BindTicket: req.BindTicket, InviteCode: req.InviteCode, PhoneCode: req.PhoneCode,
		ClientIP: c.ClientIP()})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (h *handlers) refresh(c *gin.Context) {
	var req refreshRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	t, err := h.auth.Refresh(c.Request.Context(), req.RefreshToken, client(c))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

func (h *handlers) logout(c *gin.Context) {
	tok, _ := bearer(c)
	if err := h.auth.Logout(c.Request.Context(), tok); err != nil {
		fail(c, h.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type meResponse struct {
	User       auth.AccountView `json:"user"`
	Instructor any              `json:"instructor,omitempty"`
	Unit       any              `json:"unit,omitempty"`
}

func (h *handlers) me(c *gin.Context) {
	p := principal(c)
	ctx := c.Request.Context()
	a, err := h.auth.Account(ctx, p.AccountID)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	out := meResponse{User: a.View()}
	if p.IsInstructor() {
		ins, err := h.roster.GetInstructor(ctx, p, p.InstructorID)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		unit, err := h.roster.GetUnit(ctx, p, ins.UnitID)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		out.Instructor, out.Unit = ins, unit
	}
	c.JSON(http.StatusOK, out)
}

func (h *handlers) bindStaffWeChat(c *gin.Context) {
	var req wechatLoginRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.auth.BindStaffWeChat(c.Request.Context(), principal(c), req.Code)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
