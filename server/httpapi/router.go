package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/shiliu/shiliu/server/adjustment"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/assessment"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/auth"
	"github.com/shiliu/shiliu/server/bulletin"
	"github.com/shiliu/shiliu/server/filing"
	"github.com/shiliu/shiliu/server/meeting"
	"github.com/shiliu/shiliu/server/nomination"
	"github.com/shiliu/shiliu/server/notify"
	"github.com/shiliu/shiliu/server/platform/health"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/stats"
	"github.com/shiliu/shiliu/server/support"
	"github.com/shiliu/shiliu/server/task"
	"github.com/shiliu/shiliu/server/tipfeed"
	"github.com/shiliu/shiliu/server/training"
	"github.com/shiliu/shiliu/server/upload"
)

// Deps are the services the transport calls.
type Deps struct {
	Log            *slog.Logger
	Auth           *auth.Service
	Roster         *roster.Service
	Regions        *region.Store
	Ready          *health.Checker // /readyz: the database fails it, others only degrade it
	Metrics        *prometheus.Registry
	MaxBodyBytes   int64
	TrustedProxies []string
	Uploads        *upload.Service
	Audit          *audit.Service
	Records        *record.Service
	TipFeed        *tipfeed.Feed
	Notify         *notify.Service
	Meetings       *meeting.Service
	Bulletins      *bulletin.Service
	Nominations    *nomination.Service
	Filings        *filing.Service
	Training       *training.Service
	Tasks          *task.Service
	Stats          *stats.Service
	// Support, Assessments and Adjustments: support and suggestions, yearly assessments and the
	// central three-year adjustment.
	Support     *support.Service
	Assessments *assessment.Service
	Adjustments *adjustment.Service
	// UploadMaxBytes caps one uploaded file; TransferTimeout replaces the server's read and write
	// timeouts for file uploads and downloads.
	UploadMaxBytes  int64
	TransferTimeout time.Duration
	// StallTimeout cuts an upload or import body that sends nothing for that long (0: only
	// TransferTimeout applies); ImportMaxConcurrent bounds roster imports in progress at once
	// (0: DefaultImportMaxConcurrent).
	StallTimeout        time.Duration
	ImportMaxConcurrent int
	// SecureCookies marks the console's refresh cookie Secure (prod: served over HTTPS only).
	SecureCookies bool
	// Console, when set, answers GET and HEAD requests for paths outside the API (the staff web
	// console and its files); unknown paths under /api/ stay JSON errors.
	Console http.Handler
}

type handlers struct {
	log       *slog.Logger
	auth      *auth.Service
	roster    *roster.Service
	regions   *region.Store
	ready     *health.Checker
	uploads   *upload.Service
	audit     *audit.Service
	records   *record.Service
	tipFeed   *tipfeed.Feed
	notify    *notify.Service
	meetings  *meeting.Service
	bulletins *bulletin.Service
	// nominations and filings administer the roster (selection, filing to the level above).
	nominations *nomination.Service
	filings     *filing.Service
	training    *training.Service
	tasks       *task.Service
	stats       *stats.Service
	support     *support.Service
	assessments *assessment.Service
	adjustments *adjustment.Service
	// transfer is how long a file upload or download may take; stall how long an upload's body
	// may send nothing.
	transfer      time.Duration
	stall         time.Duration
	imports       importGate
	secureCookies bool
}

