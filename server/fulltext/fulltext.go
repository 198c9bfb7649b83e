// Package fulltext is the Chinese full-text index of field records: the keyword search of the
// record lists reads candidate ids from it instead of matching every record of the caller's scope
// with LIKE '%…%'.
//
// One table, record_search, keeps each record's id, the columns its scope is decided on
// (region_code, county_code, author_id, kind) and its searchable text (title and body). The
// engine depends on the database:
//
//   - MariaDB: ENGINE=Mroonga (Groonga inside MariaDB, package mariadb-plugin-mroonga) with a
//     FULLTEXT index tokenized in bigrams (TokenBigramSplitSymbolAlphaDigit: Chinese, Latin
//     letters and digits alike), so any substring of one character or more is found. Mroonga is
//     not transactional: the records stay in InnoDB and the index is written after the record's
//     transaction commits (see Index.Touch and Index.Run).
//   - MySQL 8: InnoDB with FULLTEXT … WITH PARSER ngram (tokens of two characters), written in
//     the record's own transaction. Not tested here: only MariaDB runs in CI.
//   - SQLite: an FTS5 table whose text the application splits itself into overlapping pairs of
//     characters (bigrams) for the unicode61 tokenizer, plus the scope as words of its own
//     (r13, r1311, r131127… for each level of the region, a<author>, k<kind>), written in the
//     record's own transaction. The trigram tokenizer was not used: it finds nothing for keywords
//     of one or two characters, and Chinese names and most keywords have two.
//
// The index only finds candidates: the list still applies every filter and the LIKE match on
// the records themselves, so what a search returns is exactly what the LIKE search returned.
package fulltext

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"gorm.io/gorm"
)

// Engine is the kind of index a database holds.
type Engine string

const (
	None    Engine = ""        // no index: keyword search falls back to LIKE
	Mroonga Engine = "mroonga" // MariaDB with the Mroonga storage engine
	Ngram   Engine = "ngram"   // MySQL 8 InnoDB FULLTEXT with the ngram parser
	FTS5    Engine = "fts5"    // SQLite FTS5
)

// Doc is what the index keeps of one record.
type Doc struct {
	ID         int64
	Version    int
	Kind       string
	RegionCode string
	AuthorID   int64
	Title      string
	Text       string
}

// Index writes and queries record_search. Its engine is found on first use.
type Index struct {
	db     *gorm.DB
	kick   chan struct{}
	mu     sync.Mutex
	known  bool
	engine Engine
}

// New returns the index of db's record_search table.
func New(db *gorm.DB) *Index { return &Index{db: db, kick: make(chan struct{}, 1)} }

// Engine is the engine of the index, None when the database has no usable index.
func (ix *Index) Engine(ctx context.Context) (Engine, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.known {
		return ix.engine, nil
	}
	e, err := Detect(ix.db.WithContext(ctx))
	if err != nil {
		return None, err
	}
	ix.engine, ix.known = e, true
	return e, nil
}

// Setup creates and fills the index if the database has none but can hold one now (MariaDB
// whose Mroonga plugin was installed after migration 44), and returns the engine in use. The
// server calls it once at start, before the sweeps.
func (ix *Index) Setup(ctx context.Context) (Engine, error) {
	e, err := ix.Engine(ctx)
	if err != nil || e != None {
		return e, err
	}
	db := ix.db.WithContext(ctx)
	if e, err = Ensure(db); err != nil || e == None {
		return e, err
	}
	if err := Fill(ctx, db, nil); err != nil {
		return None, err
	}
	ix.mu.Lock()
	ix.engine, ix.known = e, true
	ix.mu.Unlock()
	return e, nil
}

