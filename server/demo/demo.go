// Package demo seeds a realistic trial county: 大厂回族自治县 (Langfang), a Hui autonomous county
// where ethnic-unity work is daily business, with units of several kinds, instructors and staff
// accounts for each level.
package demo

import (
	"context"
	"fmt"
	"io"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/app"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/auth"
	"github.com/shiliu/shiliu/server/notify"
	"github.com/shiliu/shiliu/server/roster"
)

const (
	County   = "131028000000" // 大厂回族自治县
	City     = "131000000000" // 廊坊市
	Province = "130000000000"
	// RobotKey is the webhook key of the county's robot group; OfficerOpenID the WeChat user the
	// county officer is linked to: fake-wechat maps the login code "dachang" to it.
	RobotKey      = "demo-dachang"
	OfficerOpenID = "o_dachang"
	// officerGrants is how many tip alerts the officer has allowed (each "allow" in WeChat lets
	// one subscribe message through).
	officerGrants = 20
)

type staff struct{ username, role, region, name string }

var staffAccounts = []staff{
	{"dachang", string(access.RoleCountyStaff), County, "大厂县民宗局"},
	{"langfang", string(access.RoleCityStaff), City, "廊坊市民宗局"},
	{"hebei", string(access.RoleProvinceStaff), Province, "省民族事务委员会"},
	{"admin", string(access.RoleAdmin), Province, "系统管理员"},
}

type person struct {
	name, gender, ethnicity, phone, source, position string
}

// Seed creates the demo data and prints the staff passwords once. Running it twice is refused
// politely: the usernames already exist.
func Seed(ctx context.Context, a *app.App, out io.Writer) error {
	var county auth.Account
	for _, s := range staffAccounts {
		pw, err := auth.GeneratePassword()
		if err != nil {
			return err
		}
		acc, err := a.Auth.CreateUser(ctx, s.username, s.role, s.region, pw, s.name)
		if err != nil {
			if apperr.Is(err, "username_taken") {
				return fmt.Errorf("demo data already present (account %s exists)", s.username)
			}
			return err
		}
		if s.role == string(access.RoleCountyStaff) {
			county = acc
		}
		fmt.Fprintf(out, "staff account %-9s %-15s password %s\n", s.username, s.role, pw)
	}
	towns, err := a.Regions.Children(ctx, County)
	if err != nil || len(towns) == 0 {
		return fmt.Errorf("regions of %s not loaded: %v", County, err)
	}
	p := &access.Principal{AccountID: county.ID, Role: access.RoleCountyStaff, RegionCode: County}
	var units []roster.UnitView
	addUnit := func(name, kind, code string) error {
		u, err := a.Roster.CreateUnit(ctx, p, roster.UnitInput{Name: name, Kind: kind, RegionCode: code})
		if err != nil {
			return fmt.Errorf("unit %s: %w", name, err)
		}
		units = append(units, u)
		return nil
	}
	town := towns[0]
	villages, err := a.Regions.Children(ctx, town.Code)
	if err != nil {
		return err
	}
	if err := addUnit(town.Name+"人民政府", "township", town.Code); err != nil {
		return err
	}
	for i, v := range villages {
		if i >= 4 {
			break
		}
		if err := addUnit(v.Name, "village", v.Code); err != nil {
			return err
		}
	}
	extra := []struct{ name, kind string }{
		{"大厂回族自治县民族中学", "school"},
		{"大厂清真寺", "religious_venue"},
		{"大厂县福华肉类有限公司", "enterprise"},
		{"大厂县政务服务中心", "service_window"},
		{"大厂县民族宗教事务局", "organ"},
	}
	for _, e := range extra {
		if err := addUnit(e.name, e.kind, County); err != nil {
			return err
		}
	}
	people := []person{
		{"马建国", "male", "03", "13803160001", "township_cadre", "副镇长"},
		{"刘淑芬", "female", "01", "13803160002", "religious_affairs_cadre", "宗教专干"},
		{"白永利", "male", "03", "13803160003", "village_committee", "村党支部书记"},
		{"张桂兰", "female", "01", "13803160004", "mediator", "人民调解员"},
		{"沙文华", "male", "03", "13803160005", "village_committee", "村委会主任"},
		{"李海燕", "female", "11", "13803160006", "civil_affairs_assistant", "民政协理员"},
		{"杨志刚", "male", "03", "13803160007", "village_committee", "村委会委员"},
		{"赵明", "male", "01", "13803160008", "org_head", "校长"},
		{"金玉珍", "female", "03", "13803160009", "minority_representative", "教师"},
		{"穆哈迈德·海", "male", "03", "13803160010", "org_head", "寺管会主任"},
		{"孙立新", "male", "01", "13803160011", "org_head", "总经理"},
		{"马丽", "female", "03", "13803160012", "other", "窗口负责人"},
		{"王振华", "male", "01", "13803160013", "ethnic_religious_assistant", "民宗助理"},
	}
	for i, per := range people {
		u := units[i%len(units)]
		if i >= len(units) {
			u = units[i-len(units)]
		}
		_, err := a.Roster.CreateInstructor(ctx, p, roster.InstructorInput{
			Name: per.name, Gender: per.gender, Ethnicity: per.ethnicity, Phone: per.phone,
			Position: per.position, SourceCategory: per.source, PoliticalStatus: "cpc_member", UnitID: u.ID,
		})
		if err != nil {
			return fmt.Errorf("instructor %s: %w", per.name, err)
		}
	}
	if err := seedAlerts(ctx, a, p, county.ID); err != nil {
		return err
	}
	fmt.Fprintf(out, "demo county %s: %d units, %d instructors\n", County, len(units), len(people))
	fmt.Fprintf(out, "tip alerts go to the robot group (key %s) and to dachang's WeChat (%s): see them in fake-wechat\n", RobotKey, OfficerOpenID)
	return nil
}

// seedAlerts makes a tip submitted in the trial reach somebody through fake-wechat: a robot group
// for the county's staff, and the county officer linked to a WeChat user who allowed tip alerts.
func seedAlerts(ctx context.Context, a *app.App, p *access.Principal, officer int64) error {
	_, err := a.Notify.CreateGroup(ctx, p, notify.GroupInput{
		Name: "大厂县民族工作群", RegionCode: County, Audience: "county_staff", WebhookKey: RobotKey})
	if err != nil {
		return fmt.Errorf("robot group: %w", err)
	}
	// Staff link their WeChat from the mini-program (POST /api/v1/me/wechat with a wx.login
	// code); the demo does it directly, so it needs no WeChat at seed time.
	openid := OfficerOpenID
	if err := a.DB.WithContext(ctx).Model(&auth.Account{}).Where("id = ?", officer).Update("openid", &openid).Error; err != nil {
		return fmt.Errorf("link the officer's WeChat: %w", err)
	}
	allow := map[string]string{}
	for _, name := range []string{"tip_submitted", "tip_escalated"} {
		if id := a.Config.Notify.Templates[name].ID; id != "" {
			allow[id] = notify.ResultAccept
		}
	}
	if len(allow) == 0 {
		return nil
	}
	officerP := &access.Principal{AccountID: officer, Role: access.RoleCountyStaff, RegionCode: County}
	for range officerGrants {
		if _, err := a.Notify.RecordSubscriptions(ctx, officerP, allow); err != nil {
			return fmt.Errorf("subscribe the officer to tip alerts: %w", err)
		}
	}
	return nil
}
