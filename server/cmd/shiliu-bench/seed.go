package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/roster"
)

// The seed bypasses the API on purpose: a million submissions through HTTP would take hours and
// measure nothing the submission phase does not. It writes what the API would have written
// for each record — the record row and its kind's detail row, with statuses and workflow
// timestamps as staff would have left them — in multi-row INSERTs, many per transaction. It
// does not write timelines, versions, outbox events or attachments: no list reads them.

type place struct{ code, name string }

type county struct {
	code, name string
	villages   []place
}

type seedInstructor struct {
	id, unitID int64
	region     string
	village    string
	weight     float64
}

type seeder struct {
	db      *sql.DB
	dialect database.Dialect
	box     *secret.Box
	rng     *rand.Rand
	now     time.Time
	// waiting is the share of tips left waiting for acknowledgement (0 in the usual seed, whose
	// tips were all acknowledged or escalated).
	waiting float64
	// rows per INSERT statement and statements per transaction
	rowsPerInsert, insertsPerTx int
	// conns is how many connections write the records' batches (-bulk); the batches are still
	// generated in order by one goroutine, so the seed is the same whatever the number.
	conns int
	logf  func(format string, args ...any)
}

func newSeeder(db *sql.DB, dialect database.Dialect, box *secret.Box, now time.Time, logf func(string, ...any)) *seeder {
	s := &seeder{db: db, dialect: dialect, box: box, rng: rand.New(rand.NewPCG(20240501, 130000)), now: now, logf: logf,
		rowsPerInsert: 1000, insertsPerTx: 10, conns: 1}
	if dialect == database.SQLite {
		// The pure-Go driver binds a statement's parameters in quadratic time (docs/performance.md).
		s.rowsPerInsert, s.insertsPerTx = 50, 200
	}
	return s
}

