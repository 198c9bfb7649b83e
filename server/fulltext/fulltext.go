// Package fulltext is the Chinese full-text index of field records and of the roster: the keyword
// search of the record lists and the name search of units and instructors read candidate ids
// from it instead of matching every row of the caller's scope with LIKE '%…%'.
//
// Each Source (records, units, instructors) has one table, <name>_search, keeping each row's id,
// the columns its scope is decided on (region_code, county_code, author_id, kind) and its
// searchable text (a record's title and body, a unit's or instructor's name). The engine
// depends on the database:
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
//     (r13, r1311, r131127… for each level of the region, a<author>, k<kind>). An edit's entry
//     is written in the record's own transaction; a new record's a moment after its commit, in a
//     batch (Index.Touch, Index.Run). The trigram tokenizer was not used: it finds nothing for
//     keywords of one or two characters, and Chinese names and most keywords have two.
//
// The index only finds candidates: the list still applies every filter and the LIKE match on
// the rows themselves, so what a search returns is exactly what the LIKE search returned
// (Index.PageIDs).
package fulltext

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/database"
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

// Source is a table whose rows the index finds by their text. Its index tables are
// <Name>_search (the entries), <Name>_search_pending (Mroonga: entries to write after commit)
// and <Name>_search_fill (how far Fill got).
type Source struct {
	Name  string // prefix of the index tables
	Table string // the rows' table, with columns id and region_code
	Key   string // the id column of the index tables
	// Docs are the columns of a Doc read from Table (id, version, kind, region_code, author_id,
	// title, text); Body the SQL expression of an entry's text, title and text on two lines.
	Docs, Body string
	// Versioned: a row's version column changes with each change of it, so Repair need only
	// read versions again to know whether a row changed while its entry was written.
	Versioned bool
}

// The sources: records by title and text, units and instructors by name (the roster's search).
var (
	Records = &Source{Name: "record", Table: "records", Key: "record_id", Versioned: true,
		Docs: "id, version, kind, region_code, author_id, title, COALESCE(search_text, '') AS text",
		Body: "CONCAT(title, '\n', COALESCE(search_text, ''))"}
	Units = &Source{Name: "unit", Table: "units", Key: "unit_id",
		Docs: "id, 0 AS version, '' AS kind, region_code, 0 AS author_id, name AS title, '' AS text",
		Body: "CONCAT(name, '\n')"}
	Instructors = &Source{Name: "instructor", Table: "instructors", Key: "instructor_id",
		Docs: "id, 0 AS version, '' AS kind, region_code, 0 AS author_id, name AS title, '' AS text",
		Body: "CONCAT(name, '\n')"}
)

func (src *Source) table() string   { return src.Name + "_search" }
func (src *Source) pending() string { return src.Name + "_search_pending" }
func (src *Source) fill() string    { return src.Name + "_search_fill" }

// Doc is what the index keeps of one row. Units and instructors have no version, kind or author.
type Doc struct {
	ID         int64
	Version    int
	Kind       string
	RegionCode string
	AuthorID   int64
	Title      string
	Text       string
	// New says the record is inserted by the transaction that touches it (a submission).
	New bool
}

// Index writes and queries the index of one source. Its engine is found on first use.
type Index struct {
	db     *gorm.DB
	src    *Source
	kick   chan struct{}
	mu     sync.Mutex
	known  bool
	engine Engine
}

// New returns the index of db's records.
func New(db *gorm.DB) *Index { return NewFor(db, Records) }

// NewFor returns the index of src in db.
func NewFor(db *gorm.DB, src *Source) *Index {
	return &Index{db: db, src: src, kick: make(chan struct{}, 1)}
}

// Engine is the engine of the index, None when the database has no usable index.
func (ix *Index) Engine(ctx context.Context) (Engine, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.known {
		return ix.engine, nil
	}
	e, err := ix.src.Detect(ix.db.WithContext(ctx))
	if err != nil {
		return None, err
	}
	ix.engine, ix.known = e, true
	return e, nil
}

