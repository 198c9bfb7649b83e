package migrations

import (
	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v32 asks for the tips to be counted again: the times to acknowledge and to resolve are now kept
// under each tip's level, so that they can be measured against the level's acknowledge deadline.
// The first server to start recounts the tips (stats.Prepare, "rebuild_tips": a pass over
// record_tips, not over every record); until then the totals still count the older keys.
func v32(tx *gorm.DB, _ database.Dialect) error {
	var n int64
	if err := tx.Model(&v10State{}).Where("name = ?", "rebuild_tips").Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	return tx.Create(&v10State{Name: "rebuild_tips", Value: "pending"}).Error
}