// counties reads Hebei's 190 county-level divisions and their villages and communities.
func (s *seeder) counties(ctx context.Context) ([]county, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT code, name, level FROM regions WHERE level IN (3, 5) ORDER BY code")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byPrefix := map[string]*county{}
	var out []*county
	for rows.Next() {
		var code, name string
		var level int
		if err := rows.Scan(&code, &name, &level); err != nil {
			return nil, err
		}
		if level == 3 {
			c := &county{code: code, name: name}
			byPrefix[code[:6]] = c
			out = append(out, c)
			continue
		}
		if c := byPrefix[code[:6]]; c != nil {
			c.villages = append(c.villages, place{code, name})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	res := make([]county, 0, len(out))
	for _, c := range out {
		if len(c.villages) > 0 {
			res = append(res, *c)
		}
	}
	return res, nil
}

// insert writes rows into table in multi-row statements inside tx.
func (s *seeder) insert(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	for len(rows) > 0 {
		n := min(len(rows), s.rowsPerInsert)
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		args := make([]any, 0, n*len(cols))
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, rows[i]...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}

func (s *seeder) pick(list []roster.Code) string { return list[s.rng.IntN(len(list))].Code }

// weighted picks a code by weights given in the same order.
func (s *seeder) weighted(codes []string, weights []float64) string {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := s.rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return codes[i]
		}
		x -= w
	}
	return codes[len(codes)-1]
}

var (
	surnames  = []rune("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	givenName = []rune("建国华明军伟芳秀英丽强磊洋勇艳杰娟涛敏静超平刚桂兰红霞玉梅志海波鹏飞宇浩然佳文博晓东晨阳春雪燕立新永福德清振兴")
)

func (s *seeder) personName() string {
	n := []rune{surnames[s.rng.IntN(len(surnames))]}
	for i := 0; i < 1+s.rng.IntN(2); i++ {
		n = append(n, givenName[s.rng.IntN(len(givenName))])
	}
	return string(n)
}

// roster seeds units in the villages of every county, one or two active instructors each, and
// returns the instructors. Counties get instructors in proportion to their villages.
func (s *seeder) roster(ctx context.Context, counties []county, total int) ([]seedInstructor, error) {
	villages := 0
	for _, c := range counties {
		villages += len(c.villages)
	}
	var unitRows, insRows [][]any
	var out []seedInstructor
	unitID, insID := int64(1), int64(1)
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM units").Scan(&unitID); err != nil {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM instructors").Scan(&insID); err != nil {
		return nil, err
	}
	kinds := []string{"village", "community", "school", "enterprise", "religious_venue", "organ", "service_window"}
	kindWeights := []float64{74, 10, 7, 4, 2, 2, 1}
	suffix := map[string]string{"village": "村民委员会", "community": "社区居民委员会", "school": "小学", "enterprise": "农业专业合作社",
		"religious_venue": "清真寺", "organ": "便民服务站", "service_window": "卫生室"}
	ethnic := []string{"01", "03", "11", "02", "10"}
	ethnicWeights := []float64{80, 9, 8, 2, 1}
	used := map[string]bool{}
	created := s.now.AddDate(-2, -1, 0)
	for ci, c := range counties {
		n := int(math.Round(float64(total) * float64(len(c.villages)) / float64(villages)))
		if ci == len(counties)-1 {
			n = total - len(out)
		}
		n = max(n, 2)
		for placed := 0; placed < n; {
			v := c.villages[s.rng.IntN(len(c.villages))]
			kind := s.weighted(kinds, kindWeights)
			name := v.name + suffix[kind]
			for i := 2; used[v.code+name]; i++ {
				name = fmt.Sprintf("%s%s(%d)", v.name, suffix[kind], i)
			}
			used[v.code+name] = true
			size := 1
			if s.rng.Float64() < 0.6 && n-placed >= 2 {
				size = 2
			}
			unitRows = append(unitRows, []any{unitID, name, kind, v.code, v.name, size, 0, created, created})
			for j := 0; j < size; j++ {
				phone := fmt.Sprintf("138%08d", insID)
				enc, err := s.box.Encrypt(phone)
				if err != nil {
					return nil, err
				}
				start := time.Date(2023+s.rng.IntN(2), time.Month(1+s.rng.IntN(12)), 1+s.rng.IntN(28), 0, 0, 0, 0, time.UTC)
				insRows = append(insRows, []any{insID, unitID, v.code, s.personName(), s.pick(roster.Genders), s.weighted(ethnic, ethnicWeights),
					enc, s.box.Hash(phone), "", nil, s.pick(roster.PoliticalStatuses), "村委委员", s.pick(roster.SourceCategories),
					roster.StatusActive, 0, created, created, start, start.AddDate(3, 0, 0)})
				// A few instructors write most of the records: activity is log-normal.
				out = append(out, seedInstructor{id: insID, unitID: unitID, region: v.code, village: v.name, weight: math.Exp(0.9 * s.rng.NormFloat64())})
				insID++
			}
			unitID++
			placed += size
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := s.insert(ctx, tx, "units", []string{"id", "name", "kind", "region_code", "address", "active_instructors", "created_by", "created_at", "updated_at"}, unitRows); err != nil {
		return nil, err
	}
	if err := s.insert(ctx, tx, "instructors", []string{"id", "unit_id", "region_code", "name", "gender", "ethnicity", "phone_enc", "phone_hash",
		"id_number_enc", "id_number_hash", "political_status", "position", "source_category", "status", "created_by", "created_at", "updated_at",
		"term_start", "term_end"}, insRows); err != nil {
		return nil, err
	}
	s.logf("seeded %d units and %d instructors in %d counties", len(unitRows), len(insRows), len(counties))
	return out, tx.Commit()
}

// Text pools: what instructors type on a phone, a sentence or three.
var (
	visitContent = []string{
		"入户走访各族群众,宣讲党的民族政策和惠民政策,了解生产生活情况。",
		"走访慰问少数民族困难家庭,送去米面油等生活物资,询问就医就学需求。",
		"组织村民开展民族团结进步主题宣传,发放宣传材料。",
		"协助回族群众办理低保申请材料,讲解医保报销政策。",
		"走访村内清真餐馆和养殖户,了解经营困难,帮助对接贷款政策。",
		"到学校开展中华民族共同体意识教育进课堂活动。",
		"了解外出务工人员返乡就业意向,登记技能培训需求。",
		"与村两委座谈,梳理近期群众反映的问题,建立工作台账。",
	}
	sentimentContent = []string{
		"村民反映饮水管道老化,夏季经常停水,希望尽快维修。",
		"群众反映村内道路破损严重,雨天出行困难。",
		"少数民族群众反映子女入学需要开具的证明材料较多,办理不便。",
		"养殖户反映牛羊收购价格下跌,希望了解有关扶持政策。",
		"群众反映宅基地审批进度慢,建房计划受到影响。",
		"回族群众反映清真食品供应点较少,购买不便。",
		"村民反映医保缴费标准上涨,部分困难家庭负担较重。",
		"外出务工返乡人员反映就业信息渠道少,希望组织招聘活动。",
	}
	tipContent = []string{
		"两户村民因宅基地边界发生口角,情绪较为激动,存在激化可能。",
		"网络群中出现涉及民族问题的不当言论,有少量转发。",
		"某企业拖欠少数民族务工人员工资,工人准备集体讨要。",
		"两个村因灌溉用水分配发生争执,双方各有十余人聚集。",
		"有人在集市散发未经审批的宗教宣传品。",
		"婚丧习俗差异引发邻里矛盾,双方家族均有人介入。",
		"土地流转合同到期后租金标准存在分歧,部分村民到村委会反映。",
	}
	mediationProcess = []string{
		"召集双方到村委会,由人民调解员主持协商,讲清政策法规。",
		"分别做双方当事人工作,邀请双方信任的长辈参与调解。",
		"联合司法所、派出所共同调解,现场查看边界并测量。",
		"通过多次上门沟通,引导双方互谅互让。",
	}
	mediationAgreement = []string{
		"双方同意重新测量宅基地边界,以测量结果为准。",
		"一方赔偿另一方损失,双方签订调解协议。",
		"双方约定错时灌溉,由村委会监督执行。",
		"",
	}
	sentimentSuggestion = []string{"尽快维修。", "希望有关部门协调解决。", "建议加强政策宣传。", ""}
	groups              = []string{"两户村民", "回族群众", "外出务工人员", "养殖户", "少数民族学生家长", "相邻两村村民"}
	departments         = []string{"县水利局", "县住建局", "县教育局", "县人社局", "县农业农村局", "乡镇政府"}
	placeSuffix         = []string{"村委会", "文化广场", "党群服务中心", "村民家中", "田间地头", "卫生室"}
)

func (s *seeder) one(list []string) string { return list[s.rng.IntN(len(list))] }

func codesOf(list []roster.Code) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.Code
	}
	return out
}

func (s *seeder) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

var recordCols = []string{"id", "kind", "client_id", "body_hash", "author_id", "author_account_id", "unit_id", "region_code", "title",
	"search_text", "occurred_at", "received_at", "place", "latitude", "longitude", "status", "locked", "return_note", "withdraw_reason",
	"version", "updated_at"}

var detailCols = map[string][]string{
	"record_visits":     {"record_id", "visit_kind", "households", "people", "ethnicities", "content", "follow_up_needed"},
	"record_sentiments": {"record_id", "category", "content", "people_affected", "urgency", "suggestion", "forwarded_to", "forwarded_at", "answer", "answered_at", "closed_at"},
	"record_tips": {"record_id", "level", "tip_kind", "people_involved", "groups_involved", "description", "ongoing", "submitted_at", "ack_deadline",
		"acknowledged_at", "escalated_to_level", "escalated_at", "resolved_at", "duplicate_of"},
	"record_mediations": {"record_id", "dispute_kind", "parties", "process", "outcome", "agreement"},
}

var detailTable = map[string]string{"visit": "record_visits", "sentiment": "record_sentiments", "tip": "record_tips", "mediation": "record_mediations"}

type seedBatch struct {
	records [][]any
	details map[string][][]any
}

// stream is one sequence of records to seed: its authors (in proportion to their activity) and,
// for the skewed counties, which kind the i-th record is.
type stream struct {
	n, done int
	ins     []seedInstructor
	cum     []float64
	total   float64
	kindAt  func(i, n int) string // nil: the usual mix
	next    time.Time
}

func newStream(ins []seedInstructor, n int, kindAt func(i, n int) string) *stream {
	st := &stream{n: n, ins: ins, kindAt: kindAt, cum: make([]float64, len(ins))}
	for i, in := range ins {
		st.total += in.weight
		st.cum[i] = st.total
	}
	return st
}

// records seeds n records over the two years before now, received in id order, written by the
// instructors in proportion to their activity: visits 60 %, sentiments 20 %, tips 10 %,
// mediations 10 %.
func (s *seeder) records(ctx context.Context, ins []seedInstructor, n int) error {
	return s.streams(ctx, s.now.AddDate(-2, 0, 0), []*stream{newStream(ins, n, nil)})
}

// streams seeds every stream over the time from start to now, each evenly, merged so that ids
// follow the time received across all of them, as the server assigns them.
func (s *seeder) streams(ctx context.Context, start time.Time, sts []*stream) error {
	var firstID int64
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM records").Scan(&firstID); err != nil {
		return err
	}
	span := s.now.Add(-time.Hour).Sub(start)
	n := 0
	at := func(st *stream) time.Time {
		return start.Add(time.Duration(float64(span) * (float64(st.done) + s.rng.Float64()) / float64(st.n))).Truncate(time.Millisecond)
	}
	for _, st := range sts {
		n += st.n
		st.next = at(st)
	}
	perTx := s.rowsPerInsert * s.insertsPerTx
	began := time.Now()
	put, wait := s.writers(ctx)
	for done := 0; done < n; {
		b := seedBatch{details: map[string][][]any{}}
		for i := 0; i < perTx && done < n; i++ {
			var st *stream
			for _, x := range sts {
				if x.done < x.n && (st == nil || x.next.Before(st.next)) {
					st = x
				}
			}
			in := st.ins[sort.SearchFloat64s(st.cum, s.rng.Float64()*st.total)]
			kind := ""
			if st.kindAt != nil {
				kind = st.kindAt(st.done, st.n)
			}
			s.record(&b, firstID+int64(done), in, st.next, kind)
			st.done++
			if st.done < st.n {
				st.next = at(st)
			}
			done++
		}
		if err := put(b); err != nil {
			wait()
			return err
		}
		if step := max(100000, n/100); done%step < perTx || done == n {
			el := time.Since(began)
			s.logf("seeded %d records in %s (%.0f records/s)", done, el.Round(time.Second), float64(done)/el.Seconds())
		}
	}
	return wait()
}