// Setup creates and fills the index if the database has none but can hold one now (MariaDB
// whose Mroonga plugin was installed after migrations 44 and 45), and returns the engine in use.
// The server calls it once at start, before the sweeps.
func (ix *Index) Setup(ctx context.Context) (Engine, error) {
	e, err := ix.Engine(ctx)
	if err != nil || e != None {
		return e, err
	}
	db := ix.db.WithContext(ctx)
	if e, err = ix.src.Ensure(db); err != nil || e == None {
		return e, err
	}
	if err := ix.src.Fill(ctx, db, nil); err != nil {
		return None, err
	}
	ix.mu.Lock()
	ix.engine, ix.known = e, true
	ix.mu.Unlock()
	return e, nil
}

// Detect names the engine of db's record_search table, None when there is none.
func Detect(db *gorm.DB) (Engine, error) { return Records.Detect(db) }

// Detect names the engine of src's index in db, None when there is none.
func (src *Source) Detect(db *gorm.DB) (Engine, error) {
	if db.Dialector.Name() == "sqlite" {
		var n int64
		if err := db.Raw("SELECT COUNT(*) FROM sqlite_master WHERE name = ?", src.table()).Scan(&n).Error; err != nil {
			return None, err
		}
		if n == 0 {
			return None, nil
		}
		return FTS5, nil
	}
	var engine []string
	if err := db.Raw("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", src.table()).
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
func Ensure(db *gorm.DB) (Engine, error) { return Records.Ensure(db) }

// Ensure creates src's index tables when the database can hold them (see the function Ensure).
func (src *Source) Ensure(db *gorm.DB) (Engine, error) {
	if e, err := src.Detect(db); err != nil || e != None {
		return e, err
	}
	t, k := src.table(), src.Key
	if db.Dialector.Name() == "sqlite" {
		err := db.Exec(`CREATE VIRTUAL TABLE IF NOT EXISTS ` + t + ` USING fts5(body, scope, region_code UNINDEXED, ` +
			`county_code UNINDEXED, author_id UNINDEXED, kind UNINDEXED, tokenize = 'unicode61 remove_diacritics 0')`).Error
		if err != nil {
			return None, err
		}
		return FTS5, src.ensureFillState(db)
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
			"CREATE TABLE IF NOT EXISTS " + t + " (" +
				k + " BIGINT NOT NULL PRIMARY KEY, version INT NOT NULL DEFAULT 0, kind VARCHAR(16) NOT NULL, " +
				"region_code VARCHAR(12) NOT NULL, county_code VARCHAR(6) NOT NULL, author_id BIGINT NOT NULL, body LONGTEXT NOT NULL, " +
				"KEY idx_" + t + "_county (county_code), KEY idx_" + t + "_region (region_code), KEY idx_" + t + "_author (author_id), " +
				"FULLTEXT KEY ft_" + t + `_body (body) COMMENT 'tokenizer "TokenBigramSplitSymbolAlphaDigit"'` +
				") ENGINE=Mroonga DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
			// Rows whose index entry is not written yet: filled in the row's transaction,
			// emptied once the entry is (Repair); what a crash leaves is written at the next start.
			"CREATE TABLE IF NOT EXISTS " + src.pending() + " (" + k + " BIGINT NOT NULL PRIMARY KEY, version INT NOT NULL) ENGINE=InnoDB",
		} {
			if err := db.Exec(q).Error; err != nil {
				return None, err
			}
		}
		return Mroonga, src.ensureFillState(db)
	}
	major, _ := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
	if major < 8 {
		return None, nil
	}
	err := db.Exec("CREATE TABLE IF NOT EXISTS " + t + " (" +
		k + " BIGINT NOT NULL PRIMARY KEY, version INT NOT NULL DEFAULT 0, kind VARCHAR(16) NOT NULL, " +
		"region_code VARCHAR(12) NOT NULL, county_code VARCHAR(6) NOT NULL, author_id BIGINT NOT NULL, body LONGTEXT NOT NULL, " +
		"KEY idx_" + t + "_county (county_code, " + k + "), KEY idx_" + t + "_author (author_id, " + k + "), " +
		"FULLTEXT KEY ft_" + t + "_body (body) WITH PARSER ngram" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci").Error
	if err != nil {
		return None, err
	}
	return Ngram, src.ensureFillState(db)
}

func mroongaLoaded(db *gorm.DB) bool {
	var support []string
	db.Raw("SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE = 'Mroonga'").Scan(&support)
	return len(support) == 1 && (support[0] == "YES" || support[0] == "DEFAULT")
}

// <name>_search_fill remembers how far Fill got: the highest row id indexed by it.
func (src *Source) ensureFillState(db *gorm.DB) error {
	if err := db.Exec("CREATE TABLE IF NOT EXISTS " + src.fill() + " (id INTEGER NOT NULL PRIMARY KEY, last_id BIGINT NOT NULL)").Error; err != nil {
		return err
	}
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM " + src.fill()).Scan(&n).Error; err != nil || n > 0 {
		return err
	}
	return db.Exec("INSERT INTO " + src.fill() + " (id, last_id) VALUES (1, 0)").Error
}

