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
	in.PUT("/meetings/:id/minutes", h.saveMeetingMinutes)
	in.GET("/meetings/quiet-counties", h.quietCounties)
	in.POST("/meeting-series", h.createMeetingSeries)
	in.GET("/meeting-series", h.listMeetingSeries)
	in.GET("/meeting-series/:id", h.getMeetingSeries)
	in.PATCH("/meeting-series/:id", h.updateMeetingSeries)
	in.POST("/meeting-series/:id/cancel", h.cancelMeetingSeries)
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
	seriesID, err := queryID(c, "series_id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.meetings.List(c.Request.Context(), principal(c), meeting.Filter{
		Status: c.Query("status"), RegionCode: c.Query("region_code"), SeriesID: seriesID, Page: page})
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

func (h *handlers) saveMeetingMinutes(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req struct {
		Body        *string `json:"body"`
		Attachments []int64 `json:"attachments"`
		Version     *int    `json:"version"`
	}
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.meetings.SaveMinutes(c.Request.Context(), principal(c), id, meeting.MinutesInput{
		Body: str(req.Body), Attachments: req.Attachments, Version: req.Version})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) quietCounties(c *gin.Context) {
	days, err := meeting.ParseQuietDays(c.Query("days"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.meetings.QuietCounties(c.Request.Context(), principal(c), days, c.Query("region_code"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

type meetingSeriesRequest struct {
	Title           *string  `json:"title"`
	Place           *string  `json:"place"`
	Latitude        *float64 `json:"latitude"`
	Longitude       *float64 `json:"longitude"`
	Agenda          *string  `json:"agenda"`
	Audience        *string  `json:"audience"`
	InstructorIDs   []int64  `json:"instructor_ids"`
	Frequency       *string  `json:"frequency"`
	Weekday         *int     `json:"weekday"`
	MonthDay        *int     `json:"month_day"`
	WeekOfMonth     *int     `json:"week_of_month"`
	StartTime       *string  `json:"start_time"`
	DurationMinutes *int     `json:"duration_minutes"`
	StartsOn        *string  `json:"starts_on"`
	Until           *string  `json:"until"`
	Count           *int     `json:"count"`
}

func (h *handlers) createMeetingSeries(c *gin.Context) {
	var req meetingSeriesRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.meetings.CreateSeries(c.Request.Context(), principal(c), meeting.SeriesInput{
		Title: str(req.Title), Place: str(req.Place), Latitude: req.Latitude, Longitude: req.Longitude,
		Agenda: str(req.Agenda), Audience: str(req.Audience), InstructorIDs: req.InstructorIDs,
		Frequency: str(req.Frequency), Weekday: req.Weekday, MonthDay: req.MonthDay, WeekOfMonth: req.WeekOfMonth,
		StartTime: str(req.StartTime), DurationMinutes: req.DurationMinutes, StartsOn: str(req.StartsOn),
		Until: str(req.Until), Count: req.Count,
	})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (h *handlers) listMeetingSeries(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.meetings.ListSeries(c.Request.Context(), principal(c), c.Query("status"), c.Query("region_code"), page)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getMeetingSeries(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.meetings.GetSeries(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) updateMeetingSeries(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req meetingSeriesRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	// The rule, the audience and the end shape which occurrences exist: they are not changed in
	// place (stop the series and schedule a new one).
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"frequency", req.Frequency != nil}, {"weekday", req.Weekday != nil}, {"month_day", req.MonthDay != nil},
		{"week_of_month", req.WeekOfMonth != nil}, {"starts_on", req.StartsOn != nil}, {"until", req.Until != nil},
		{"count", req.Count != nil}, {"audience", req.Audience != nil}, {"instructor_ids", req.InstructorIDs != nil},
		{"latitude", req.Latitude != nil}, {"longitude", req.Longitude != nil},
	} {
		if f.set {
			fail(c, h.log, apperr.Field(f.name, "重复规则、参会范围、会场坐标和结束条件不能修改;如需修改,请停止本定期例会后重新设置"))
			return
		}
	}
	v, err := h.meetings.UpdateSeries(c.Request.Context(), principal(c), id, meeting.SeriesPatch{
		Title: req.Title, Place: req.Place, Agenda: req.Agenda, StartTime: req.StartTime, DurationMinutes: req.DurationMinutes})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) cancelMeetingSeries(c *gin.Context) {
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
	v, err := h.meetings.CancelSeries(c.Request.Context(), principal(c), id, str(req.Reason))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
