package rosterxls

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apperr"
	"github.com/xuri/excelize/v2"
)

// tenThousand is a 10,000-row roster (5,000 units of two instructors).
func tenThousand(tb testing.TB) []byte {
	f := excelize.NewFile()
	sw, _ := f.NewStreamWriter("Sheet1")
	sw.SetRow("A1", []any{"单位名称", "单位类型", "区划代码", "姓名", "性别", "民族", "手机号", "身份证号", "政治面貌", "职务", "选聘范围", "任期开始日期"})
	for i := 0; i < 10000; i++ {
		sw.SetRow(fmt.Sprintf("A%d", i+2), []any{fmt.Sprintf("性能测试村%05d", i/2), "村", "130921000000", fmt.Sprintf("测试%05d", i),
			"男", "汉族", fmt.Sprintf("15%09d", i), "", "群众", "村委委员", "村(社区)两委成员", "2024-05-01"})
	}
	sw.Flush()
	var buf bytes.Buffer
	f.Write(&buf)
	return buf.Bytes()
}

// BenchmarkParse reads a 10,000-row import file: the Excel part of the 10-second budget.
func BenchmarkParse(b *testing.B) {
	data := tenThousand(b)
	b.ResetTimer()
	for range b.N {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseFindsColumnsByHeader(t *testing.T) {
	f := excelize.NewFile()
	// Reordered columns, a required mark, an extra column and a blank row.
	f.SetSheetRow("Sheet1", "A1", &[]any{"错误说明", "姓名*", "单位名称*", "单位类型", "区划代码", "性别", "民族", "手机号", "选聘范围", "任期开始日期"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"旧说明", "张三", "西山村", "村", "130102001000", "男", "03", "13812345678", "人民调解员", "2024/5/1"})
	f.SetSheetRow("Sheet1", "A4", &[]any{"", "李四", "东山村", "学校", "130102001000", "女", "回族", "13812345679", "其他", 45413})
	var buf bytes.Buffer
	f.Write(&buf)
	p, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) != 2 || p.Rows[1].Row != 4 {
		t.Fatalf("rows: %+v", p.Rows)
	}
	a, b := p.Rows[0], p.Rows[1]
	if a.Person.Name != "张三" || a.UnitKind != "village" || a.Person.Gender != "male" || a.Person.Ethnicity != "03" ||
		a.Person.SourceCategory != "mediator" || a.TermStart != "2024-05-01" {
		t.Fatalf("first row: %+v", a)
	}
	if b.UnitKind != "school" || b.Person.Ethnicity != "03" || b.TermStart != "2024-05-01" || b.Person.SourceCategory != "other" {
		t.Fatalf("second row: %+v", b)
	}
	// Unknown labels pass through for roster's validation to name.
	if codeOf(nil, " 火星族 ") != "火星族" {
		t.Fatal("unknown label changed")
	}
}

func TestParseRefusesWhatIsNotARoster(t *testing.T) {
	if _, err := Parse([]byte("PK not really")); err == nil {
		t.Fatal("garbage accepted")
	}
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "姓名"})
	var buf bytes.Buffer
	f.Write(&buf)
	if _, err := Parse(buf.Bytes()); err == nil {
		t.Fatal("a sheet without the required headers accepted")
	}
	tpl, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	tpl.Write(&buf)
	if _, err := Parse(buf.Bytes()); err == nil || !strings.Contains(err.Error(), "没有数据行") {
		t.Fatalf("empty template: %v", err)
	}
}

// TestParseStopsAtTheRowLimits: a sheet is read row by row and refused as soon as it has more
// data rows than one import takes, or more rows, blank ones included, than are worth walking (a
// stray cell far down the sheet), with the limit in the message.
func TestParseStopsAtTheRowLimits(t *testing.T) {
	sheet := func(rows map[int]string) []byte {
		f := excelize.NewFile()
		sw, _ := f.NewStreamWriter("Sheet1")
		sw.SetRow("A1", []any{"单位名称", "单位类型", "区划代码", "姓名", "性别", "民族", "手机号", "选聘范围"})
		for n := 2; n <= 1<<20; n++ {
			if v, ok := rows[n]; ok {
				sw.SetRow(fmt.Sprintf("A%d", n), []any{v})
			}
		}
		sw.Flush()
		var buf bytes.Buffer
		f.Write(&buf)
		return buf.Bytes()
	}
	for name, c := range map[string]struct {
		rows  map[int]string
		limit string
	}{
		"a stray cell at row 1,000,000": {map[int]string{2: "西山村", 1000000: "x"}, "100000行"},
		"20,001 data rows": {func() map[int]string {
			m := map[int]string{}
			for n := 2; n <= 20002; n++ {
				m[n] = "村"
			}
			return m
		}(), "20000行"},
	} {
		_, err := Parse(sheet(c.rows))
		e, ok := apperr.As(err)
		if !ok || e.Code != "too_many_rows" || e.Status != http.StatusRequestEntityTooLarge || !strings.Contains(e.Message, c.limit) || e.Details[0].Field != "file" {
			t.Errorf("%s: %v", name, err)
		}
	}
}
