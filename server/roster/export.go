package roster

import (
	"context"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/paging"
)

var errStaffFiles = apperr.Forbidden("只有民族工作部门工作人员可以导入导出指导员名册")

// CheckFileAccess refuses the roster's workbooks (template, import, export) to anyone but staff;
// an import calls it before reading the upload.
func CheckFileAccess(p *access.Principal) error {
	if !p.IsStaff() {
		return errStaffFiles
	}
	return nil
}

// exportPage is how many instructors an export reads at a time.
const exportPage = 1000

// Export hands every instructor in scope that the list filter selects to add, a page at a time in
// list order. The filter's page is ignored.
func (s *Service) Export(ctx context.Context, p *access.Principal, f InstructorFilter, add func([]InstructorView) error) error {
	if err := CheckFileAccess(p); err != nil {
		return err
	}
	f.Page = paging.Page{Limit: exportPage}
	for {
		items, next, err := s.ListInstructors(ctx, p, f)
		if err != nil {
			return err
		}
		if err := add(items); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if f.Page, err = paging.Parse(next, ""); err != nil {
			return err
		}
		f.Page.Limit = exportPage
	}
}