// MroongaEntries is the statement, after "INSERT" or "INSERT IGNORE", that writes the entries
// of src's rows with ids in (?, ?] into its Mroonga table: the entries exactly as Fill and the
// writer (write) make them. The bench's offline fill uses it too (cmd/shiliu-bench).
func (src *Source) MroongaEntries() string {
	return "INTO " + src.table() + " (" + src.Key + ", version, kind, region_code, county_code, author_id, body) " +
		"SELECT id, version, kind, region_code, LEFT(region_code, 6), author_id, body FROM (" +
		"SELECT " + src.Docs + ", " + src.Body + " AS body FROM " + src.Table + " WHERE id > ? AND id <= ?) AS d"
}

// FillBatch is how many row ids one step of Fill covers (tests lower it).
var FillBatch int64 = 5000

// Fill indexes the records above the id Fill reached last time, FillBatch ids at a time, each
// batch committed with its progress: stopped (a crash, a restart), it goes on where it was.
// Records written meanwhile are indexed by their own writes; Fill never overwrites an entry they
// wrote (Mroonga: INSERT IGNORE), or rewrites it from the record in one transaction (SQLite,
// MySQL 8), so it cannot put an older text back. progress, if not nil, is told the ids reached.
func Fill(ctx context.Context, db *gorm.DB, progress func(lastID, maxID int64)) error {
	return Records.Fill(ctx, db, progress)
}

// Fill indexes src's rows as the function Fill does records'.
func (src *Source) Fill(ctx context.Context, db *gorm.DB, progress func(lastID, maxID int64)) error {
	db = db.WithContext(ctx)
	e, err := src.Detect(db)
	if err != nil || e == None {
		return err
	}
	var last, max int64
	if err := db.Raw("SELECT last_id FROM " + src.fill() + " WHERE id = 1").Scan(&last).Error; err != nil {
		return err
	}
	if err := db.Raw("SELECT COALESCE(MAX(id), 0) FROM " + src.Table).Scan(&max).Error; err != nil {
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
				if err := tx.Exec("INSERT IGNORE "+src.MroongaEntries(), last, hi).Error; err != nil {
					return err
				}
			default:
				var docs []Doc
				if err := tx.Raw("SELECT "+src.Docs+" FROM "+src.Table+" WHERE id > ? AND id <= ? ORDER BY id", last, hi).
					Scan(&docs).Error; err != nil {
					return err
				}
				if e == FTS5 {
					if err := tx.Exec("DELETE FROM "+src.table()+" WHERE rowid > ? AND rowid <= ?", last, hi).Error; err != nil {
						return err
					}
				}
				for i := 0; i < len(docs); i += 100 {
					if err := src.write(tx, e, docs[i:min(i+100, len(docs))]); err != nil {
						return err
					}
				}
			}
			return tx.Exec("UPDATE "+src.fill()+" SET last_id = ? WHERE id = 1", hi).Error
		})
		if err != nil {
			return fmt.Errorf("fulltext: fill %s %d–%d: %w", src.Table, last+1, hi, err)
		}
		last = hi
		if progress != nil {
			progress(last, max)
		}
	}
	return nil
}

