// Package region holds the Hebei division tree (统计用区划代码, NBS 2023)
// keyed by 12-digit codes: the embedded data, its loader and a read store.
// Provenance and regeneration: docs/regions.md.
package region

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Levels, from the code's trailing-zero pattern.
const (
	LevelProvince = 1 // 省
	LevelCity     = 2 // 市
	LevelCounty   = 3 // 县/市/区
	LevelTownship = 4 // 乡/镇/街道
	LevelVillage  = 5 // 村/社区
)

// ProvinceCode is the root of the embedded data (河北省).
const ProvinceCode = "130000000000"

// Region is one division. The regions table is created by a migration.
type Region struct {
	Code       string `gorm:"primaryKey;size:12" json:"code"`
	ParentCode string `gorm:"size:12;index" json:"parent_code,omitempty"`
	Name       string `gorm:"size:64" json:"name"`
	Level      int    `json:"level"`
}

func (Region) TableName() string { return "regions" }

// regionJSON is the wire form: level as a word so clients need no table.
type regionJSON struct {
	Code       string `json:"code"`
	ParentCode string `json:"parent_code,omitempty"`
	Name       string `json:"name"`
	Level      string `json:"level"`
}

func (r Region) MarshalJSON() ([]byte, error) {
	return json.Marshal(regionJSON{r.Code, r.ParentCode, r.Name, LevelName(r.Level)})
}

func (r *Region) UnmarshalJSON(b []byte) error {
	var v regionJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	lv, ok := ParseLevel(v.Level)
	if !ok && v.Level != "" {
		return fmt.Errorf("region: unknown level %q", v.Level)
	}
	*r = Region{Code: v.Code, ParentCode: v.ParentCode, Name: v.Name, Level: lv}
	return nil
}

var levelNames = [...]string{"", "province", "city", "county", "township", "village"}

// LevelName returns "province" … "village", or "" for an unknown level.
func LevelName(level int) string {
	if level < LevelProvince || level > LevelVillage {
		return ""
	}
	return levelNames[level]
}

// ParseLevel is the inverse of LevelName.
func ParseLevel(name string) (int, bool) {
	for i := LevelProvince; i <= LevelVillage; i++ {
		if levelNames[i] == name {
			return i, true
		}
	}
	return 0, false
}

// prefixLen[level] is the number of significant digits at that level.
var prefixLen = [...]int{0, 2, 4, 6, 9, 12}

// ValidCode reports whether code is exactly 12 ASCII digits.
func ValidCode(code string) bool {
	if len(code) != 12 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// LevelOf returns the level implied by the code's trailing zeros, or 0 for
// an invalid or all-zero code.
func LevelOf(code string) int {
	if !ValidCode(code) || code[:2] == "00" {
		return 0
	}
	for lv := LevelProvince; lv < LevelVillage; lv++ {
		if strings.TrimLeft(code[prefixLen[lv]:], "0") == "" {
			return lv
		}
	}
	return LevelVillage
}

// Prefix returns the significant digits of code ("130100000000" → "1301");
// codes without a level are returned whole.
func Prefix(code string) string {
	lv := LevelOf(code)
	if lv == 0 {
		return code
	}
	return code[:prefixLen[lv]]
}

// Contains reports whether code lies in ancestor's subtree (itself included).
func Contains(ancestor, code string) bool {
	if LevelOf(ancestor) == 0 || LevelOf(code) == 0 {
		return false
	}
	return strings.HasPrefix(code, Prefix(ancestor))
}

// Normalize pads a 2/4/6/9/12-digit code to 12 digits. Six-digit GB/T 2260
// codes such as "130100" (石家庄市) therefore land on the right level too.
func Normalize(code string) (string, bool) {
	switch len(code) {
	case 2, 4, 6, 9, 12:
	default:
		return "", false
	}
	full := code + strings.Repeat("0", 12-len(code))
	if LevelOf(full) == 0 {
		return "", false
	}
	return full, true
}

// ancestorCodes lists the codes above code, province first. Levels whose
// segment is all zeros (malformed codes) are skipped rather than repeated.
func ancestorCodes(code string) []string {
	lv := LevelOf(code)
	var out []string
	for l := LevelProvince; l < lv; l++ {
		if l > LevelProvince && strings.TrimLeft(code[prefixLen[l-1]:prefixLen[l]], "0") == "" {
			continue
		}
		out = append(out, code[:prefixLen[l]]+strings.Repeat("0", 12-prefixLen[l]))
	}
	return out
}
