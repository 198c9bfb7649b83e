package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/training"
)

func (h *handlers) trainingRoutes(in *gin.RouterGroup) {
	in.POST("/training-plans", h.createTrainingPlan)
	in.GET("/training-plans", h.listTrainingPlans)
	in.GET("/training-plans/:id", h.getTrainingPlan)
	in.PATCH("/training-plans/:id", h.updateTrainingPlan)
	in.POST("/training-sessions", h.createTrainingSession)
	in.GET("/training-sessions", h.listTrainingSessions)
	in.GET("/training-sessions/:id", h.getTrainingSession)
	in.PATCH("/training-sessions/:id", h.updateTrainingSession)
	in.POST("/training-sessions/:id/enrolments", h.enrolTraining)
	in.GET("/training-sessions/:id/enrolments", h.listTrainingEnrolments)
	in.DELETE("/training-sessions/:id/enrolments/:instructor_id", h.unenrolTraining)
	in.POST("/training-sessions/:id/attendance", h.recordTrainingAttendance)
	in.GET("/training-hours", h.trainingHours)
	in.GET("/me/training", h.myTraining)
}

type trainingPlanRequest struct {
	Year  *int    `json:"year"`
	Title *string `json:"title"`
	Goals *string `json:"goals"`
}

func (h *handlers) createTrainingPlan(c *gin.Context) {
	var req trainingPlanRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	in := training.PlanInput{Title: str(req.Title), Goals: str(req.Goals)}
	if req.Year != nil {
		in.Year = *req.Year
	}
	v, err := h.training.CreatePlan(c.Request.Context(), principal(c), in)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (h *handlers) listTrainingPlans(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	year, err := training.ParseYear("year", c.Query("year"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.training.ListPlans(c.Request.Context(), principal(c), training.PlanFilter{Year: year, Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getTrainingPlan(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.training.GetPlan(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) updateTrainingPlan(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req trainingPlanRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.training.UpdatePlan(c.Request.Context(), principal(c), id,
		training.PlanPatch{Year: req.Year, Title: req.Title, Goals: req.Goals})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

type trainingSessionRequest struct {
	PlanID   *int64    `json:"plan_id"`
	Title    *string   `json:"title"`
	Topic    *string   `json:"topic"`
	Topics   *[]string `json:"topics"`
	Lecturer *string   `json:"lecturer"`
	Method   *string   `json:"method"`
	Mode     *string   `json:"mode"`
	Place    *string   `json:"place"`
	URL      *string   `json:"url"`
	StartsAt *string   `json:"starts_at"`
	EndsAt   *string   `json:"ends_at"`
	Hours    *float64  `json:"hours"`
}

func (h *handlers) createTrainingSession(c *gin.Context) {
	var req trainingSessionRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	in := training.SessionInput{
		Title: str(req.Title), Topic: str(req.Topic), Lecturer: str(req.Lecturer), Method: str(req.Method), Mode: str(req.Mode),
		Place: str(req.Place), URL: str(req.URL), StartsAt: str(req.StartsAt), EndsAt: str(req.EndsAt), Hours: req.Hours,
	}
	if req.Topics != nil {
		in.Topics = *req.Topics
	}
	if req.PlanID != nil {
		in.PlanID = *req.PlanID
	}
	v, err := h.training.CreateSession(c.Request.Context(), principal(c), in)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (h *handlers) listTrainingSessions(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f := training.SessionFilter{Page: page}
	if f.Year, err = training.ParseYear("year", c.Query("year")); err != nil {
		fail(c, h.log, err)
		return
	}
	if f.PlanID, err = queryID(c, "plan_id"); err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.training.ListSessions(c.Request.Context(), principal(c), f)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getTrainingSession(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.training.GetSession(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) updateTrainingSession(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req trainingSessionRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.training.UpdateSession(c.Request.Context(), principal(c), id, training.SessionPatch{
		PlanID: req.PlanID, Title: req.Title, Topic: req.Topic, Topics: req.Topics, Lecturer: req.Lecturer, Method: req.Method, Mode: req.Mode,
		Place: req.Place, URL: req.URL, StartsAt: req.StartsAt, EndsAt: req.EndsAt, Hours: req.Hours})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) enrolTraining(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		InstructorIDs []int64 `json:"instructor_ids"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.training.Enrol(c.Request.Context(), principal(c), id, req.InstructorIDs)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) listTrainingEnrolments(c *gin.Context) {
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
	v, err := h.training.Enrolments(c.Request.Context(), principal(c), id, training.EnrolmentFilter{Status: c.Query("status"), Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) unenrolTraining(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	insID, err := pathID(c, "instructor_id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if err := h.training.Unenrol(c.Request.Context(), principal(c), id, insID); err != nil {
		fail(c, h.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *handlers) recordTrainingAttendance(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		InstructorID *int64   `json:"instructor_id"`
		Attended     *bool    `json:"attended"`
		Hours        *float64 `json:"hours"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	in := training.AttendanceInput{Attended: req.Attended, Hours: req.Hours}
	if req.InstructorID != nil {
		in.InstructorID = *req.InstructorID
	}
	v, err := h.training.RecordAttendance(c.Request.Context(), principal(c), id, in)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) trainingHours(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f := training.HoursFilter{RegionCode: c.Query("region_code"), Page: page}
	if f.Year, err = training.ParseYear("year", c.Query("year")); err != nil {
		fail(c, h.log, err)
		return
	}
	if f.InstructorID, err = queryID(c, "instructor_id"); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.training.Hours(c.Request.Context(), principal(c), f)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) myTraining(c *gin.Context) {
	year, err := training.ParseYear("year", c.Query("year"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.training.Mine(c.Request.Context(), principal(c), year)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
