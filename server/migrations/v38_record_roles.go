package migrations

import (
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v38 gives every record the role of the five (measures §三: 政治引领员、政策宣传员、活动组织员、
// 维稳调解员、民情联络员) it served, and the tags of the brand 石榴花开 and of the duties of §三(二)–(六)
// it served, both on the record's own row so that a submission writes them with the record.
// tags is the codes, comma-separated. The records there already take the default of their kind
// (and, for visits, of their visit kind), as record.DefaultRole decides it for new ones; then the
// next server start recounts the statistics (stats.Prepare, "rebuild"), which count per role and
// tag from now on.
func v38(tx *gorm.DB, d database.Dialect) error {
	for _, col := range []struct{ name, mysql, sqlite string }{
		{"role", "VARCHAR(24) NOT NULL DEFAULT ''", "TEXT NOT NULL DEFAULT ''"},
		{"tags", "VARCHAR(160) NOT NULL DEFAULT ''", "TEXT NOT NULL DEFAULT ''"},
	} {
		// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
		var have int64
		q := "SELECT COUNT(*) FROM pragma_table_info('records') WHERE name = ?"
		if d == database.MySQL {
			q = "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'records' AND COLUMN_NAME = ?"
		}
		if err := tx.Raw(q, col.name).Scan(&have).Error; err != nil {
			return err
		}
		if have > 0 {
			continue
		}
		typ := col.sqlite
		if d == database.MySQL {
			typ = col.mysql
		}
		if err := tx.Exec("ALTER TABLE records ADD COLUMN " + col.name + " " + typ).Error; err != nil {
			return err
		}
	}
	// The defaults of record.DefaultRole, frozen here as this step knows them.
	if err := tx.Exec(`UPDATE records SET role = COALESCE((SELECT CASE v.visit_kind
		WHEN 'policy_publicity' THEN 'policy_publicist'
		WHEN 'activity' THEN 'activity_organizer'
		WHEN 'other' THEN 'political_guide'
		ELSE 'sentiment_liaison' END FROM record_visits v WHERE v.record_id = records.id), 'sentiment_liaison')
		WHERE kind = 'visit' AND role = ''`).Error; err != nil {
		return err
	}
	if err := tx.Exec(`UPDATE records SET role = CASE kind
		WHEN 'sentiment' THEN 'sentiment_liaison'
		WHEN 'tip' THEN 'stability_mediator'
		WHEN 'mediation' THEN 'stability_mediator'
		ELSE 'political_guide' END
		WHERE role = '' OR role IS NULL`).Error; err != nil {
		return err
	}
	var n int64
	if err := tx.Model(&v10State{}).Where("name = ?", "rebuild").Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	return tx.Create(&v10State{Name: "rebuild", Value: "pending"}).Error
}
