package auth

import "testing"

// TestCheckPassword: at least 8 characters of three kinds, not containing the username
// (等保2.0 身份鉴别 a: 口令复杂度; ASVS V2.1.1). Generated one-time passwords pass the rule.
func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		"Ab1!":              false, // short
		"abcdefgh":          false, // one kind
		"abcdefg1":          false, // two kinds
		"Abcdefg1":          true,
		"abcdef-1":          true,
		"ABCDEF!!1":         true,
		"密码密码密码密码Aa1":       true, // other characters count as symbols
		"Zhang.San1":        true,
		"xx-zhangsan-Pass1": false, // contains the username
	} {
		if err := CheckPassword("password", pw, "ZhangSan"); (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", pw, err, ok)
		}
	}
	for range 200 {
		pw, err := GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckPassword("password", pw, "someone"); err != nil {
			t.Fatalf("generated %q: %v", pw, err)
		}
	}
}