// Detect names the engine of db's record_search table, None when there is none.
func Detect(db *gorm.DB) (Engine, error) {
	if db.Dialector.Name() == "sqlite" {
		var n int64
		if err := db.Raw("SELECT COUNT(*) FROM sqlite_master WHERE name = 'record_search'").Scan(&n).Error; err != nil {
			return None, err
		}
		if n == 0 {
			return None, nil
		}
		return FTS5, nil
	}
	var engine []string
	if err := db.Raw("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'record_search'").
		Scan(&engine).Error; err != nil {
		return None, err
	}
	switch {
	case len(engine) == 0:
		return None, nil
	case strings.EqualFold(engine[0], "Mroonga"):
		return Mroonga, nil
	default:
		return Ngram, nil
	}
}

// ---- creating and filling ----

// Ensure creates the index tables when the database can hold them, and says which engine they
// use. On MariaDB it loads the Mroonga plugin if it is installed but not loaded (INSTALL SONAME
// needs the INSERT privilege on mysql.plugin); a MariaDB without the plugin, or a MySQL older
// than 8, gets no index (None) and keyword search keeps reading with LIKE. Safe to run again.
func Ensure(db *gorm.DB) (Engine, error) {
	if e, err := Detect(db); err != nil || e != None {
		return e, err
	}
	if db.Dialector.Name() == "sqlite" {
		err := db.Exec(`CREATE VIRTUAL TABLE IF NOT EXISTS record_search USING fts5(body, scope, region_code UNINDEXED, ` +
			`county_code UNINDEXED, author_id UNINDEXED, kind UNINDEXED, tokenize = 'unicode61 remove_diacritics 0')`).Error
		if err != nil {
			return None, err
		}
		return FTS5, ensureFillState(db)
	}
	var version string
	if err := db.Raw("SELECT VERSION()").Scan(&version).Error; err != nil {
		return None, err
	}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		if !mroongaLoaded(db) {
			// Installed by the Debian package but not loaded: load it (kept in mysql.plugin).
			db.Exec("INSTALL SONAME 'ha_mroonga'")
			if !mroongaLoaded(db) {
				return None, nil
			}
		}
		for _, q := range []string{
			"CREATE TABLE IF NOT EXISTS record_search (" +
				"record_id BIGINT NOT NULL PRIMARY KEY, version INT NOT NULL DEFAULT 0, kind VARCHAR(16) NOT NULL, " +
				"region_code VARCHAR(12) NOT NULL, county_code VARCHAR(6) NOT NULL, author_id BIGINT NOT NULL, body LONGTEXT NOT NULL, " +
				"KEY idx_record_search_county (county_code), KEY idx_record_search_region (region_code), KEY idx_record_search_author (author_id), " +
				`FULLTEXT KEY ft_record_search_body (body) COMMENT 'tokenizer "TokenBigramSplitSymbolAlphaDigit"'` +
				") ENGINE=Mroonga DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
			// Records whose index entry is not written yet: filled in the record's transaction,
			// emptied once the entry is (Sync); what a crash leaves is written at the next start.
			"CREATE TABLE IF NOT EXISTS record_search_pending (record_id BIGINT NOT NULL PRIMARY KEY, version INT NOT NULL) ENGINE=InnoDB",
		} {
			if err := db.Exec(q).Error; err != nil {
				return None, err
			}
		}
		return Mroonga, ensureFillState(db)
	}
	major, _ := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
	if major < 8 {
		return None, nil
	}
	err := db.Exec("CREATE TABLE IF NOT EXISTS record_search (" +
		"record_id BIGINT NOT NULL PRIMARY KEY, version INT NOT NULL DEFAULT 0, kind VARCHAR(16) NOT NULL, " +
		"region_code VARCHAR(12) NOT NULL, county_code VARCHAR(6) NOT NULL, author_id BIGINT NOT NULL, body LONGTEXT NOT NULL, " +
		"KEY idx_record_search_county (county_code, record_id), KEY idx_record_search_author (author_id, record_id), " +
		"FULLTEXT KEY ft_record_search_body (body) WITH PARSER ngram" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci").Error
	if err != nil {
		return None, err
	}
	return Ngram, ensureFillState(db)
}

