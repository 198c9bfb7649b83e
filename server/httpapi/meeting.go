package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/meeting"
	"github.com/shiliu/shiliu/server/paging"
)

func (h *handlers) meetingRoutes(in *gin.RouterGroup) {
	in.POST("/meetings", h.createMeeting)
	in.GET("/meetings", h.listMeetings)
	in.GET("/meetings/:id", h.getMeeting)
	in.PATCH("/meetings/:id", h.updateMeeting)
	in.POST("/meetings/:id/cancel", h.cancelMeeting)
	in.POST("/meetings/:id/rsvp", h.rsvpMeeting)
	in.GET("/meetings/:id/checkin-token", h.meetingCheckinToken)
	in.POST("/meetings/:id/checkin", h.checkinMeeting)
	in.GET("/meetings/:id/attendance", h.meetingAttendance)
}

type meetingRequest struct {
	Title         *string  `json:"title"`
	StartsAt      *string  `json:"starts_at"`
	EndsAt        *string  `json:"ends_at"`
	Place         *string  `json:"place"`
	Latitude      *float64 `json:"latitude"`
	Longitude     *float64 `json:"longitude"`
	Agenda        *string  `json:"agenda"`
	Audience      *string  `json:"audience"`
	InstructorIDs *[]int64 `json:"instructor_ids"`
}

func (h *handlers) createMeeting(c *gin.Context) {
	var req meetingRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	in := meeting.Input{
		Title: str(req.Title), StartsAt: str(req.StartsAt), EndsAt: str(req.EndsAt), Place: str(req.Place),
		Latitude: req.Latitude, Longitude: req.Longitude, Agenda: str(req.Agenda), Audience: str(req.Audience),
	}
	if req.InstructorIDs != nil {
		in.InstructorIDs = *req.InstructorIDs
	}
	v, err := h.meetings.Create(c.Request.Context(), principal(c), in)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (h *handlers) listMeetings(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.meetings.List(c.Request.Context(), principal(c), meeting.Filter{
		Status: c.Query("status"), RegionCode: c.Query("region_code"), Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getMeeting(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.meetings.Get(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) updateMeeting(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req meetingRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	if req.Audience != nil {
		fail(c, h.log, apperr.Field("audience", "参会范围不能修改;如需改为其他范围,请取消后重新召开"))
		return
	}
	v, err := h.meetings.Update(c.Request.Context(), principal(c), id, meeting.Patch{
		Title: req.Title, StartsAt: req.StartsAt, EndsAt: req.EndsAt, Place: req.Place, Latitude: req.Latitude,
		Longitude: req.Longitude, Agenda: req.Agenda, InstructorIDs: req.InstructorIDs})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) cancelMeeting(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		Reason *string `json:"reason"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.meetings.Cancel(c.Request.Context(), principal(c), id, str(req.Reason))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) rsvpMeeting(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		Answer *string `json:"answer"`
		Note   *string `json:"note"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.meetings.RSVP(c.Request.Context(), principal(c), id, str(req.Answer), str(req.Note))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) meetingCheckinToken(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.meetings.CheckinToken(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	// The token changes every 30 seconds: no cache may keep it.
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, v)
}

func (h *handlers) checkinMeeting(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		Token     *string  `json:"token"`
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
		Accuracy  *float64 `json:"accuracy"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.meetings.Checkin(c.Request.Context(), principal(c), id, meeting.CheckinInput{
		Token: str(req.Token), Latitude: req.Latitude, Longitude: req.Longitude, Accuracy: req.Accuracy})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) meetingAttendance(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.meetings.Attendance(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
