package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
	"gorm.io/gorm"
)

func TestAuditedRoutes(t *testing.T) {
	for _, c := range []struct {
		method, route string
		want          bool
	}{
		{"POST", "/api/v1/units", true},
		{"PATCH", "/api/v1/instructors/:id", true},
		{"DELETE", "/api/v1/anything/:id", true},
		{"PUT", "/api/v1/anything", true},
		{"GET", "/api/v1/tips", true},
		{"GET", "/api/v1/tips/:id", true},
		{"GET", "/api/v1/tips/:id/versions", true},
		{"GET", "/api/v1/mediations", true},
		{"GET", "/api/v1/mediations/:id", true},
		{"GET", "/api/v1/records", true},
		{"GET", "/api/v1/instructors/:id/performance-card", true},
		{"GET", "/api/v1/stats/inactive-instructors", true},
		{"GET", "/api/v1/stats/overview.xlsx", true},
		{"GET", "/api/v1/stats/overview", false},
		// Details that show a whole phone and ID number; their lists show them masked.
		{"GET", "/api/v1/instructors/:id", true},
		{"GET", "/api/v1/nominations/:id", true},
		{"GET", "/api/v1/instructors", false},
		{"GET", "/api/v1/nominations", false},
		{"GET", "/api/v1/instructors/:id/history", false},
		// A filing is a filed roster, like its export.
		{"GET", "/api/v1/filings/:id", true},
		{"GET", "/api/v1/filings/:id/diff", true},
		{"GET", "/api/v1/filings/:id/export.xlsx", true},
		{"GET", "/api/v1/roster/export.xlsx", true},
		{"GET", "/api/v1/filings", false},
		{"GET", "/api/v1/filings/overview", false},
		{"GET", "/api/v1/tipsy", false},
		{"GET", "/api/v1/units", false},
		{"GET", "/api/v1/visits/:id", false},
		{"HEAD", "/api/v1/tips", false},
		{"POST", "", false},
	} {
		if got := audited(c.method, c.route); got != c.want {
			t.Errorf("%s %s: %v", c.method, c.route, got)
		}
	}
	for route, want := range map[string]string{
		"/api/v1/tips/:id/acknowledge":   "tip",
		"/api/v1/tips":                   "tip",
		"/api/v1/mediations/:id":         "mediation",
		"/api/v1/instructors/:id/invite": "instructor",
		"/api/v1/units":                  "unit",
		"/api/v1/auth/logout":            "auth",
		"/api/v1/uploads":                "upload",
		"/api/v1/me/summary":             "me",
		"/api/v1/records":                "record",
		"/api/v1/address":                "address",
	} {
		if got := subjectType(route); got != want {
			t.Errorf("subjectType(%s) = %q, want %q", route, got, want)
		}
	}
}

// TestAuditTrailMiddleware runs the middleware on fake routes of the records to come: a sensitive
// read, a write naming its subject, a refused write, an unaudited read; and a database that fails.
func TestAuditTrailMiddleware(t *testing.T) {
	db, err := database.Open(context.Background(), dbtest.DSN(t, "audit"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background(), migrations.All); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := &handlers{log: log, audit: audit.NewService(db.DB, clock.NewFake(time.Now()))}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	p := &access.Principal{AccountID: 7, Role: access.RoleCountyStaff, RegionCode: "130102000000"}
	in := r.Group("/api/v1", withRequestID(), func(c *gin.Context) {
		c.Request = c.Request.WithContext(access.WithPrincipal(c.Request.Context(), p))
	}, h.auditTrail())
	in.GET("/tips/:id", func(c *gin.Context) { c.JSON(200, gin.H{}) })
	in.POST("/tips", func(c *gin.Context) {
		audit.Subject(c.Request.Context(), "", 42, "130102001000")
		c.JSON(201, gin.H{})
	})
	in.POST("/tips/:id/acknowledge", func(c *gin.Context) { fail(c, log, errTooLarge) })
	// A change that stores its entry in its own transaction: committed, it is not written again;
	// rolled back, the trail writes the refusal.
	change := func(commit bool) gin.HandlerFunc {
		return func(c *gin.Context) {
			ctx := c.Request.Context()
			err := db.Transaction(func(tx *gorm.DB) error {
				if err := audit.Write(ctx, tx, http.StatusOK, "tip", 6, "130102002000"); err != nil {
					return err
				}
				if !commit {
					return errTooLarge
				}
				return nil
			})
			if err != nil {
				fail(c, log, err)
				return
			}
			audit.Committed(ctx)
			c.JSON(http.StatusOK, gin.H{})
		}
	}
	in.POST("/tips/:id/handle", change(true))
	in.POST("/tips/:id/resolve", change(false))
	in.GET("/units", func(c *gin.Context) { c.JSON(200, gin.H{}) })
	// A route not on the list whose answer unmasks personal data is audited all the same.
	in.GET("/people/:id", func(c *gin.Context) {
		audit.PersonalData(c.Request.Context())
		c.JSON(200, gin.H{})
	})

	do := func(method, path string) int {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("X-Request-ID", "req-"+method+"-0001")
		r.ServeHTTP(w, req)
		return w.Code
	}
	do("GET", "/api/v1/tips/5")
	do("POST", "/api/v1/tips")
	do("POST", "/api/v1/tips/5/acknowledge")
	do("GET", "/api/v1/units")
	do("GET", "/api/v1/people/9")
	do("POST", "/api/v1/tips/6/handle")
	do("POST", "/api/v1/tips/6/resolve")

	var rows []audit.Entry
	if err := db.Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d entries: %+v", len(rows), rows)
	}
	want := []struct {
		action, subjectType string
		subjectID           int64
		region              string
		status              int
	}{
		{"GET /api/v1/tips/{id}", "tip", 5, "130102000000", 200},
		{"POST /api/v1/tips", "tip", 42, "130102001000", 201},
		{"POST /api/v1/tips/{id}/acknowledge", "tip", 5, "130102000000", 413},
		{"GET /api/v1/people/{id}", "people", 9, "130102000000", 200},
		{"POST /api/v1/tips/{id}/handle", "tip", 6, "130102002000", 200},
		{"POST /api/v1/tips/{id}/resolve", "tip", 6, "130102000000", 413},
	}
	for i, w := range want {
		e := rows[i]
		if e.PersonalData != (i == 3) {
			t.Errorf("entry %d: personal data %v", i, e.PersonalData)
		}
		if e.Action != w.action || e.SubjectType != w.subjectType || e.SubjectID == nil || *e.SubjectID != w.subjectID ||
			e.RegionCode != w.region || e.Status != w.status || e.AccountID != 7 || e.Role != "county_staff" ||
			e.ClientIP == "" || e.RequestID == "" || e.CreatedAt.IsZero() {
			t.Errorf("entry %d: %+v, want %+v", i, e, w)
		}
	}

	// When the trail cannot be written the request still succeeds.
	sqlDB, _ := db.DB.DB()
	sqlDB.Close()
	if code := do("POST", "/api/v1/tips"); code != http.StatusCreated {
		t.Fatalf("request failed with the audit trail: %d", code)
	}
}
