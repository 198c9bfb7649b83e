package httpapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/auth"
)

// The console signs in with its own three routes. The refresh token never reaches the page's
// JavaScript: it lives in an HttpOnly, SameSite=Strict cookie whose path is the refresh route, so
// the browser sends it there and nowhere else; the access token is kept in memory only.
const (
	consoleSessionPath = "/api/v1/auth/console/session"
	refreshCookie      = "shiliu_refresh"
)

// consoleSession is what the console's login and refresh return: the tokens without the
// refresh token, which is in the cookie.
type consoleSession struct {
	AccessToken string           `json:"access_token"`
	TokenType   string           `json:"token_type"`
	ExpiresIn   int              `json:"expires_in"`
	User        auth.AccountView `json:"user"`
}

func client(c *gin.Context) auth.Client {
	return auth.Client{IP: c.ClientIP(), UserAgent: c.GetHeader("User-Agent")}
}

// setRefreshCookie puts the refresh token in the cookie; an empty token clears it. A session
// cookie: closing the browser ends the console login too.
func (h *handlers) setRefreshCookie(c *gin.Context, token string) {
	ck := &http.Cookie{Name: refreshCookie, Value: token, Path: consoleSessionPath, HttpOnly: true,
		Secure: h.secureCookies, SameSite: http.SameSiteStrictMode}
	if token == "" {
		ck.MaxAge = -1
	}
	http.SetCookie(c.Writer, ck)
}

func (h *handlers) renderConsole(c *gin.Context, t auth.Tokens) {
	h.setRefreshCookie(c, t.RefreshToken)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, consoleSession{AccessToken: t.AccessToken, TokenType: t.TokenType, ExpiresIn: t.ExpiresIn, User: t.User})
}

func (h *handlers) consoleLogin(c *gin.Context) {
	var req passwordLoginRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	t, err := h.auth.ConsoleLogin(c.Request.Context(), req.Username, req.Password, c.ClientIP())
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.renderConsole(c, t)
}

func (h *handlers) consoleRefresh(c *gin.Context) {
	tok, _ := c.Cookie(refreshCookie)
	if tok == "" {
		fail(c, h.log, errNoConsoleSession)
		return
	}
	t, err := h.auth.ConsoleRefresh(c.Request.Context(), tok, client(c))
	if err != nil {
		h.setRefreshCookie(c, "")
		fail(c, h.log, err)
		return
	}
	h.renderConsole(c, t)
}

func (h *handlers) consoleLogout(c *gin.Context) {
	tok, _ := c.Cookie(refreshCookie)
	bearerTok, _ := bearer(c)
	if err := h.auth.ConsoleLogout(c.Request.Context(), tok, bearerTok); err != nil {
		fail(c, h.log, err)
		return
	}
	h.setRefreshCookie(c, "")
	c.Status(http.StatusNoContent)
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword answers like the login of the same kind: the console gets a new cookie, the
// mini-program new tokens.
func (h *handlers) changePassword(c *gin.Context) {
	var req changePasswordRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	tok, _ := bearer(c)
	t, kind, err := h.auth.ChangePassword(c.Request.Context(), tok, req.CurrentPassword, req.NewPassword, client(c))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if kind == auth.KindConsole {
		h.renderConsole(c, t)
		return
	}
	c.JSON(http.StatusOK, t)
}

// passwordChangeAllowed are the routes an account that must change its password may still call.
var passwordChangeAllowed = map[string]bool{
	"GET /api/v1/me": true, "POST /api/v1/me/password": true, "POST /api/v1/auth/logout": true,
}

// administratorRoutes are the only routes the three administrators may call: their own account,
// staff accounts, the audit trail, settings. Each service checks which administrator may do what;
// this list keeps every route of field data closed to all three in one place (三员分立: no
// administrator reads tips, visits, the roster or statistics).
var administratorRoutes = []string{"/api/v1/me", "/api/v1/me/password", "/api/v1/auth/logout", "/api/v1/accounts",
	"/api/v1/accounts/:id", "/api/v1/accounts/:id/*action", "/api/v1/audit", "/api/v1/notification-groups",
	"/api/v1/notification-groups/:id", "/api/v1/notification-groups/:id/test", "/api/v1/security-policy"}

var errAdministratorNoFieldData = apperr.Forbidden("管理员不能查看或处理业务数据")

func administratorMay(route string) bool {
	for _, r := range administratorRoutes {
		if base, ok := strings.CutSuffix(r, "/*action"); ok {
			if strings.HasPrefix(route, base+"/") {
				return true
			}
		} else if route == r {
			return true
		}
	}
	return false
}
