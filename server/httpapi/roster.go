package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/roster"
)

type unitRequest struct {
	Name       *string `json:"name"`
	Kind       *string `json:"kind"`
	RegionCode *string `json:"region_code"`
	Address    *string `json:"address"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (h *handlers) createUnit(c *gin.Context) {
	var req unitRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	u, err := h.roster.CreateUnit(c.Request.Context(), principal(c), roster.UnitInput{
		Name: str(req.Name), Kind: str(req.Kind), RegionCode: str(req.RegionCode), Address: str(req.Address)})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, u)
}

func (h *handlers) listUnits(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	heavy, err := queryBool(c, "heavy")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.roster.ListUnits(c.Request.Context(), principal(c), roster.UnitFilter{
		RegionCode: c.Query("region_code"), Kind: c.Query("kind"), Q: c.Query("q"), Heavy: heavy, Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getUnit(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	u, err := h.roster.GetUnit(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

func (h *handlers) updateUnit(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req unitRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	u, err := h.roster.UpdateUnit(c.Request.Context(), principal(c), id, roster.UnitPatch{
		Name: req.Name, Kind: req.Kind, RegionCode: req.RegionCode, Address: req.Address})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

type heavyRequest struct {
	Heavy  *bool  `json:"heavy"`
	Reason string `json:"reason"`
}

// setUnitHeavy flags a unit as one where ethnic work is heavy, or clears the flag.
func (h *handlers) setUnitHeavy(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req heavyRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	if req.Heavy == nil {
		fail(c, h.log, apperr.Field("heavy", "请说明是否为民族工作任务较重的单位"))
		return
	}
	u, err := h.roster.SetHeavy(c.Request.Context(), principal(c), id, *req.Heavy, req.Reason)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

// personRequest is a person as the roster, a nomination and a replacement take them in.
type personRequest struct {
	Name            *string `json:"name"`
	Gender          *string `json:"gender"`
	Ethnicity       *string `json:"ethnicity"`
	Phone           *string `json:"phone"`
	IDNumber        *string `json:"id_number"`
	PoliticalStatus *string `json:"political_status"`
	Position        *string `json:"position"`
	SourceCategory  *string `json:"source_category"`
	UnitID          *int64  `json:"unit_id"`
}

// input is the person as the roster's input, absent fields empty.
func (r personRequest) input() roster.InstructorInput {
	in := roster.InstructorInput{
		Name: str(r.Name), Gender: str(r.Gender), Ethnicity: str(r.Ethnicity), Phone: str(r.Phone),
		IDNumber: str(r.IDNumber), PoliticalStatus: str(r.PoliticalStatus), Position: str(r.Position),
		SourceCategory: str(r.SourceCategory),
	}
	if r.UnitID != nil {
		in.UnitID = *r.UnitID
	}
	return in
}

type instructorRequest struct {
	personRequest
	Status *string `json:"status"`
}

func (h *handlers) createInstructor(c *gin.Context) {
	var req instructorRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	in := req.input()
	in.Status = str(req.Status)
	v, err := h.roster.CreateInstructor(c.Request.Context(), principal(c), in)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (h *handlers) listInstructors(c *gin.Context) {
	page, err := paging.Parse(c.Query("cursor"), c.Query("limit"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	unitID, err := queryID(c, "unit_id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	items, next, err := h.roster.ListInstructors(c.Request.Context(), principal(c), roster.InstructorFilter{
		RegionCode: c.Query("region_code"), UnitID: unitID, Status: c.Query("status"),
		Q: c.Query("q"), Phone: c.Query("phone"), Page: page})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, items, next)
}

func (h *handlers) getInstructor(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.roster.GetInstructor(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) updateInstructor(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var req instructorRequest
	if err := decode(c, &req); err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.roster.UpdateInstructor(c.Request.Context(), principal(c), id, roster.InstructorPatch{
		Name: req.Name, Gender: req.Gender, Ethnicity: req.Ethnicity, Phone: req.Phone, IDNumber: req.IDNumber,
		PoliticalStatus: req.PoliticalStatus, Position: req.Position, SourceCategory: req.SourceCategory,
		UnitID: req.UnitID, Status: req.Status})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) unbindInstructor(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.roster.UnbindWeChat(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) createInvite(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.roster.CreateInvite(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}
