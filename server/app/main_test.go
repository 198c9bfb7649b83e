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

// The tests share one server, and most run in parallel (t.Parallel): each works with people,
// units and records of its own, and a test that counts or lists what a region holds works in a
// county no other test is given (apitest.Env.Area). A test stays serial, saying why, when it
// changes what the others see: it moves the shared clock, injects failures into the shared fake
// WeChat, empties the shared Redis, waits for the whole notification queue, counts whole tables,
// writes thousands of rows at once, or starts a server at another time (every server sweeps the
// whole database by its own clock: tips escalate, uploads are swept, reminders go out). Go runs
// the serial tests first, then the parallel ones together.
func TestMain(m *testing.M) {
	flag.Parse()
	// The parallel tests mostly wait (on round trips to the servers, on timeouts and polls they
	// provoke) rather than compute: unless -parallel says otherwise, run more of them at once than
	// the default of one per CPU.
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", "8")
	}
	fmt.Fprintf(os.Stderr, "backend: %s\n", apitest.Backend())
	code := m.Run()
	// A full run must have exercised every operation of the contract: a route nobody calls is a
	// route nobody checks.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		// The statistics aggregate still matches every record the tests wrote, those of the
		// tests that ran in parallel included.
		if e := apitest.Started(); e != nil {
			n, mismatches, err := aggregateMismatches(e.DB(), "")
			switch {
			case err != nil:
				fmt.Fprintln(os.Stderr, "stats aggregate:", err)
				code = 1
			case n == 0:
				fmt.Fprintln(os.Stderr, "stats aggregate: no records to compare")
				code = 1
			}
			for _, m := range mismatches {
				fmt.Fprintln(os.Stderr, "stats aggregate:", m)
				code = 1
			}
		}
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
