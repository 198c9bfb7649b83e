package upload_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
	"github.com/shiliu/shiliu/server/upload"
	"gorm.io/gorm"
)

const (
	countyA   = "130102000000"
	townshipA = "130102001000"
	countyB   = "131028000000"
)

type fixture struct {
	db    *database.DB
	svc   *upload.Service
	clock *clock.Fake
	store store
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	store, err := upload.NewDisk(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	return newFixtureOn(t, store)
}

// newFixtureOn is newFixture with files in s.
func newFixtureOn(t *testing.T, s store) fixture {
	t.Helper()
	db, err := database.Open(context.Background(), dbtest.DSN(t, "u"), database.Options{MaxOpenConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background(), migrations.All); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC))
	svc := upload.NewService(db.DB, s, upload.SigningKey("a test secret of at least 32 bytes!!"), clk,
		10*time.Minute, "/api/v1/files", 1<<20, upload.Options{})
	return fixture{db: db, svc: svc, clock: clk, store: s}
}

func instructor(account, instructorID int64) *access.Principal {
	return &access.Principal{AccountID: account, Role: access.RoleInstructor, RegionCode: townshipA, InstructorID: instructorID}
}

func staff(account int64, role access.Role, regionCode string) *access.Principal {
	return &access.Principal{AccountID: account, Role: role, RegionCode: regionCode}
}

func (f fixture) upload(t *testing.T, p *access.Principal) upload.View {
	t.Helper()
	v, created, err := f.svc.Create(context.Background(), p, upload.Input{Name: "photo.jpg", Data: mp3Frames(2)})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	return v
}

// attach runs Attach in a transaction, as a record service would.
func (f fixture) attach(p *access.Principal, ids []int64, kind string, owner int64, regionCode string) error {
	return f.db.Transaction(func(tx *gorm.DB) error {
		return f.svc.Attach(tx, p, ids, kind, owner, regionCode)
	})
}

func wantAttachErr(t *testing.T, err error, contains string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Status != 400 || len(e.Details) == 0 || e.Details[0].Field != "attachments" {
		t.Fatalf("want a 400 naming attachments, got %v", err)
	}
	if !strings.Contains(e.Details[0].Message, contains) {
		t.Fatalf("message %q does not say %q", e.Details[0].Message, contains)
	}
}

func TestAttachRules(t *testing.T) {
	f := newFixture(t)
	me, other := instructor(1, 11), instructor(2, 12)
	a, b := f.upload(t, me), f.upload(t, me)
	theirs := f.upload(t, other)

	if err := f.attach(me, []int64{a.ID, b.ID}, "visit", 100, countyA); err != nil {
		t.Fatal(err)
	}
	// The owner's region replaces the uploader's; retrying the same attach is a no-op.
	if err := f.attach(me, []int64{a.ID, b.ID, a.ID}, "visit", 100, countyA); err != nil {
		t.Fatalf("re-attach to the same owner: %v", err)
	}
	var region string
	f.db.Raw("SELECT region_code FROM uploads WHERE id = ?", a.ID).Scan(&region)
	if region != countyA {
		t.Fatalf("region after attach %q", region)
	}
	got, err := f.svc.List(context.Background(), "visit", []int64{100, 101})
	if err != nil || len(got[100]) != 2 || got[100][0].ID != a.ID || len(got[101]) != 0 {
		t.Fatalf("list: %+v %v", got, err)
	}

	// Attached elsewhere, someone else's, unknown, bad ids: 400 naming attachments, nothing changed.
	wantAttachErr(t, f.attach(me, []int64{a.ID}, "visit", 101, countyA), "已用于其他记录")
	wantAttachErr(t, f.attach(me, []int64{a.ID}, "tip", 100, countyA), "已用于其他记录")
	wantAttachErr(t, f.attach(me, []int64{theirs.ID}, "visit", 101, countyA), "不是您上传的")
	wantAttachErr(t, f.attach(me, []int64{999999}, "visit", 101, countyA), "不存在")
	wantAttachErr(t, f.attach(me, []int64{0}, "visit", 101, countyA), "无效")
	wantAttachErr(t, f.attach(nil, []int64{theirs.ID}, "visit", 101, countyA), "不是您上传的")
	// A failed attach leaves the good ids of the same call unattached (the caller's transaction rolls back).
	c := f.upload(t, me)
	wantAttachErr(t, f.attach(me, []int64{c.ID, theirs.ID}, "visit", 102, countyA), "不是您上传的")
	var owner *int64
	f.db.Raw("SELECT owner_id FROM uploads WHERE id = ?", c.ID).Scan(&owner)
	if owner != nil {
		t.Fatalf("upload %d attached by a failed call", c.ID)
	}
	// Staff attach their own uploads just the same.
	s := staff(3, access.RoleCountyStaff, countyA)
	if err := f.attach(s, []int64{f.upload(t, s).ID}, "bulletin", 7, countyA); err != nil {
		t.Fatal(err)
	}
	if err := f.attach(me, nil, "visit", 103, countyA); err != nil {
		t.Fatalf("no attachments: %v", err)
	}
}