// NewRouter builds the whole HTTP API.
func NewRouter(d Deps) (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// A trailing slash is a different (unknown) path, not a redirect the mini-program would follow.
	r.RedirectTrailingSlash = false
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, err
	}
	h := &handlers{log: d.Log, auth: d.Auth, roster: d.Roster, regions: d.Regions, ready: d.Ready,
		uploads: d.Uploads, audit: d.Audit, transfer: d.TransferTimeout, records: d.Records, tipFeed: d.TipFeed,
		notify: d.Notify, meetings: d.Meetings, bulletins: d.Bulletins, nominations: d.Nominations, filings: d.Filings,
		training: d.Training, tasks: d.Tasks, stats: d.Stats, support: d.Support, assessments: d.Assessments,
		adjustments: d.Adjustments, secureCookies: d.SecureCookies,
		stall: d.StallTimeout, imports: newImportGate(d.ImportMaxConcurrent)}
	m := newMetrics(d.Metrics)
	r.Use(withRequestID(), noStore(), recovery(d.Log), m.handler(), accessLog(d.Log), limitBody(d.MaxBodyBytes, map[string]bodyLimit{
		"POST /api/v1/uploads":       {max: d.UploadMaxBytes + multipartOverhead, err: upload.TooLarge(d.UploadMaxBytes)},
		"POST /api/v1/roster/import": {max: importMaxBytes + multipartOverhead, err: errImportTooLarge},
		// a chunk of a resumable upload is at most the whole file
		"PATCH " + resumablePath + "/:id": {max: d.UploadMaxBytes, err: upload.TooLarge(d.UploadMaxBytes)},
		"POST " + resumablePath + "/:id":  {max: d.UploadMaxBytes, err: upload.TooLarge(d.UploadMaxBytes)},
	}))

	r.NoRoute(func(c *gin.Context) {
		if d.Console != nil && isConsolePath(c.Request) {
			d.Console.ServeHTTP(c.Writer, c.Request)
			return
		}
		fail(c, h.log, apperr.NotFound("接口不存在"))
	})
	r.NoMethod(func(c *gin.Context) {
		fail(c, h.log, apperr.New(http.StatusMethodNotAllowed, "method_not_allowed", "不支持该请求方法"))
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", h.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Metrics, promhttp.HandlerOpts{})))

	v1 := r.Group("/api/v1")
	v1.POST("/auth/password/login", h.passwordLogin)
	v1.POST("/auth/wechat/login", h.wechatLogin)
	v1.POST("/auth/wechat/bind", h.wechatBind)
	v1.POST("/auth/refresh", h.refresh)
	v1.GET("/regions", h.listRegions)
	v1.GET("/regions/:code", h.getRegion)
	v1.GET("/dictionaries", h.dictionaries)

	v1.GET("/files/:id", h.serveFile)

	in := v1.Group("", h.authenticate(), h.auditTrail())
	in.POST("/auth/logout", h.logout)
	in.GET("/me", h.me)
	in.POST("/me/wechat", h.bindStaffWeChat)

	in.POST("/units", h.createUnit)
	in.GET("/units", h.listUnits)
	in.GET("/units/:id", h.getUnit)
	in.PATCH("/units/:id", h.updateUnit)
	in.PUT("/units/:id/heavy", h.setUnitHeavy)

	in.POST("/instructors", h.createInstructor)
	in.GET("/instructors", h.listInstructors)
	in.GET("/instructors/:id", h.getInstructor)
	in.PATCH("/instructors/:id", h.updateInstructor)
	in.POST("/instructors/:id/invite", h.createInvite)
	in.POST("/instructors/:id/unbind", h.unbindInstructor)

	in.POST("/uploads", h.createUpload)
	in.GET("/uploads/:id", h.getUpload)
	v1.OPTIONS("/uploads/resumable", h.resumableOptions)
	tus := in.Group("/uploads/resumable", h.tusHeaders())
	tus.POST("", h.createResumable)
	tus.HEAD("/:id", h.headResumable)
	tus.PATCH("/:id", h.patchResumable)
	tus.POST("/:id", h.overrideResumable)
	tus.DELETE("/:id", h.deleteResumable)
	in.GET("/audit", h.listAudit)

	h.recordRoutes(in)
	h.tipDeskRoutes(in)
	h.notifyRoutes(in)
	h.nominationRoutes(v1, in)
	h.filingRoutes(in)
	h.termRoutes(in)
	h.excelRoutes(in)
	h.meetingRoutes(in)
	h.bulletinRoutes(in)
	h.trainingRoutes(in)
	h.taskRoutes(in)
	h.statsRoutes(in)
	h.policyRoutes(in)
	h.accountRoutes(v1, in)
	return r, nil
}

// isConsolePath reports whether a request the API has no route for is the console's: a page or
// file fetched by the browser, never a path under /api/.
func isConsolePath(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	return p != "/api" && !strings.HasPrefix(p, "/api/")
}

// readyz is 200 while the instance is worth sending traffic to, degraded or not (the body and
// shiliu_dependency_up say what is missing), and 503 only when it is useless (no database).
func (h *handlers) readyz(c *gin.Context) {
	r := h.ready.Check(c.Request.Context())
	status := http.StatusOK
	if !r.Ready() {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, r)
}
