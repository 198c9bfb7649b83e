package record

import (
	"slices"
	"strings"
)

// Roles are the five roles of an instructor (measures §三). Every record says which one it served,
// so that the statistics show which roles a region's instructors neglect.
var Roles = []Code{
	{Code: RolePoliticalGuide, Label: "政治引领员"},
	{Code: RolePolicyPublicist, Label: "政策宣传员"},
	{Code: RoleActivityOrganizer, Label: "活动组织员"},
	{Code: RoleStabilityMediator, Label: "维稳调解员"},
	{Code: RoleSentimentLiaison, Label: "民情联络员"},
}

// Role codes.
const (
	RolePoliticalGuide    = "political_guide"
	RolePolicyPublicist   = "policy_publicist"
	RoleActivityOrganizer = "activity_organizer"
	RoleStabilityMediator = "stability_mediator"
	RoleSentimentLiaison  = "sentiment_liaison"
)

// Tags are what a record can be tagged with: the province's brand 石榴花开 and the duties of
// §三(二)–(六) it served. A record takes any number of them, each once.
var Tags = []Code{
	{Code: "shiliu_brand", Label: "石榴花开"},
	{Code: "study_publicity", Label: "学习宣传"},
	{Code: "brand_building", Label: "品牌创建"},
	{Code: "livelihood", Label: "民生与乡村振兴"},
	{Code: "special_needs", Label: "特殊群体帮扶"},
	{Code: "exchange", Label: "交往交流交融"},
}

// visitRoles are the default roles of visits by visit kind; a kind not listed serves the
// sentiment liaison (condolence, help and home visits listen to people and pass their needs on).
var visitRoles = map[string]string{
	"policy_publicity": RolePolicyPublicist,
	"activity":         RoleActivityOrganizer,
	"other":            RolePoliticalGuide,
}

// DefaultRole is the role a record serves unless its author says otherwise: sentiment reports the
// liaison (§三(八)), tips and mediations the stability mediator (§三(七)), visits by their kind.
// Migration 38 gave the records stored before it the same defaults.
func DefaultRole(kind string, d Detail) string {
	switch kind {
	case "sentiment":
		return RoleSentimentLiaison
	case "tip", "mediation":
		return RoleStabilityMediator
	case "visit":
		if v, ok := d.(*Visit); ok {
			if r, ok := visitRoles[v.VisitKind]; ok {
				return r
			}
		}
		return RoleSentimentLiaison
	}
	return RolePoliticalGuide
}

// readRoleAndTags reads the role and tags of a submission or a correction; absent fields stay.
func readRoleAndTags(f *fields, rec *Record) (roleGiven bool) {
	var role string
	if f.str("role", "工作角色", &role) {
		// Given, it is one of the five; left out (or null), the default.
		f.oneOf("role", "工作角色", role, true, Roles)
		rec.Role, roleGiven = role, true
	}
	var tags []string
	if f.strs("tags", "标签", &tags) {
		bad := false
		for _, t := range tags {
			if label(Tags, t) == "" {
				bad = true
			}
		}
		if bad {
			f.fail("tags", "标签的取值无效,应为 "+strings.Join(codesOf(Tags), "、")+" 中的一个或多个")
		} else {
			rec.Tags = joinTags(tags)
		}
	}
	return roleGiven
}

func codesOf(list []Code) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.Code
	}
	return out
}

// joinTags is the stored form of tags: each once, in the order of the code list, comma-separated.
func joinTags(tags []string) string {
	var out []string
	for _, c := range Tags {
		if slices.Contains(tags, c.Code) {
			out = append(out, c.Code)
		}
	}
	return strings.Join(out, ",")
}

// SplitTags reads the stored form of tags.
func SplitTags(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func tagNames(tags []string) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = label(Tags, t)
	}
	return out
}
