package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/rosterxls"
	"github.com/xuri/excelize/v2"
)

// importMaxBytes caps an import workbook: 10,000 rows make about 600 KB.
const importMaxBytes = 20 << 20

var errImportTooLarge = apperr.New(http.StatusRequestEntityTooLarge, "file_too_large", "Excel文件不能超过20MB,请分批导入").
	WithField("file", "文件过大")

func (h *handlers) excelRoutes(in *gin.RouterGroup) {
	in.GET("/roster/template.xlsx", h.rosterTemplate)
	in.POST("/roster/import", h.importRoster)
	in.GET("/roster/export.xlsx", h.exportRoster)
}

// sendXLSX answers with a workbook as a download.
func (h *handlers) sendXLSX(c *gin.Context, status int, name string, f *excelize.File) {
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		fail(c, h.log, err)
		return
	}
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Header("Cache-Control", "no-store")
	c.Data(status, rosterxls.ContentType, buf.Bytes())
}

func (h *handlers) rosterTemplate(c *gin.Context) {
	if err := roster.CheckFileAccess(principal(c)); err != nil {
		fail(c, h.log, err)
		return
	}
	f, err := rosterxls.Template()
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.sendXLSX(c, http.StatusOK, "指导员名册导入模板.xlsx", f)
}

// importReport is the refusal of an import: the error format plus the problems by row, the first
// maxImportReportErrors of them (a file wrong in every row would otherwise answer with megabytes
// of JSON); ErrorsTotal counts them all, and ?report=xlsx marks every one in the sheet.
type importReport struct {
	errorBody
	Errors      []roster.RowError `json:"errors"`
	ErrorsTotal int               `json:"errors_total"`
}

const maxImportReportErrors = 1000

// importRoster reads the multipart field "file" and imports it whole or not at all. With
// ?report=xlsx a refused file comes back as the uploaded sheet with the problems marked.
func (h *handlers) importRoster(c *gin.Context) {
	p := principal(c)
	if err := roster.CheckFileAccess(p); err != nil {
		fail(c, h.log, err)
		return
	}
	report := c.Query("report")
	if report != "" && report != "json" && report != "xlsx" {
		fail(c, h.log, apperr.Field("report", "report应为json或xlsx"))
		return
	}
	if c.ContentType() != "multipart/form-data" {
		fail(c, h.log, errNotMultipart)
		return
	}
	// The place is taken before the body is read, so that memory holds at most that many
	// workbooks, read or unpacked.
	release, err := h.imports.admit()
	if err != nil {
		fail(c, h.log, err)
		return
	}
	defer release()
	body := h.receiveBody(c)
	data, err := readFilePart(c)
	if err = body.finish(err); err != nil {
		fail(c, h.log, err)
		return
	}
	parsed, err := rosterxls.Parse(data)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	res, err := h.roster.Import(c.Request.Context(), p, parsed.Rows)
	var refused *roster.ImportErrors
	if errors.As(err, &refused) {
		if report == "xlsx" {
			f, err := parsed.ErrorReport(refused.Errors)
			if err != nil {
				fail(c, h.log, err)
				return
			}
			h.sendXLSX(c, http.StatusBadRequest, "指导员名册导入错误报告.xlsx", f)
			return
		}
		listed := refused.Errors
		if len(listed) > maxImportReportErrors {
			listed = listed[:maxImportReportErrors]
		}
		c.AbortWithStatusJSON(http.StatusBadRequest, importReport{
			errorBody: errorBody{Code: "import_invalid", Details: []apperr.FieldError{}, RequestID: requestID(c),
				Message: "导入文件中有" + strconv.Itoa(len(refused.Errors)) + "处错误,未导入任何数据;请按错误清单修改后重新上传"},
			Errors: listed, ErrorsTotal: len(refused.Errors)})
		return
	}
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, res)
}

// readFilePart reads the multipart field "file" whole (a workbook is read whole anyway).
func readFilePart(c *gin.Context) ([]byte, error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, errBadForm
	}
	for {
		part, err := mr.NextPart()
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return nil, errNoFile
		case errors.As(err, &tooBig):
			return nil, errImportTooLarge
		case err != nil:
			return nil, errBadForm.Wrap(err)
		}
		if part.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(part)
		if errors.As(err, &tooBig) {
			return nil, errImportTooLarge
		}
		if err != nil {
			return nil, errBadForm.Wrap(err)
		}
		if len(data) == 0 {
			return nil, errNoFile
		}
		return data, nil
	}
}

// exportRoster writes the instructors in scope that the list filters select, all of them.
func (h *handlers) exportRoster(c *gin.Context) {
	unitID, err := queryID(c, "unit_id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.extendDeadlines(c)
	ctx := c.Request.Context()
	x, err := rosterxls.NewRosterExport(func(code string) string {
		if r, err := h.regions.Get(ctx, code); err == nil {
			return r.Name
		}
		return ""
	})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f := roster.InstructorFilter{RegionCode: c.Query("region_code"), UnitID: unitID, Status: c.Query("status"),
		Q: c.Query("q"), Phone: c.Query("phone")}
	if err := h.roster.Export(ctx, principal(c), f, x.Add); err != nil {
		fail(c, h.log, err)
		return
	}
	book, err := x.Finish()
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.sendXLSX(c, http.StatusOK, "指导员名册.xlsx", book)
}

func (h *handlers) exportFiling(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	d, err := h.filings.Get(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f, err := rosterxls.Filing(d)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.sendXLSX(c, http.StatusOK, "指导员名册备案"+strconv.FormatInt(id, 10)+".xlsx", f)
}