// write stores docs in the index (replacing what it held of them), in tx.
func (src *Source) write(tx *gorm.DB, e Engine, docs []Doc) error {
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
		if err := tx.Exec("DELETE FROM "+src.table()+" WHERE rowid IN ?", ids).Error; err != nil {
			return err
		}
		b.WriteString("INSERT INTO " + src.table() + " (rowid, body, scope, region_code, county_code, author_id, kind) VALUES ")
		for i, d := range docs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, d.ID, Bigrams(d.Title+"\n"+d.Text), scopeWords(d), d.RegionCode, county(d.RegionCode), d.AuthorID, d.Kind)
		}
	default:
		b.WriteString("REPLACE INTO " + src.table() + " (" + src.Key + ", version, kind, region_code, county_code, author_id, body) VALUES ")
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
// and its kind (a unit or instructor has neither).
func scopeWords(d Doc) string {
	var w []string
	for _, n := range regionLevels {
		if len(d.RegionCode) >= n {
			w = append(w, "r"+d.RegionCode[:n])
		}
	}
	if d.AuthorID > 0 {
		w = append(w, "a"+strconv.FormatInt(d.AuthorID, 10))
	}
	if d.Kind != "" {
		w = append(w, "k"+d.Kind)
	}
	return strings.Join(w, " ")
}

// ---- keeping it in step ----

// Touch puts d in the index as part of the record's transaction tx, and the caller kicks Run once
// tx has committed:
//
//   - MySQL 8 writes the entry in tx.
//   - Mroonga cannot take part in an InnoDB transaction, so tx only notes the record as pending,
//     and Run writes it. A crash in between leaves the pending row, which Run writes at its next
//     interval: the index never misses a committed change for long, and never shows one that
//     rolled back.
//   - SQLite writes the entry of an edited record in tx, and nothing for a new one: Run indexes
//     the records above the highest id indexed so far (record_search_fill.last_id), in batches.
//     SQLite writes one transaction at a time and its ids only grow (AUTOINCREMENT), so every
//     committed record above that id is one not indexed yet, and every one below it is indexed.
//     In the submission's transaction the entry cost 0.17 ms of CPU, most of it because FTS5
//     writes its pending terms at every savepoint and each grouped submission has one (a segment
//     of the index per submission); in a batch, 0.06 ms a record (docs/performance.md).
func (ix *Index) Touch(tx *gorm.DB, d Doc) error {
	e, err := ix.Engine(tx.Statement.Context)
	if err != nil || e == None {
		return err
	}
	switch {
	case e == Mroonga:
		return ix.notePending(tx, []int64{d.ID}, d.Version)
	case e == FTS5 && d.New && ix.src == Records:
		return nil // catchUp indexes it
	}
	return ix.src.write(tx, e, []Doc{d})
}

// TouchIDs is Touch for rows written in tx by id, read again from the source's table in tx: the
// roster's writes, which change a name or a region in many ways (an edit, a unit moved with its
// instructors, an import of hundreds). Ids whose row is gone lose their entry.
func (ix *Index) TouchIDs(tx *gorm.DB, ids ...int64) error {
	e, err := ix.Engine(tx.Statement.Context)
	if err != nil || e == None || len(ids) == 0 {
		return err
	}
	// Short statements for SQLite, whose driver binds parameters in time quadratic in their
	// number (as Fill).
	batch := 100
	if e == Mroonga {
		batch = repairBatch
	}
	for start := 0; start < len(ids); start += batch {
		chunk := ids[start:min(start+batch, len(ids))]
		if e == Mroonga {
			if err := ix.notePending(tx, chunk, 0); err != nil {
				return err
			}
			continue
		}
		docs, err := ix.src.read(tx, chunk)
		if err != nil {
			return err
		}
		if err := ix.src.write(tx, e, docs); err != nil {
			return err
		}
		if gone := missing(chunk, docs); len(gone) > 0 {
			if err := ix.src.remove(tx, e, gone); err != nil {
				return err
			}
		}
	}
	return nil
}

