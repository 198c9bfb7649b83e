package app_test

import (
	"fmt"
	"io"
	"log/slog"
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

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
