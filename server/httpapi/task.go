package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/task"
)

func (h *handlers) taskRoutes(in *gin.RouterGroup) {
	in.POST("/tasks", h.createTask)
	in.GET("/tasks", h.listTasks)
	in.GET("/tasks/:id", h.getTask)
	in.POST("/tasks/:id/reports", h.reportTask)
	in.GET("/tasks/:id/reports", h.listTaskReports)
}

type taskRequest struct {
	Title          *string `json:"title"`
	Description    *string `json:"description"`
	DueAt          *string `json:"due_at"`
	Attachments    []int64 `json:"attachments"`
	InstructorIDs  []int64 `json:"instructor_ids"`
	AssigneeRegion *string `json:"assignee_region"`
}

func (h *handlers) createTask(c *gin.Context) {
	var req taskRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.tasks.Create(c.Request.Context(), principal(c), task.Input{
		Title: str(req.Title), Description: str(req.Description), DueAt: str(req.DueAt), Attachments: req.Attachments,
		InstructorIDs: req.InstructorIDs, AssigneeRegion: str(req.AssigneeRegion)})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (h *handlers) listTasks(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var overdue bool
	switch c.Query("overdue") {
	case "", "false":
	case "true":
		overdue = true
	default:
		fail(c, h.log, apperr.Field("overdue", "overdue应为true或false"))
		return
	}
	items, next, err := h.tasks.List(c.Request.Context(), principal(c), task.Filter{Overdue: overdue, Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getTask(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.tasks.Get(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) reportTask(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		ClientID    *string `json:"client_id"`
		Text        *string `json:"text"`
		Attachments []int64 `json:"attachments"`
		Done        *bool   `json:"done"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	in := task.ReportInput{ClientID: str(req.ClientID), Text: str(req.Text), Attachments: req.Attachments}
	if req.Done != nil {
		in.Done = *req.Done
	}
	v, created, err := h.tasks.Report(c.Request.Context(), principal(c), id, in)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	status := http.StatusOK // a retry of a stored report
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, v)
}

func (h *handlers) listTaskReports(c *gin.Context) {
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
	insID, err := queryID(c, "instructor_id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.tasks.Reports(c.Request.Context(), principal(c), id, task.ReportFilter{InstructorID: insID, Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}