// notePending notes ids as pending in tx (Mroonga). A record's pending row keeps the highest
// version noted; a row without versions counts its changes, so that Repair, which clears a
// pending row only if it still holds what it read, never clears a change it did not write.
func (ix *Index) notePending(tx *gorm.DB, ids []int64, version int) error {
	bump := "GREATEST(version, VALUES(version))"
	if !ix.src.Versioned {
		bump = "version + 1"
	}
	var b strings.Builder
	args := make([]any, 0, 2*len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?)")
		args = append(args, id, version)
	}
	return tx.Exec("INSERT INTO "+ix.src.pending()+" ("+ix.src.Key+", version) VALUES "+b.String()+
		" ON DUPLICATE KEY UPDATE version = "+bump, args...).Error
}

// read reads the docs of ids from the source's table.
func (src *Source) read(db *gorm.DB, ids []int64) ([]Doc, error) {
	var docs []Doc
	err := db.Raw("SELECT "+src.Docs+" FROM "+src.Table+" WHERE id IN ?", ids).Scan(&docs).Error
	return docs, err
}

// remove deletes the entries of ids.
func (src *Source) remove(db *gorm.DB, e Engine, ids []int64) error {
	col := src.Key
	if e == FTS5 {
		col = "rowid"
	}
	return db.Exec("DELETE FROM "+src.table()+" WHERE "+col+" IN ?", ids).Error
}

// missing are the ids that have no doc in docs.
func missing(ids []int64, docs []Doc) []int64 {
	found := make(map[int64]bool, len(docs))
	for _, d := range docs {
		found[d.ID] = true
	}
	var out []int64
	for _, id := range ids {
		if !found[id] {
			out = append(out, id)
		}
	}
	return out
}

// NeedsSync says whether the index is written after commit (Mroonga, and new records on SQLite).
func (ix *Index) NeedsSync(ctx context.Context) bool {
	e, _ := ix.Engine(ctx)
	return e == Mroonga || e == FTS5 && ix.src == Records
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
		e, _ := ix.Engine(ctx)
		full := repairBatch
		if e == FTS5 {
			full = catchUpBatch
		}
		for {
			n, err := ix.Repair(ctx)
			if logf != nil && (n > 0 || err != nil) {
				logf(n, err)
			}
			if err != nil || n < full || ctx.Err() != nil {
				break
			}
		}
		if e == FTS5 {
			// Kicks that come meanwhile are one: the next batch holds what they committed.
			// Batches of a few dozen records cost much less each than one at a time, and the
			// list's LIKE over the scope's newest records finds what is not indexed yet.
			select {
			case <-ctx.Done():
				return
			case <-time.After(CatchUpPause):
			}
		}
	}
}

// CatchUpPause is the least time between two batches of new records on SQLite (Run).
var CatchUpPause = 200 * time.Millisecond

// repairBatch is how many pending entries one Repair writes.
const repairBatch = 500

