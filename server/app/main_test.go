package app_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
)

func TestMain(m *testing.M) {
	fmt.Fprintf(os.Stderr, "backend: %s\n", apitest.Backend())
	code := m.Run()
	apitest.Cleanup()
	os.Exit(code)
}
