package roster

// Code is one entry of a fixed code list: the stable code shared by the mini-program, Excel
// import and reports, and its Chinese label.
type Code struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	// KeyTask is set on unit kinds only: what instructors of that kind of unit mainly do, shown to them.
	KeyTask string `json:"key_task,omitempty"`
}

// UnitKinds are the kinds of unit instructors are appointed in, each with its key task.
var UnitKinds = []Code{
	{"township", "乡镇", "顺应城镇化发展趋势,将民族团结进步创建融入乡村振兴战略"},
	{"street", "街道", "顺应城镇化发展趋势,将民族团结进步创建融入乡村振兴战略"},
	{"organ", "机关", "做执行党的民族政策和法律法规的表率,在履职尽职中促进民族团结进步事业"},
	{"community", "社区", "着力巩固拓展各族居民安居乐业的互嵌式环境,促进各族群众交往交流交融"},
	{"village", "村", "着力巩固拓展各族居民安居乐业的互嵌式环境,促进各族群众交往交流交融"},
	{"school", "学校", "把民族团结作为重要课程,确保中华民族共同体意识进课堂、进头脑"},
	{"enterprise", "企业", "引导企业广泛吸纳各族员工就业,团结各族员工致力于加快少数民族和民族地区发展,履行好社会责任"},
	{"military_company", "连队", "指导连队和驻地所在地方弘扬军爱民、民拥军的优良传统,全面推进军民融合发展"},
	{"religious_venue", "宗教活动场所", "将中华民族共同体意识融入“和谐寺观教堂”创建和“四进”活动中,坚持我国宗教中国化方向"},
	{"service_window", "窗口单位", "加大重点行业、窗口单位的创建力度,找准切入点,坚持精准创建"},
	{"new_economic_org", "新经济组织", "加大新经济组织的创建力度,找准切入点,坚持精准创建"},
	{"new_social_org", "新社会组织", "找准切入点,坚持精准创建,防止“一刀切”"},
	{"public_institution", "其他事业单位", "找准切入点,坚持精准创建,防止“一刀切”"},
}

var Genders = []Code{{Code: "male", Label: "男"}, {Code: "female", Label: "女"}}

// Ethnicities are the GB/T 3304 codes: the 56 groups plus 97 其他 and 98 外国血统.
var Ethnicities = []Code{
	{Code: "01", Label: "汉族"}, {Code: "02", Label: "蒙古族"}, {Code: "03", Label: "回族"}, {Code: "04", Label: "藏族"},
	{Code: "05", Label: "维吾尔族"}, {Code: "06", Label: "苗族"}, {Code: "07", Label: "彝族"}, {Code: "08", Label: "壮族"},
	{Code: "09", Label: "布依族"}, {Code: "10", Label: "朝鲜族"}, {Code: "11", Label: "满族"}, {Code: "12", Label: "侗族"},
	{Code: "13", Label: "瑶族"}, {Code: "14", Label: "白族"}, {Code: "15", Label: "土家族"}, {Code: "16", Label: "哈尼族"},
	{Code: "17", Label: "哈萨克族"}, {Code: "18", Label: "傣族"}, {Code: "19", Label: "黎族"}, {Code: "20", Label: "傈僳族"},
	{Code: "21", Label: "佤族"}, {Code: "22", Label: "畲族"}, {Code: "23", Label: "高山族"}, {Code: "24", Label: "拉祜族"},
	{Code: "25", Label: "水族"}, {Code: "26", Label: "东乡族"}, {Code: "27", Label: "纳西族"}, {Code: "28", Label: "景颇族"},
	{Code: "29", Label: "柯尔克孜族"}, {Code: "30", Label: "土族"}, {Code: "31", Label: "达斡尔族"}, {Code: "32", Label: "仫佬族"},
	{Code: "33", Label: "羌族"}, {Code: "34", Label: "布朗族"}, {Code: "35", Label: "撒拉族"}, {Code: "36", Label: "毛南族"},
	{Code: "37", Label: "仡佬族"}, {Code: "38", Label: "锡伯族"}, {Code: "39", Label: "阿昌族"}, {Code: "40", Label: "普米族"},
	{Code: "41", Label: "塔吉克族"}, {Code: "42", Label: "怒族"}, {Code: "43", Label: "乌孜别克族"}, {Code: "44", Label: "俄罗斯族"},
	{Code: "45", Label: "鄂温克族"}, {Code: "46", Label: "德昂族"}, {Code: "47", Label: "保安族"}, {Code: "48", Label: "裕固族"},
	{Code: "49", Label: "京族"}, {Code: "50", Label: "塔塔尔族"}, {Code: "51", Label: "独龙族"}, {Code: "52", Label: "鄂伦春族"},
	{Code: "53", Label: "赫哲族"}, {Code: "54", Label: "门巴族"}, {Code: "55", Label: "珞巴族"}, {Code: "56", Label: "基诺族"},
	{Code: "97", Label: "其他"}, {Code: "98", Label: "外国血统"},
}

// SourceCategories are the ranges instructors are selected from.
var SourceCategories = []Code{
	{Code: "township_cadre", Label: "乡镇(街道)干部"},
	{Code: "religious_affairs_cadre", Label: "宗教专干"},
	{Code: "ethnic_religious_assistant", Label: "民宗助理"},
	{Code: "political_legal_member", Label: "政法委员"},
	{Code: "village_committee", Label: "村(社区)两委成员"},
	{Code: "civil_affairs_assistant", Label: "民政协理员"},
	{Code: "mediator", Label: "人民调解员"},
	{Code: "org_head", Label: "学校、企业、机关事业单位、连队、“两新”组织负责人"},
	{Code: "minority_representative", Label: "少数民族群众代表"},
	{Code: "other", Label: "其他"},
}

var PoliticalStatuses = []Code{
	{Code: "cpc_member", Label: "中共党员"},
	{Code: "cpc_probationary", Label: "中共预备党员"},
	{Code: "cyl_member", Label: "共青团员"},
	{Code: "democratic_party", Label: "民主党派成员"},
	{Code: "non_party", Label: "无党派人士"},
	{Code: "masses", Label: "群众"},
}

// Instructor statuses. Only active instructors count toward a unit's limit and may log in.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusDismissed = "dismissed"
	StatusTermEnded = "term_ended"
)

var InstructorStatuses = []Code{
	{Code: StatusActive, Label: "在任"},
	{Code: StatusSuspended, Label: "暂停履职"},
	{Code: StatusDismissed, Label: "已解聘"},
	{Code: StatusTermEnded, Label: "任期届满"},
}

// Dictionaries are all code lists by name, as GET /api/v1/dictionaries returns them.
func Dictionaries() map[string][]Code {
	return map[string][]Code{
		"unit_kind":         UnitKinds,
		"gender":            Genders,
		"ethnicity":         Ethnicities,
		"source_category":   SourceCategories,
		"political_status":  PoliticalStatuses,
		"instructor_status": InstructorStatuses,
	}
}

func lookup(list []Code, code string) (Code, bool) {
	for _, c := range list {
		if c.Code == code {
			return c, true
		}
	}
	return Code{}, false
}

// OneOf is a validate.Checker.OneOf predicate: code is in list.
func OneOf(list []Code) func(string) bool {
	return func(s string) bool { _, ok := lookup(list, s); return ok }
}

// Label returns the Chinese label of code in list, or "".
// Codes are the codes of list, in order.
func Codes(list []Code) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.Code
	}
	return out
}

func Label(list []Code, code string) string {
	c, _ := lookup(list, code)
	return c.Label
}