func TestAttachAtMostNine(t *testing.T) {
	f := newFixture(t)
	me := instructor(1, 11)
	var ids []int64
	for i := 0; i < upload.MaxAttachments+1; i++ {
		ids = append(ids, f.upload(t, me).ID)
	}
	wantAttachErr(t, f.attach(me, ids, "tip", 1, countyA), "不能超过9个")
	if err := f.attach(me, ids[:7], "tip", 1, countyA); err != nil {
		t.Fatal(err)
	}
	// Counting what the owner already has: 7 + 3 is too many, 7 + 2 fits.
	wantAttachErr(t, f.attach(me, ids[7:10], "tip", 1, countyA), "不能超过9个")
	if err := f.attach(me, append(ids[:7:7], ids[7:9]...), "tip", 1, countyA); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentAttachHasOneWinner(t *testing.T) {
	f := newFixture(t)
	me := instructor(1, 11)
	id := f.upload(t, me).ID
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = f.attach(me, []int64{id}, "visit", int64(100+i), countyA)
		}(i)
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d attaches won: %v", won, errs)
	}
}

func TestGetScope(t *testing.T) {
	f := newFixture(t)
	me := instructor(1, 11)
	v := f.upload(t, me)
	ctx := context.Background()
	for name, c := range map[string]struct {
		p  *access.Principal
		ok bool
	}{
		"uploader":           {me, true},
		"county in":          {staff(5, access.RoleCountyStaff, countyA), true},
		"city in":            {staff(6, access.RoleCityStaff, "130100000000"), true},
		"province":           {staff(7, access.RoleProvinceStaff, "130000000000"), true},
		"county out":         {staff(8, access.RoleCountyStaff, countyB), false},
		"other instructor":   {instructor(9, 19), false},
		"nobody":             {nil, false},
		"unbound instructor": {&access.Principal{AccountID: 10, Role: access.RoleInstructor, RegionCode: townshipA}, false},
	} {
		_, err := f.svc.Get(ctx, c.p, v.ID)
		if c.ok != (err == nil) {
			t.Errorf("%s: err %v", name, err)
		}
		if err != nil && !apperr.Is(err, "upload_not_found") {
			t.Errorf("%s: %v, want upload_not_found", name, err)
		}
	}
	// Once attached to an owner in county B, county B staff can see it and county A staff no longer.
	if err := f.attach(me, []int64{v.ID}, "visit", 1, countyB); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, staff(8, access.RoleCountyStaff, countyB), v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, staff(5, access.RoleCountyStaff, countyA), v.ID); err == nil {
		t.Fatal("county A still sees it")
	}
}

func TestSignedLinks(t *testing.T) {
	f := newFixture(t)
	v := f.upload(t, instructor(1, 11))
	u, err := url.Parse(v.URL)
	if err != nil || u.Path != fmt.Sprintf("/api/v1/files/%d", v.ID) {
		t.Fatalf("url %q", v.URL)
	}
	exp, sig := u.Query().Get("exp"), u.Query().Get("sig")
	if d := v.ExpiresAt.Sub(f.clock.Now()); d < 10*time.Minute || d > 11*time.Minute {
		t.Fatalf("link lives %v", d)
	}
	ctx := context.Background()
	file, err := f.svc.Open(ctx, v.ID, exp, sig)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(file.Body)
	file.Body.Close()
	if !bytes.Equal(body, mp3Frames(2)) || file.MIME != "audio/mpeg" {
		t.Fatalf("served %d bytes of %s", len(body), file.MIME)
	}
	bad := []struct{ name, exp, sig, code string }{
		{"tampered signature", exp, sig[:len(sig)-1] + "A", "link_invalid"},
		{"no signature", exp, "", "link_invalid"},
		{"longer life", fmt.Sprint(v.ExpiresAt.Unix() + 3600), sig, "link_invalid"},
		{"no expiry", "", sig, "link_invalid"},
	}
	if strings.HasSuffix(sig, "A") {
		bad[0].sig = sig[:len(sig)-1] + "B"
	}
	for _, c := range bad {
		if _, err := f.svc.Open(ctx, v.ID, c.exp, c.sig); !apperr.Is(err, c.code) {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	// Another upload's id with this signature is refused.
	w := f.upload(t, instructor(1, 11))
	if _, err := f.svc.Open(ctx, w.ID, exp, sig); !apperr.Is(err, "link_invalid") {
		t.Errorf("signature moved to another id: %v", err)
	}
	f.clock.Advance(11 * time.Minute)
	if _, err := f.svc.Open(ctx, v.ID, exp, sig); !apperr.Is(err, "link_expired") {
		t.Errorf("after expiry: %v", err)
	}
}

func TestCreateRefuses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	me := instructor(1, 11)
	for name, c := range map[string]struct {
		p    *access.Principal
		data []byte
		code string
	}{
		"text":         {me, []byte("hello, I am text named photo.jpg"), "unsupported_file_type"},
		"empty":        {me, nil, "invalid_argument"},
		"too large":    {me, append(mp3Frames(1), make([]byte, 1<<20)...), "file_too_large"},
		"broken jpeg":  {me, []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00}, "unsupported_file_type"},
		"anonymous":    {nil, mp3Frames(2), "forbidden"},
		"unbound user": {&access.Principal{AccountID: 4, Role: access.RoleInstructor}, mp3Frames(2), "forbidden"},
	} {
		_, _, err := f.svc.Create(ctx, c.p, upload.Input{Name: "x.jpg", Data: c.data})
		if !apperr.Is(err, c.code) {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
	var n int64
	f.db.Raw("SELECT COUNT(*) FROM uploads").Scan(&n)
	if n != 0 {
		t.Fatalf("%d uploads stored", n)
	}
}
