// Package migrations is the ordered list of schema steps. Each step declares its tables as frozen
// structs of its own, so later changes to domain models never rewrite history. A released step is
// never edited: a schema change is a new step at the end.
package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// All is every migration in order.
var All = []database.Migration{
	{Version: 1, Name: "foundation: regions, accounts, sessions, units, instructors, invites", Up: v1},
	{Version: 2, Name: "records: visits, sentiments, tips, mediations with timeline, versions and the events outbox", Up: v2},
	{Version: 3, Name: "uploads: attachments of records", Up: v3},
	{Version: 4, Name: "audit_log: who did what", Up: v4},
	{Version: 5, Name: "notifications: groups, subscriptions, delivery queue, staff duty", Up: v5},
	{Version: 6, Name: "meetings with invitees and reminders; bulletins with scope and read receipts", Up: v6},
	{Version: 7, Name: "roster administration: terms, instructor history, nominations, filings", Up: v7},
	{Version: 9, Name: "training plans, sessions, enrolments; assigned tasks with assignees and reports", Up: v9},
	{Version: 10, Name: "statistics: monthly record aggregate with per-record facts, instructor activity, meeting attendance, covering indexes", Up: v10},
	{Version: 11, Name: "record list indexes: region and date both ways, kind and region, kind, status and region, author and kind", Up: v11},
	{Version: 12, Name: "uploads: the client's id, unique per uploader, for idempotent retries", Up: v12},
	{Version: 13, Name: "training attendance tallied per session and county, for the statistics", Up: v13},
	{Version: 14, Name: "instructors: the latest record that counts, for the inactive ones; province statistics indexes in GROUP BY order", Up: v14},
	{Version: 15, Name: "notifications: index of finished rows by status and time, for the retention sweep", Up: v15},
	{Version: 20, Name: "sessions: accounts' tokens-valid-after and must-change-password; session kind, client and reissued pair", Up: v20},
	{Version: 21, Name: "audit_log: whether the answer carried personal data in full", Up: v21},
	{Version: 22, Name: "instructors' accounts and unattached uploads take the region of the instructor's unit again", Up: v22},
	{Version: 25, Name: "meeting invitees: position and accuracy a location check-in reported", Up: v25},
	{Version: 28, Name: "events: index by subject type and id, for the tip desk's stream", Up: v28},
	{Version: 30, Name: "statistics: each monthly cell spread over slots, so submissions of one county do not queue on one row", Up: v30},
	{Version: 32, Name: "statistics: tips' times to acknowledge and to resolve kept by level, recounted at the next start", Up: v32},
	{Version: 33, Name: "records: a virtual county code; list indexes in id order for a county's kinds and statuses and an instructor's records", Up: v33},
	{Version: 36, Name: "support and suggestions; yearly assessments; training topics, reminders and instructors trained per year", Up: v36},
	{Version: 37, Name: "three-year adjustment rounds with their instructors, the counties' decisions and reminders", Up: v37},
	{Version: 38, Name: "records: the role of the five served, tags of the brand and duties; defaults for existing records, statistics recounted", Up: v38},
	{Version: 39, Name: "units where ethnic work is heavy (flag and reason); filings' staleness per county for the reminder", Up: v39},
	{Version: 40, Name: "meeting series with their occurrences; meeting minutes", Up: v40},
	{Version: 41, Name: "exchange: bulletins corrected (versions kept) and withdrawn; instructors' experience shares reviewed by staff", Up: v41},
	{Version: 42, Name: "pending attachments: a record's photos declared by their upload client ids before they arrive (text first)", Up: v42},
	{Version: 43, Name: "resumable uploads: partial uploads and their chunks", Up: v43},
	{Version: 44, Name: "records: Chinese full-text index (Mroonga, MySQL 8 ngram or SQLite FTS5) filled for existing records", Up: v44},
	{Version: 45, Name: "roster: Chinese full-text index of unit and instructor names, filled for existing rows", Up: v45},
	{Version: 46, Name: "records: on SQLite new records' full-text entries written after commit in batches, from the newest indexed id", Up: v46},
	{Version: 47, Name: "records: a county's lists within a window of dates read the window from an index of county, kind and date", Up: v47},
}

type v1Region struct {
	Code       string `gorm:"primaryKey;size:12"`
	ParentCode string `gorm:"size:12;not null;default:'';index:idx_regions_parent"`
	Name       string `gorm:"size:64;not null"`
	Level      int    `gorm:"not null"`
}