// Repair writes up to repairBatch pending entries (Mroonga), each from its row as committed,
// and clears their pending rows; it returns how many it wrote. Several instances may repair
// at once: each entry written is checked against its row read again after the write (its
// version, or the whole doc for a source without versions), and written again when a newer
// change committed meanwhile (an older text written last would otherwise stay); a pending row
// goes only if it still holds the version seen before the write, so a change noted meanwhile
// stays pending for the next round.
//
// On SQLite it indexes up to catchUpBatch new records instead (catchUp); the roster's entries
// are written in their transactions there, and it has nothing to do for them.
func (ix *Index) Repair(ctx context.Context) (int, error) {
	e, err := ix.Engine(ctx)
	if err == nil && e == FTS5 {
		if ix.src != Records {
			return 0, nil
		}
		return ix.catchUp(ctx)
	}
	if err != nil || e != Mroonga {
		return 0, err
	}
	src := ix.src
	db := ix.db.WithContext(ctx)
	var pending []struct {
		ID      int64
		Version int
	}
	if err := db.Raw("SELECT "+src.Key+" AS id, version FROM "+src.pending()+" ORDER BY "+src.Key+" LIMIT ?", repairBatch).
		Scan(&pending).Error; err != nil || len(pending) == 0 {
		return 0, err
	}
	ids := make([]int64, len(pending))
	for i, p := range pending {
		ids[i] = p.ID
	}
	settled := map[int64]bool{}
	todo := ids
	for range 5 {
		docs, err := src.read(db, todo)
		if err != nil {
			return 0, err
		}
		if err := src.write(db, Mroonga, docs); err != nil {
			return 0, err
		}
		written := make(map[int64]Doc, len(docs))
		for _, d := range docs {
			written[d.ID] = d
		}
		if gone := missing(todo, docs); len(gone) > 0 {
			for _, id := range gone {
				settled[id] = true
			}
			if err := src.remove(db, Mroonga, gone); err != nil {
				return 0, err
			}
		}
		var now []Doc
		if src.Versioned {
			err = db.Raw("SELECT id, version FROM "+src.Table+" WHERE id IN ?", todo).Scan(&now).Error
		} else {
			now, err = src.read(db, todo)
		}
		if err != nil {
			return 0, err
		}
		todo = todo[:0:0]
		for _, r := range now {
			w := written[r.ID]
			if src.Versioned && w.Version == r.Version || !src.Versioned && w == r {
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
		if !settled[p.ID] {
			continue // kept changing: the next round writes it
		}
		if len(args) > 0 {
			pairs.WriteString(", ")
		}
		pairs.WriteString("(?, ?)")
		args = append(args, p.ID, p.Version)
		done = append(done, p.ID)
	}
	if len(args) > 0 {
		args = append([]any{done}, args...)
		// READ COMMITTED: under REPEATABLE READ the DELETE's next-key locks held up the
		// submissions inserting their pending rows beside the ones it deletes, and it waited
		// for them in turn (0.5-1.4 s each way, 70 times in 40 s of the write-path bench at
		// 64 phones). It needs no gap locks: a row it does not delete is not its concern.
		err := db.Transaction(func(tx *gorm.DB) error {
			return tx.Exec("DELETE FROM "+src.pending()+" WHERE "+src.Key+" IN ? AND ("+src.Key+", version) IN ("+pairs.String()+")", args...).Error
		}, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
		if err != nil {
			return 0, err
		}
	}
	return len(pending), nil
}

// catchUp indexes up to catchUpBatch records above record_search_fill.last_id (SQLite), and
// moves last_id past them in the same transaction. It joins the submissions' groups
// (database.Grouped) rather than taking SQLite's write lock beside them: a second writer would
// wait out the busy handler's sleeps, and they would wait for it. A batch is small enough that
// the group's commit does not wait long for it (a few ms).
func (ix *Index) catchUp(ctx context.Context) (int, error) {
	var n int
	err := database.Grouped(ctx, ix.db, func(tx *gorm.DB) error {
		n = 0
		var last []int64
		if err := tx.Raw("SELECT last_id FROM record_search_fill WHERE id = 1").Scan(&last).Error; err != nil || len(last) == 0 {
			return err
		}
		var docs []Doc
		if err := tx.Raw("SELECT "+Records.Docs+" FROM records WHERE id > ? ORDER BY id LIMIT ?", last[0], catchUpBatch).Scan(&docs).Error; err != nil || len(docs) == 0 {
			return err
		}
		hi := docs[len(docs)-1].ID
		// An edit of a record not indexed yet wrote its entry (Touch): written again here.
		if err := tx.Exec("DELETE FROM record_search WHERE rowid > ? AND rowid <= ?", last[0], hi).Error; err != nil {
			return err
		}
		// One row a statement: the pure-Go driver binds a statement of many rows in time that
		// grows with the square of its parameters (a batch of 100 rows a statement cost three
		// times as much with modernc.org/sqlite v1.23). Prepared once, it is compiled once.
		ins, err := tx.Statement.ConnPool.PrepareContext(tx.Statement.Context,
			"INSERT INTO record_search (rowid, body, scope, region_code, county_code, author_id, kind) VALUES (?, ?, ?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, d := range docs {
			if _, err := ins.ExecContext(tx.Statement.Context, d.ID, Bigrams(d.Title+"\n"+d.Text), scopeWords(d),
				d.RegionCode, county(d.RegionCode), d.AuthorID, d.Kind); err != nil {
				return err
			}
		}
		n = len(docs)
		return tx.Exec("UPDATE record_search_fill SET last_id = ? WHERE id = 1", hi).Error
	})
	return n, err
}

// catchUpBatch is how many new records one catchUp indexes: small enough that the group of
// submissions it joins does not wait long for its commit.
const catchUpBatch = 200

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
	db := ix.db.WithContext(ctx).Table(ix.src.table())
	idCol := ix.src.Key
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
		db = db.Where(ix.src.table()+" MATCH ?", strings.Join(m, " AND "))
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

// PageIDs finds the ids of a keyword search's page of a list, newest first, up to page.Limit+1
// (paging.Trim). matching is the list's query with the caller's scope, every filter and the
// LIKE match, without order or limit; newest the same without the LIKE match. Both must be
// reusable sessions (each use starts from the same conditions).
//
// It first matches the newest ProbeRows rows of newest with LIKE: a frequent keyword fills its
// page there, and reading those is cheaper than the index, which finds every match of the
// keyword in the whole table before it keeps the scope's newest. The newest ProbeRows ids come
// from the list's index alone; the LIKE query then reads rows from the newest down and stops at
// a full page; a list of fewer rows is answered by it alone. Otherwise the index gives the newest
// candidates within q's scope, and matching keeps those that match; more candidates are asked
// for until the page is full or the index has none left. The index only narrows: the result is
// what matching alone returns, without reading the whole scope when the keyword is rare or
// absent. ErrUnusable: the caller runs matching alone.
func (ix *Index) PageIDs(ctx context.Context, q Query, matching, newest *gorm.DB, page paging.Page) ([]int64, error) {
	need := page.Limit + 1
	var out []int64
	q.Before = page.Before()
	if rows := probeRows.Load(); rows > 0 {
		n := newest
		if b := page.Before(); b > 0 {
			n = n.Where("id < ?", b)
		}
		var floor []int64
		if err := n.Order("id DESC").Offset(int(rows-1)).Limit(1).Pluck("id", &floor).Error; err != nil {
			return nil, err
		}
		probe := matching
		if len(floor) > 0 {
			probe = probe.Where("id >= ?", floor[0])
		}
		var found []int64
		if err := probe.Scopes(page.Apply("id")).Pluck("id", &found).Error; err != nil {
			return nil, err
		}
		if len(found) >= need || len(floor) == 0 {
			// A full page, or every row the list allows was read.
			return found, nil
		}
		// The index goes on below the rows read: it is written a moment after their commit
		// (Mroonga, new records on SQLite), and a record just sent must be found at once.
		out = found
		q.Before = floor[0]
	}
	q.Limit = max(4*(need-len(out)), 64)
	for {
		cands, err := ix.Candidates(ctx, q)
		if err != nil || len(cands) == 0 {
			return out, err
		}
		list := make([]string, len(cands))
		for i, id := range cands {
			list[i] = strconv.FormatInt(id, 10)
		}
		var got []int64
		// The candidates are written into the statement: thousands of bound parameters cost
		// the pure-Go SQLite driver time quadratic in their number.
		if err := matching.Where("id IN ("+strings.Join(list, ",")+")").Order("id DESC").Limit(need-len(out)).
			Pluck("id", &got).Error; err != nil {
			return nil, err
		}
		out = append(out, got...)
		if len(out) >= need || len(cands) < q.Limit {
			return out, nil
		}
		// Each round makes the index find every match of the keyword again: the second asks
		// for many at once.
		q.Before = cands[len(cands)-1]
		q.Limit = 20000
	}
}

// ProbeRows is how many of the newest rows in scope a keyword search reads with LIKE before it
// asks the full-text index (PageIDs).
const ProbeRows = 1000

// probeRows is ProbeRows, or what a test set (ShrinkProbe).
var probeRows atomic.Int64

func init() { probeRows.Store(ProbeRows) }

// ShrinkProbe makes the probe read only the newest n rows (0: none, every search goes to the
// index) until the returned function is called. For tests, which must not run in parallel
// with others: the probe's size is the test binary's, and the other tests' just-sent records
// may not be indexed yet (SQLite and Mroonga index after the commit), so a search of theirs
// that skipped the probe would miss them.
func ShrinkProbe(n int64) (restore func()) {
	old := probeRows.Swap(n)
	return func() { probeRows.Store(old) }
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
