package database

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"
)

func TestRedactErrorHidesQuotedValues(t *testing.T) {
	cases := []*mysqldrv.MySQLError{
		{Number: 1062, Message: "Duplicate entry '13812345678' for key 'instructors.uk_phone'"},
		{Number: 1366, Message: "Incorrect string value: '\\xF0\\x9F\\x98\\x8013812345678' for column `description` at row 1"},
		{Number: 1265, Message: "Data truncated for column `level` at row 1: 'it''s 13812345678'"},
	}
	for _, me := range cases {
		err := RedactError(fmt.Errorf("store: %w", me))
		if strings.Contains(err.Error(), "13812345678") {
			t.Errorf("value left in %q", err)
		}
		if !errors.Is(err, me) {
			t.Errorf("%q no longer wraps the driver error", err)
		}
	}
	if got := RedactError(fmt.Errorf("store: %w", cases[1])).Error(); !strings.Contains(got, "`description`") {
		t.Errorf("column name lost: %q", got)
	}
}
