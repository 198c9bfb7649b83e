package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/adjustment"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/assessment"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/stats"
	"github.com/shiliu/shiliu/server/support"
)

// The routes of instructor support and suggestions, yearly assessments and the central
// three-year adjustment (measures §五).
func (h *handlers) policyRoutes(in *gin.RouterGroup) {
	in.POST("/support-records", h.createSupportRecord)
	in.GET("/support-records", h.listSupportRecords)
	in.GET("/support-records/:id", h.getSupportRecord)
	in.POST("/suggestions", h.createSuggestion)
	in.GET("/suggestions", h.listSuggestions)
	in.GET("/suggestions/:id", h.getSuggestion)
	in.POST("/suggestions/:id/answer", h.answerSuggestion)
	in.PUT("/instructors/:id/assessments/:year", h.recordAssessment)
	in.GET("/instructors/:id/assessments", h.instructorAssessments)
	in.GET("/assessments", h.assessmentSheet)
	in.POST("/adjustment-rounds", h.launchAdjustment)
	in.GET("/adjustment-rounds", h.listAdjustments)
	in.GET("/adjustment-rounds/:id", h.getAdjustment)
	in.POST("/adjustment-rounds/:id/close", h.closeAdjustment)
	in.GET("/adjustment-rounds/:id/progress", h.adjustmentProgress)
	in.GET("/adjustment-rounds/:id/instructors", h.adjustmentMembers)
	in.POST("/adjustment-rounds/:id/decisions", h.decideAdjustment)
	in.GET("/stats/training", h.statsTraining)
	in.GET("/stats/support", h.statsSupport)
}

// ---- support records ----

type supportRecordRequest struct {
	Kind            *string `json:"kind"`
	GivenOn         *string `json:"given_on"`
	GivenBy         *string `json:"given_by"`
	Note            *string `json:"note"`
	InstructorIDs   []int64 `json:"instructor_ids"`
	RecipientRegion *string `json:"recipient_region"`
}

func (h *handlers) createSupportRecord(c *gin.Context) {
	var req supportRecordRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.support.CreateRecord(c.Request.Context(), principal(c), support.RecordInput{
		Kind: str(req.Kind), GivenOn: str(req.GivenOn), GivenBy: str(req.GivenBy), Note: str(req.Note),
		InstructorIDs: req.InstructorIDs, RecipientRegion: str(req.RecipientRegion)})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

// queryYear reads an optional year query parameter; 0 when absent.
func queryYear(c *gin.Context) (int, error) {
	raw := c.Query("year")
	if raw == "" {
		return 0, nil
	}
	y, err := strconv.Atoi(raw)
	if err != nil || y < 2000 || y > 2100 {
		return 0, apperr.Field("year", "年份应为2000到2100之间的整数")
	}
	return y, nil
}

func (h *handlers) listSupportRecords(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f := support.RecordFilter{Kind: c.Query("kind"), RegionCode: c.Query("region_code"), Page: page}
	if f.InstructorID, err = queryID(c, "instructor_id"); err != nil {
		fail(c, h.log, err)
		return
	}
	if f.Year, err = queryYear(c); err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.support.ListRecords(c.Request.Context(), principal(c), f)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getSupportRecord(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.support.GetRecord(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// ---- suggestions ----

func (h *handlers) createSuggestion(c *gin.Context) {
	var req struct {
		ClientID string `json:"client_id"`
		Content  string `json:"content"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, created, err := h.support.Suggest(c.Request.Context(), principal(c), support.SuggestionInput{ClientID: req.ClientID, Content: req.Content})
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

func (h *handlers) listSuggestions(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f := support.SuggestionFilter{Status: c.Query("status"), RegionCode: c.Query("region_code"), Page: page}
	if f.InstructorID, err = queryID(c, "instructor_id"); err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.support.ListSuggestions(c.Request.Context(), principal(c), f)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getSuggestion(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.support.GetSuggestion(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) answerSuggestion(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		Answer string `json:"answer"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.support.Answer(c.Request.Context(), principal(c), id, req.Answer)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// ---- assessments ----

func (h *handlers) recordAssessment(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	// A year that is no number is refused by the service as out of range, after it has checked
	// the caller: the administrators learn nothing about the route's input.
	year, err := strconv.Atoi(c.Param("year"))
	if err != nil {
		year = -1
	}
	var req struct {
		Grade   string `json:"grade"`
		Comment string `json:"comment"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, created, err := h.assessments.Record(c.Request.Context(), principal(c), id, year, assessment.Input{Grade: req.Grade, Comment: req.Comment})
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

func (h *handlers) instructorAssessments(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, err := h.assessments.OfInstructor(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, "")
}

func (h *handlers) assessmentSheet(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f := assessment.SheetFilter{RegionCode: c.Query("region_code"), Grade: c.Query("grade"), Page: page}
	if f.Year, err = queryYear(c); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.assessments.Sheet(c.Request.Context(), principal(c), f)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// ---- the central adjustment ----

func (h *handlers) launchAdjustment(c *gin.Context) {
	var req struct {
		Title       string `json:"title"`
		WindowStart string `json:"window_start"`
		WindowEnd   string `json:"window_end"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.adjustments.Launch(c.Request.Context(), principal(c), adjustment.Input{
		Title: req.Title, WindowStart: req.WindowStart, WindowEnd: req.WindowEnd})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (h *handlers) listAdjustments(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.adjustments.List(c.Request.Context(), principal(c), adjustment.Filter{Status: c.Query("status"), Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getAdjustment(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.adjustments.Get(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) closeAdjustment(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.adjustments.Close(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) adjustmentProgress(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.adjustments.Progress(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) adjustmentMembers(c *gin.Context) {
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
	items, next, err := h.adjustments.Members(c.Request.Context(), principal(c), id, adjustment.MemberFilter{
		State: c.Query("state"), RegionCode: c.Query("region_code"), Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

type decisionRequest struct {
	InstructorID            int64              `json:"instructor_id"`
	Decision                string             `json:"decision"`
	ReasonCategory          string             `json:"reason_category"`
	Note                    string             `json:"note"`
	TermStart               string             `json:"term_start"`
	Replacement             *instructorRequest `json:"replacement"`
	ReplacementInstructorID int64              `json:"replacement_instructor_id"`
}

func (h *handlers) decideAdjustment(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		Decisions []decisionRequest `json:"decisions"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	items := make([]adjustment.DecisionInput, len(req.Decisions))
	for i, d := range req.Decisions {
		items[i] = adjustment.DecisionInput{InstructorID: d.InstructorID, Decision: d.Decision, ReasonCategory: d.ReasonCategory,
			Note: d.Note, TermStart: d.TermStart, ReplacementID: d.ReplacementInstructorID}
		if r := d.Replacement; r != nil {
			p := r.input()
			p.UnitID = 0 // a replacement takes the unit of the instructor replaced
			items[i].Replacement = &p
		}
	}
	out, err := h.adjustments.Decide(c.Request.Context(), principal(c), id, items)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

// ---- statistics by year ----

func (h *handlers) statsTraining(c *gin.Context) {
	v, err := h.stats.Training(c.Request.Context(), principal(c), stats.YearQuery{RegionCode: c.Query("region_code"), Year: c.Query("year")})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) statsSupport(c *gin.Context) {
	v, err := h.stats.Support(c.Request.Context(), principal(c), stats.YearQuery{RegionCode: c.Query("region_code"), Year: c.Query("year")})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