func mroongaLoaded(db *gorm.DB) bool {
	var support []string
	db.Raw("SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE = 'Mroonga'").Scan(&support)
	return len(support) == 1 && (support[0] == "YES" || support[0] == "DEFAULT")
}

// record_search_fill remembers how far Fill got: the highest record id indexed by it.
func ensureFillState(db *gorm.DB) error {
	if err := db.Exec("CREATE TABLE IF NOT EXISTS record_search_fill (id INTEGER NOT NULL PRIMARY KEY, last_id BIGINT NOT NULL)").Error; err != nil {
		return err
	}
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM record_search_fill").Scan(&n).Error; err != nil || n > 0 {
		return err
	}
	return db.Exec("INSERT INTO record_search_fill (id, last_id) VALUES (1, 0)").Error
}

// MroongaEntries writes the entries of the records with ids in (?, ?] into a Mroonga
// record_search, after "INSERT" or "INSERT IGNORE": the entries exactly as Fill and the writer
// (write) make them. The bench's offline fill uses it too (cmd/shiliu-bench).
const MroongaEntries = "INTO record_search (record_id, version, kind, region_code, county_code, author_id, body) " +
	"SELECT id, version, kind, region_code, LEFT(region_code, 6), author_id, CONCAT(title, '\n', COALESCE(search_text, '')) " +
	"FROM records WHERE id > ? AND id <= ?"

// FillBatch is how many record ids one step of Fill covers (tests lower it).
var FillBatch int64 = 5000

// Fill indexes the records above the id Fill reached last time, FillBatch ids at a time, each
// batch committed with its progress: stopped (a crash, a restart), it goes on where it was.
// Records written meanwhile are indexed by their own writes; Fill never overwrites an entry they
// wrote (Mroonga: INSERT IGNORE), or rewrites it from the record in one transaction (SQLite,
// MySQL 8), so it cannot put an older text back. progress, if not nil, is told the ids reached.
func Fill(ctx context.Context, db *gorm.DB, progress func(lastID, maxID int64)) error {
	db = db.WithContext(ctx)
	e, err := Detect(db)
	if err != nil || e == None {
		return err
	}
	var last, max int64
	if err := db.Raw("SELECT last_id FROM record_search_fill WHERE id = 1").Scan(&last).Error; err != nil {
		return err
	}
	if err := db.Raw("SELECT COALESCE(MAX(id), 0) FROM records").Scan(&max).Error; err != nil {
		return err
	}
	for last < max {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(last+FillBatch, max)
		err := db.Transaction(func(tx *gorm.DB) error {
			switch e {
			case Mroonga:
				// Mroonga is outside the transaction: written first, the progress after it.
				if err := tx.Exec("INSERT IGNORE "+MroongaEntries, last, hi).Error; err != nil {
					return err
				}
			default:
				var docs []Doc
				if err := tx.Raw("SELECT id, version, kind, region_code, author_id, title, COALESCE(search_text, '') AS text "+
					"FROM records WHERE id > ? AND id <= ? ORDER BY id", last, hi).Scan(&docs).Error; err != nil {
					return err
				}
				if e == FTS5 {
					if err := tx.Exec("DELETE FROM record_search WHERE rowid > ? AND rowid <= ?", last, hi).Error; err != nil {
						return err
					}
				}
				for i := 0; i < len(docs); i += 100 {
					if err := write(tx, e, docs[i:min(i+100, len(docs))]); err != nil {
						return err
					}
				}
			}
			return tx.Exec("UPDATE record_search_fill SET last_id = ? WHERE id = 1", hi).Error
		})
		if err != nil {
			return fmt.Errorf("fulltext: fill records %d–%d: %w", last+1, hi, err)
		}
		last = hi
		if progress != nil {
			progress(last, max)
		}
	}
	return nil
}

