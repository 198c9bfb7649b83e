package httpapi

import (
	"errors"
	"github.com/shiliu/shiliu/server/bulletin"
	"maps"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/adjustment"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/assessment"
	"github.com/shiliu/shiliu/server/filing"
	"github.com/shiliu/shiliu/server/nomination"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/support"
	"github.com/shiliu/shiliu/server/training"
)

// Regions are public statistical data, so they need no login: the binding and self-nomination
// pages of the mini-program use them before the user has an account.
func (h *handlers) listRegions(c *gin.Context) {
	parent := c.DefaultQuery("parent", "13")
	code, ok := region.Normalize(parent)
	if !ok {
		fail(c, h.log, apperr.Field("parent", "上级区划代码应为2、4、6、9或12位数字"))
		return
	}
	if region.LevelOf(code) == 5 {
		list(c, []region.Region{}, "")
		return
	}
	if _, err := h.regions.Get(c.Request.Context(), code); err != nil {
		fail(c, h.log, regionErr(err))
		return
	}
	rows, err := h.regions.Children(c.Request.Context(), code)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	list(c, rows, "")
}

type regionResponse struct {
	Code       string          `json:"code"`
	ParentCode string          `json:"parent_code"`
	Name       string          `json:"name"`
	Level      string          `json:"level"`
	Ancestors  []region.Region `json:"ancestors"`
}

func (h *handlers) getRegion(c *gin.Context) {
	code, ok := region.Normalize(c.Param("code"))
	if !ok {
		fail(c, h.log, apperr.NotFound("行政区划不存在"))
		return
	}
	r, err := h.regions.Get(c.Request.Context(), code)
	if err != nil {
		fail(c, h.log, regionErr(err))
		return
	}
	anc, err := h.regions.Ancestors(c.Request.Context(), code)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if anc == nil {
		anc = []region.Region{}
	}
	c.JSON(http.StatusOK, regionResponse{Code: r.Code, ParentCode: r.ParentCode, Name: r.Name, Level: region.LevelName(r.Level), Ancestors: anc})
}

func regionErr(err error) error {
	if errors.Is(err, region.ErrNotFound) {
		return apperr.NotFound("行政区划不存在")
	}
	return err
}

func (h *handlers) dictionaries(c *gin.Context) {
	d := roster.Dictionaries()
	roles := make([]roster.Code, 0, len(access.Roles))
	for _, r := range access.Roles {
		roles = append(roles, roster.Code{Code: r.Code, Label: r.Label})
	}
	d["role"] = roles
	maps.Copy(d, record.Dictionaries())
	maps.Copy(d, roster.TermDictionaries())
	maps.Copy(d, nomination.Dictionaries())
	maps.Copy(d, filing.Dictionaries())
	maps.Copy(d, training.Dictionaries())
	maps.Copy(d, support.Dictionaries())
	maps.Copy(d, assessment.Dictionaries())
	maps.Copy(d, adjustment.Dictionaries())
	maps.Copy(d, bulletin.Dictionaries())
	c.JSON(http.StatusOK, d)
}
