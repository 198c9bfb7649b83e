package app_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// BenchmarkCountyTipPage is one county officer's page of tips, 20 and 100 to a page, through the
// whole server: authentication, the audit entry of a sensitive read, the page's queries and the
// JSON answer. It is the Go side of docs/performance.md's "Lists in the busiest county", where
// 16 callers on two cores queue behind each page's CPU: what one page costs here is what they
// wait for. go test ./server/app -run '^$' -bench CountyTipPage -benchmem
func BenchmarkCountyTipPage(b *testing.B) {
	e := apitest.Shared(b)
	a := e.Area(b)
	staff := e.Staff(b, "county_staff", a.County)
	ins, _ := e.InstructorClient(b, staff, staff.Unit("village", a.Township()))
	at := time.Now().Add(-time.Hour).Format(time.RFC3339)
	for range 101 {
		ins.Submit("tip", apitest.RecordBody("tip", at))
	}
	for _, limit := range []int{20, 100} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			req, err := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/tips?limit=%d", e.URL, limit), nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+staff.Token)
			for b.Loop() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("GET tips: %d, %d bytes, %v", resp.StatusCode, n, err)
				}
				b.SetBytes(n)
			}
		})
	}
}