// write stores docs in the index (replacing what it held of them), in tx.
func write(tx *gorm.DB, e Engine, docs []Doc) error {
	if len(docs) == 0 {
		return nil
	}
	var b strings.Builder
	var args []any
	switch e {
	case FTS5:
		// FTS5 has no REPLACE on rowid: the old entry is deleted first.
		ids := make([]any, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		if err := tx.Exec("DELETE FROM record_search WHERE rowid IN ?", ids).Error; err != nil {
			return err
		}
		b.WriteString("INSERT INTO record_search (rowid, body, scope, region_code, county_code, author_id, kind) VALUES ")
		for i, d := range docs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, d.ID, Bigrams(d.Title+"\n"+d.Text), scopeWords(d), d.RegionCode, county(d.RegionCode), d.AuthorID, d.Kind)
		}
	default:
		b.WriteString("REPLACE INTO record_search (record_id, version, kind, region_code, county_code, author_id, body) VALUES ")
		for i, d := range docs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, d.ID, d.Version, d.Kind, d.RegionCode, county(d.RegionCode), d.AuthorID, d.Title+"\n"+d.Text)
		}
	}
	return tx.Exec(b.String(), args...).Error
}

func county(code string) string {
	if len(code) > 6 {
		return code[:6]
	}
	return code
}

// regionLevels are the lengths of the significant prefixes of a region code: province, city,
// county, township, village.
var regionLevels = []int{2, 4, 6, 9, 12}

// scopeWords are the words of an FTS5 entry's scope column: each level of its region, its author
// and its kind.
func scopeWords(d Doc) string {
	var b strings.Builder
	for _, n := range regionLevels {
		if len(d.RegionCode) >= n {
			b.WriteString("r" + d.RegionCode[:n] + " ")
		}
	}
	b.WriteString("a" + strconv.FormatInt(d.AuthorID, 10) + " k" + d.Kind)
	return b.String()
}

// ---- keeping it in step ----

// Touch puts d in the index as part of the record's transaction tx. SQLite and MySQL 8 write the
// entry in tx; Mroonga cannot take part in an InnoDB transaction, so tx only notes the record as
// pending, and the caller kicks Run once tx has committed. A crash in between leaves the pending
// row, which Run writes at its next interval: the index never misses a committed change for long,
// and never shows one that rolled back.
func (ix *Index) Touch(tx *gorm.DB, d Doc) error {
	e, err := ix.Engine(tx.Statement.Context)
	if err != nil || e == None {
		return err
	}
	if e == Mroonga {
		return tx.Exec("INSERT INTO record_search_pending (record_id, version) VALUES (?, ?) "+
			"ON DUPLICATE KEY UPDATE version = GREATEST(version, VALUES(version))", d.ID, d.Version).Error
	}
	return write(tx, e, []Doc{d})
}

// NeedsSync says whether the index is written after commit (Mroonga).
func (ix *Index) NeedsSync(ctx context.Context) bool {
	e, _ := ix.Engine(ctx)
	return e == Mroonga
}

// Kick asks Run to write the pending entries now: a record's change calls it once its
// transaction has committed. It never waits.
func (ix *Index) Kick() {
	select {
	case ix.kick <- struct{}{}:
	default:
	}
}

// Run writes the pending entries (Mroonga) when kicked and every interval, until ctx ends: the
// kicks of this instance's changes, the interval for what another instance or a crash left.
// Writing after commit in batches, off the request's path, costs a submission one statement
// (the pending row, in its transaction) instead of four round trips after it; a search finds
// the new text a moment later (the list's LIKE over the newest records finds it at once).
func (ix *Index) Run(ctx context.Context, interval time.Duration, logf func(n int, err error)) {
	// A zero interval (the records' sweep disabled, as some tests and instances have it) leaves
	// the kicks: time.NewTicker panics on it.
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ix.kick:
		case <-tick:
		}
		if ctx.Err() != nil {
			return // both were ready: no batch starts after the shutdown
		}
		for {
			n, err := ix.Repair(ctx)
			if logf != nil && (n > 0 || err != nil) {
				logf(n, err)
			}
			if err != nil || n < repairBatch {
				break
			}
		}
	}
}