// writers returns put, which writes a batch, and wait, which waits for the batches put and
// returns the first error. With one connection put writes at once; with more, the batches go to
// that many connections (MySQL), each with unique checks off: the bulk seed rebuilds the
// indexes afterwards, and the ids it writes are unique by construction.
func (s *seeder) writers(ctx context.Context) (put func(seedBatch) error, wait func() error) {
	if s.conns <= 1 {
		return func(b seedBatch) error { return s.write(ctx, s.db, b) }, func() error { return nil }
	}
	ctx, cancel := context.WithCancelCause(ctx)
	batches := make(chan seedBatch, s.conns)
	var wg sync.WaitGroup
	for range s.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := s.db.Conn(ctx)
			if err == nil {
				defer conn.Close()
				_, err = conn.ExecContext(ctx, "SET unique_checks = 0")
			}
			for b := range batches {
				if err == nil {
					err = s.write(ctx, conn, b)
				}
			}
			if err != nil {
				cancel(err)
			}
		}()
	}
	put = func(b seedBatch) error {
		select {
		case batches <- b:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	var once sync.Once
	wait = func() error {
		once.Do(func() { close(batches) })
		wg.Wait()
		// nil unless a writer failed or the seed was interrupted
		err := context.Cause(ctx)
		cancel(nil)
		return err
	}
	return put, wait
}

// Skewed counties: the kinds of a county's records come in blocks of time, so that one kind's
// newest record lies under hundreds of thousands of newer records of other kinds. "tips old":
// tips (oldest), mediations, sentiments, visits (newest 60 %); "tips new": the reverse order.
var (
	skewKinds    = []string{"tip", "mediation", "sentiment", "visit"}
	skewShares   = []float64{0.10, 0.10, 0.20, 0.60}
	tipsOld      = func(i, n int) string { return blockKind(skewKinds, skewShares, float64(i)/float64(n)) }
	tipsNew      = func(i, n int) string { return blockKind(skewKinds, skewShares, 1-float64(i+1)/float64(n)) }
	skewCounties = []countyProfile{{"tips old", tipsOld}, {"tips new", tipsNew}}
)

// blockKind is the kind whose block holds position x in [0, 1).
func blockKind(kinds []string, shares []float64, x float64) string {
	for i, sh := range shares {
		if x < sh {
			return kinds[i]
		}
		x -= sh
	}
	return kinds[len(kinds)-1]
}

type countyProfile struct {
	label  string
	kindAt func(i, n int) string // nil: the usual mix
}

// busyCounty is the profile of -busy: one county far busier than the others, its kinds in the
// usual mix.
var busyCounty = []countyProfile{{"busy, usual mix", nil}}

// skewed seeds background records over five years in every county but the busiest ones (by
// villages, one per profile), and perCounty records in each of those over the same five years,
// with their kinds as the profile says (skewCounties for -skew, busyCounty for -busy). It returns
// the busy counties' codes.
func (s *seeder) skewed(ctx context.Context, counties []county, ins []seedInstructor, background, perCounty int, profiles []countyProfile) ([]string, error) {
	byVillages := slices.Clone(counties)
	slices.SortStableFunc(byVillages, func(a, b county) int { return len(b.villages) - len(a.villages) })
	var picked []string
	own := map[string][]seedInstructor{}
	for _, c := range byVillages[:len(profiles)] {
		picked = append(picked, c.code)
	}
	var rest []seedInstructor
	for _, in := range ins {
		if c := in.region[:6] + "000000"; slices.Contains(picked, c) {
			own[c] = append(own[c], in)
		} else {
			rest = append(rest, in)
		}
	}
	sts := []*stream{newStream(rest, background, nil)}
	for i, code := range picked {
		sts = append(sts, newStream(own[code], perCounty, profiles[i].kindAt))
		s.logf("busy county %s (%s): %d records by %d instructors", code, profiles[i].label, perCounty, len(own[code]))
	}
	return picked, s.streams(ctx, s.now.AddDate(-5, 0, 0), sts)
}

// txBeginner is a pool or one connection of it.
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

func (s *seeder) write(ctx context.Context, db txBeginner, b seedBatch) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.insert(ctx, tx, "records", recordCols, b.records); err != nil {
		return err
	}
	for table, rows := range b.details {
		if err := s.insert(ctx, tx, table, detailCols[table], rows); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// record generates one record and its detail as the API and the staff workflow would have left
// them.
func (s *seeder) record(b *seedBatch, id int64, in seedInstructor, received time.Time, kind string) {
	// Most records are written on the spot; some are offline drafts sent days later.
	var delay time.Duration
	switch x := s.rng.Float64(); {
	case x < 0.7:
		delay = time.Duration(s.rng.Int64N(int64(6 * time.Hour)))
	case x < 0.95:
		delay = 6*time.Hour + time.Duration(s.rng.Int64N(int64(66*time.Hour)))
	default:
		delay = 3*24*time.Hour + time.Duration(s.rng.Int64N(int64(17*24*time.Hour)))
	}
	occurred := received.Add(-delay).Truncate(time.Millisecond)
	age := s.now.Sub(received)
	if kind == "" {
		kind = s.weighted([]string{"visit", "sentiment", "tip", "mediation"}, []float64{60, 20, 10, 10})
	}
	status, locked, version := "submitted", false, 1
	returnNote, withdrawReason := "", ""
	act := func(after time.Duration) time.Time {
		return received.Add(time.Duration(s.rng.Int64N(int64(after)))).Truncate(time.Millisecond)
	}
	updated := received
	var title, text string
	var detail []any
	switch kind {
	case "visit":
		vk := s.pick(record.VisitKinds)
		content := s.one(visitContent)
		eth := []string{"01", s.one([]string{"03", "11", "02"})}
		title = in.village + roster.Label(record.VisitKinds, vk)
		text = content
		detail = []any{id, vk, 1 + s.rng.IntN(20), 1 + s.rng.IntN(60), strings.Join(eth, ","), content, s.rng.Float64() < 0.1}
	case "sentiment":
		cat := s.weighted(codesOf(record.SentimentCategories), []float64{30, 10, 8, 8, 8, 10, 6, 2, 4, 8, 2, 4})
		content, sugg := s.one(sentimentContent), s.one(sentimentSuggestion)
		urgency := s.weighted([]string{"normal", "urgent", "very_urgent"}, []float64{80, 17, 3})
		title = in.village + "群众反映" + roster.Label(record.SentimentCategories, cat) + "问题"
		text = content + "\n" + sugg
		status = s.weighted([]string{"closed", "answered", "forwarded", "open"}, []float64{70, 15, 9, 6})
		if age < 30*24*time.Hour {
			status = s.weighted([]string{"closed", "answered", "forwarded", "open"}, []float64{10, 20, 30, 40})
		}
		var fwdTo string
		var fwdAt, ansAt, closedAt any
		answer := ""
		if status != "open" {
			fwdTo, fwdAt = s.one(departments), act(72*time.Hour)
			version++
		}
		if status == "answered" || status == "closed" {
			answer, ansAt = "经协调,"+s.one(departments)+"已安排处理,预计两周内解决。", act(240*time.Hour)
			version++
		}
		if status == "closed" {
			closedAt = act(480 * time.Hour)
			version++
			updated = closedAt.(time.Time)
		}
		locked = status != "open"
		detail = []any{id, cat, content, s.rng.IntN(200), urgency, sugg, fwdTo, fwdAt, answer, ansAt, closedAt}
	case "tip":
		level := s.weighted(codesOf(record.TipLevels), []float64{70, 20, 8, 2})
		tk := s.weighted(codesOf(record.TipKinds), []float64{30, 45, 25})
		desc, grp := s.one(tipContent), s.one(groups)
		title = in.village + s.one([]string{"邻里纠纷苗头", "涉民族因素矛盾线索", "群体性聚集风险", "网络不当言论线索", "劳资纠纷隐患"})
		text = desc + "\n" + grp
		// Every seeded tip was acknowledged in time or escalated: none waits for the sweep.
		status = s.weighted([]string{"resolved", "handling", "acknowledged", "escalated"}, []float64{75, 8, 5, 12})
		if age < 14*24*time.Hour {
			status = s.weighted([]string{"resolved", "handling", "acknowledged", "escalated"}, []float64{20, 35, 30, 15})
		}
		var ackAt any = act(2 * time.Hour)
		waiting := s.waiting > 0 && s.rng.Float64() < s.waiting
		if waiting {
			// Left waiting, whatever its age, for the unacknowledged tips' list; without a
			// deadline, so that the server's sweep does not escalate it during the run.
			status, ackAt = "submitted", nil
		}
		var escLevel int
		var escAt, resolvedAt any
		if status == "escalated" || (!waiting && s.rng.Float64() < 0.05) {
			escLevel = 2
			if level == "major" || level == "critical" {
				escLevel = 1
			}
			escAt = act(6 * time.Hour)
			version++
		}
		if status == "resolved" {
			resolvedAt = act(15 * 24 * time.Hour)
			updated = resolvedAt.(time.Time)
			version++
		}
		locked, version = !waiting, version+1
		detail = []any{id, level, tk, 1 + s.rng.IntN(40), grp, desc, s.rng.Float64() < 0.2, received, nil, ackAt, escLevel, escAt, resolvedAt, nil}
	case "mediation":
		dk := s.weighted(codesOf(record.DisputeKinds), []float64{30, 20, 12, 15, 5, 6, 4, 3, 1, 4})
		proc, agr := s.one(mediationProcess), s.one(mediationAgreement)
		outcome := s.weighted(codesOf(record.Outcomes), []float64{65, 15, 8, 12})
		parties, _ := json.Marshal([]map[string]string{
			{"name": s.personName(), "ethnicity": s.one([]string{"01", "03", "11"}), "role": "applicant"},
			{"name": s.personName(), "ethnicity": "01", "role": "respondent"},
		})
		title = in.village + roster.Label(record.DisputeKinds, dk) + "调解"
		text = proc + "\n" + agr
		detail = []any{id, dk, string(parties), proc, outcome, agr}
	}
	// A few records went back to their author, or were withdrawn.
	if x := s.rng.Float64(); x < 0.015 {
		status, returnNote, locked, version = record.StatusReturned, "请补充走访对象和具体情况", true, version+1
	} else if x < 0.025 {
		status, withdrawReason, version = record.StatusWithdrawn, "重复提交", version+1
	}
	var lat, lng any
	if s.rng.Float64() < 0.8 {
		lat, lng = 36.1+s.rng.Float64()*5.5, 113.6+s.rng.Float64()*6
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d", id))
	b.records = append(b.records, []any{id, kind, s.uuid(), hex.EncodeToString(sum[:]), in.id, 0, in.unitID, in.region, title, text,
		occurred, received, in.village + s.one(placeSuffix), lat, lng, status, locked, returnNote, withdrawReason, version, updated})
	t := detailTable[kind]
	b.details[t] = append(b.details[t], detail)
}
