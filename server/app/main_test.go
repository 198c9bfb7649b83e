package app_test

import (
	"flag"
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
	// A full run must have exercised every operation of the contract: a route nobody calls is a
	// route nobody checks.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		routes, err := apitest.ContractRoutes()
		if err != nil {
			fmt.Fprintln(os.Stderr, "contract:", err)
			code = 1
		}
		done := apitest.Exercised()
		for _, r := range routes {
			if !done[r] {
				fmt.Fprintf(os.Stderr, "contract: %s is never called by the tests\n", r)
				code = 1
			}
		}
	}
	apitest.Cleanup()
	os.Exit(code)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