// repairBatch is how many pending entries one Repair writes.
const repairBatch = 500

// Repair writes up to repairBatch pending entries (Mroonga), each from its record as committed,
// and clears their pending rows; it returns how many it wrote. Several instances may repair
// at once: each entry written is checked against its record's version read again after the
// write, and written again when a newer change committed meanwhile (an older text written
// last would otherwise stay); a pending row goes only if it still holds the version seen
// before the write, so a change noted meanwhile stays pending for the next round.
func (ix *Index) Repair(ctx context.Context) (int, error) {
	e, err := ix.Engine(ctx)
	if err != nil || e != Mroonga {
		return 0, err
	}
	db := ix.db.WithContext(ctx)
	var pending []struct {
		RecordID int64
		Version  int
	}
	if err := db.Raw("SELECT record_id, version FROM record_search_pending ORDER BY record_id LIMIT ?", repairBatch).
		Scan(&pending).Error; err != nil || len(pending) == 0 {
		return 0, err
	}
	ids := make([]int64, len(pending))
	for i, p := range pending {
		ids[i] = p.RecordID
	}
	settled := map[int64]bool{}
	todo := ids
	for range 5 {
		var docs []Doc
		if err := db.Raw("SELECT id, version, kind, region_code, author_id, title, COALESCE(search_text, '') AS text FROM records WHERE id IN ?", todo).
			Scan(&docs).Error; err != nil {
			return 0, err
		}
		if err := write(db, Mroonga, docs); err != nil {
			return 0, err
		}
		written := make(map[int64]int, len(docs))
		for _, d := range docs {
			written[d.ID] = d.Version
		}
		var gone []int64
		for _, id := range todo {
			if _, ok := written[id]; !ok {
				gone = append(gone, id)
				settled[id] = true
			}
		}
		if len(gone) > 0 {
			if err := db.Exec("DELETE FROM record_search WHERE record_id IN ?", gone).Error; err != nil {
				return 0, err
			}
		}
		var now []struct {
			ID      int64
			Version int
		}
		if err := db.Raw("SELECT id, version FROM records WHERE id IN ?", todo).Scan(&now).Error; err != nil {
			return 0, err
		}
		todo = todo[:0:0]
		for _, r := range now {
			if written[r.ID] == r.Version {
				settled[r.ID] = true
			} else {
				todo = append(todo, r.ID)
			}
		}
		if len(todo) == 0 {
			break
		}
	}
	// The ids first: MariaDB reads a row-constructor IN alone by scanning the table, locking what
	// it reads, which held up the submissions' pending rows (0.5-1.4 s seen with three instances).
	var pairs strings.Builder
	var args []any
	var done []int64
	for _, p := range pending {
		if !settled[p.RecordID] {
			continue // kept changing: the next round writes it
		}
		if len(args) > 0 {
			pairs.WriteString(", ")
		}
		pairs.WriteString("(?, ?)")
		args = append(args, p.RecordID, p.Version)
		done = append(done, p.RecordID)
	}
	if len(args) > 0 {
		args = append([]any{done}, args...)
		if err := db.Exec("DELETE FROM record_search_pending WHERE record_id IN ? AND (record_id, version) IN ("+pairs.String()+")", args...).Error; err != nil {
			return 0, err
		}
	}
	return len(pending), nil
}

// ---- searching ----

