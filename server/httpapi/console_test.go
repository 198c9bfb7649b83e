package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestRefreshCookieSecureInProd: in prod the console's refresh cookie is sent over HTTPS only;
// it is HttpOnly, SameSite=Strict and limited to the refresh path either way. (ASVS V3.4.1–V3.4.5)
func TestRefreshCookieSecureInProd(t *testing.T) {
	for _, secure := range []bool{true, false} {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		(&handlers{secureCookies: secure}).setRefreshCookie(c, "tok")
		cs := (&http.Response{Header: w.Header()}).Cookies()
		if len(cs) != 1 {
			t.Fatalf("cookies: %v", w.Header())
		}
		ck := cs[0]
		if ck.Secure != secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != consoleSessionPath || ck.Value != "tok" {
			t.Fatalf("secure=%v: %+v", secure, ck)
		}
	}
}

func TestAdministratorRoutes(t *testing.T) {
	for route, ok := range map[string]bool{
		"/api/v1/me": true, "/api/v1/me/password": true, "/api/v1/accounts/:id/disable": true, "/api/v1/accounts": true,
		"/api/v1/audit": true, "/api/v1/notification-groups/:id": true,
		"/api/v1/me/summary": false, "/api/v1/me/duty": false, "/api/v1/tips": false, "/api/v1/notifications": false,
		"/api/v1/accountsx": false, "": false,
	} {
		if administratorMay(route) != ok {
			t.Errorf("%q: %v", route, !ok)
		}
	}
}