func (v1Region) TableName() string { return "regions" }

type v1Account struct {
	ID           int64   `gorm:"primaryKey"`
	Username     *string `gorm:"size:64;uniqueIndex:uk_accounts_username"`
	PasswordHash string  `gorm:"size:100;not null;default:''"`
	Role         string  `gorm:"size:32;not null"`
	RegionCode   string  `gorm:"size:12;not null;default:'';index:idx_accounts_region"`
	InstructorID *int64  `gorm:"uniqueIndex:uk_accounts_instructor"`
	OpenID       *string `gorm:"column:openid;size:64;uniqueIndex:uk_accounts_openid"`
	UnionID      string  `gorm:"column:unionid;size:64;not null;default:''"`
	DisplayName  string  `gorm:"size:64;not null;default:''"`
	Status       string  `gorm:"size:16;not null;default:'active'"`
	FailedLogins int     `gorm:"not null;default:0"`
	LockedUntil  *time.Time
	LastLoginAt  *time.Time
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null"`
}

func (v1Account) TableName() string { return "accounts" }

type v1Session struct {
	ID        int64     `gorm:"primaryKey"`
	FamilyID  string    `gorm:"size:32;not null;index:idx_sessions_family"`
	AccountID int64     `gorm:"not null;index:idx_sessions_account"`
	TokenHash string    `gorm:"size:64;not null;uniqueIndex:uk_sessions_token"`
	ExpiresAt time.Time `gorm:"not null"`
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time `gorm:"not null"`
}

func (v1Session) TableName() string { return "sessions" }

type v1Unit struct {
	ID                int64     `gorm:"primaryKey"`
	Name              string    `gorm:"size:100;not null;uniqueIndex:uk_units_region_name,priority:2"`
	Kind              string    `gorm:"size:32;not null;index:idx_units_kind"`
	RegionCode        string    `gorm:"size:12;not null;uniqueIndex:uk_units_region_name,priority:1"`
	Address           string    `gorm:"size:200;not null;default:''"`
	ActiveInstructors int       `gorm:"not null;default:0"`
	CreatedBy         int64     `gorm:"not null;default:0"`
	CreatedAt         time.Time `gorm:"not null"`
	UpdatedAt         time.Time `gorm:"not null"`
}

func (v1Unit) TableName() string { return "units" }

type v1Instructor struct {
	ID              int64     `gorm:"primaryKey"`
	UnitID          int64     `gorm:"not null;index:idx_instructors_unit"`
	RegionCode      string    `gorm:"size:12;not null;index:idx_instructors_region"`
	Name            string    `gorm:"size:50;not null;index:idx_instructors_name"`
	Gender          string    `gorm:"size:8;not null"`
	Ethnicity       string    `gorm:"size:2;not null"`
	PhoneEnc        string    `gorm:"size:255;not null"`
	PhoneHash       string    `gorm:"size:64;not null;uniqueIndex:uk_instructors_phone"`
	IDNumberEnc     string    `gorm:"column:id_number_enc;size:255;not null;default:''"`
	IDNumberHash    *string   `gorm:"column:id_number_hash;size:64;uniqueIndex:uk_instructors_id_number"`
	PoliticalStatus string    `gorm:"size:32;not null;default:''"`
	Position        string    `gorm:"size:100;not null;default:''"`
	SourceCategory  string    `gorm:"size:40;not null;default:'other'"`
	Status          string    `gorm:"size:16;not null;index:idx_instructors_status"`
	CreatedBy       int64     `gorm:"not null;default:0"`
	CreatedAt       time.Time `gorm:"not null"`
	UpdatedAt       time.Time `gorm:"not null"`
}

func (v1Instructor) TableName() string { return "instructors" }

type v1Invite struct {
	ID           int64     `gorm:"primaryKey"`
	InstructorID int64     `gorm:"not null;index:idx_invites_instructor"`
	CodeHash     string    `gorm:"size:64;not null;uniqueIndex:uk_invites_code"`
	ExpiresAt    time.Time `gorm:"not null"`
	UsedAt       *time.Time
	RevokedAt    *time.Time
	CreatedBy    int64     `gorm:"not null"`
	CreatedAt    time.Time `gorm:"not null"`
}

func (v1Invite) TableName() string { return "invites" }

func v1(tx *gorm.DB, _ database.Dialect) error {
	return database.CreateTables(tx, &v1Region{}, &v1Account{}, &v1Session{}, &v1Unit{}, &v1Instructor{}, &v1Invite{})
}