// Query is a keyword search of one page's candidates.
type Query struct {
	Keyword string
	// Scope limits the entries as the list limits records, over the columns region_code,
	// county_code and author_id (the same names as on records).
	Scope func(*gorm.DB) *gorm.DB
	// Prefix is the region subtree Scope allows, when it is one ("" for the whole province or
	// an instructor); AuthorID the author it allows, when it is one. They let FTS5 narrow within
	// its index before reading rows.
	Prefix   string
	AuthorID int64
	Kind     string
	Before   int64 // ids below this only; 0 for the first page
	Limit    int
}

// ErrUnusable says the index cannot answer this keyword (no letter or digit in it) or the
// database has no index: the caller searches with LIKE.
var ErrUnusable = errors.New("fulltext: no index for this keyword")

// Candidates returns the ids of up to q.Limit entries matching every letter-or-digit run of the
// keyword, newest first, within q.Scope. Candidates may match where LIKE does not (the runs need
// not be adjacent, case and width are folded): the caller still matches the records.
func (ix *Index) Candidates(ctx context.Context, q Query) ([]int64, error) {
	e, err := ix.Engine(ctx)
	if err != nil {
		return nil, err
	}
	parts := runs(q.Keyword)
	if e == None || len(parts) == 0 {
		return nil, ErrUnusable
	}
	db := ix.db.WithContext(ctx).Table("record_search")
	idCol := "record_id"
	switch e {
	case FTS5:
		idCol = "rowid"
		var m []string
		for _, p := range parts {
			if len(p) == 1 {
				m = append(m, `body : "`+string(p)+`"*`)
			} else {
				m = append(m, `body : "`+pairs(p)+`"`)
			}
		}
		if slices.Contains(regionLevels, len(q.Prefix)) && strings.Trim(q.Prefix, "0123456789") == "" {
			// Only a prefix of a level has its word; Scope decides in any case.
			m = append(m, `scope : "r`+q.Prefix+`"`)
		}
		if q.AuthorID > 0 {
			m = append(m, `scope : "a`+strconv.FormatInt(q.AuthorID, 10)+`"`)
		}
		if q.Kind != "" {
			m = append(m, `scope : "k`+q.Kind+`"`)
		}
		db = db.Where("record_search MATCH ?", strings.Join(m, " AND "))
	default:
		var m []string
		for _, p := range parts {
			if e == Ngram && len(p) == 1 {
				m = append(m, "+"+string(p)+"*")
			} else {
				m = append(m, `+"`+string(p)+`"`)
			}
		}
		db = db.Where("MATCH(body) AGAINST(? IN BOOLEAN MODE)", strings.Join(m, " "))
	}
	if q.Scope != nil {
		db = db.Scopes(q.Scope)
	}
	if q.Kind != "" {
		db = db.Where("kind = ?", q.Kind)
	}
	if q.Before > 0 {
		db = db.Where(idCol+" < ?", q.Before)
	}
	var ids []int64
	err = db.Order(idCol+" DESC").Limit(q.Limit).Pluck(idCol, &ids).Error
	return ids, err
}

// runs are the keyword's runs of letters and digits, lower-cased.
func runs(s string) [][]rune {
	var out [][]rune
	var cur []rune
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			cur = append(cur, r)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// pairs is a run as overlapping pairs of characters separated by spaces: "宅基地" → "宅基 基地".
func pairs(r []rune) string {
	var b strings.Builder
	for i := 0; i+1 < len(r); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(r[i : i+2]))
	}
	return b.String()
}

// Bigrams is the text as FTS5 indexes it: each run of letters and digits as its overlapping
// pairs of characters followed by its last character alone ("宅基地" → "宅基 基地 地"). A
// keyword of two characters or more is then the phrase of its pairs, and one character the
// prefix query of itself (a pair starting with it, or a run's last character).
func Bigrams(s string) string {
	var b strings.Builder
	for _, r := range runs(s) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if len(r) > 1 {
			b.WriteString(pairs(r))
			b.WriteByte(' ')
		}
		b.WriteString(string(r[len(r)-1]))
	}
	return b.String()
}
