package config

import (
	"errors"
	"time"
)

// FilingConfig tunes the reminder of a county whose roster changed after its last accepted filing
// (备案, measures §二(四) "及时报备").
type FilingConfig struct {
	// RemindAfter is how long the roster has differed from the last accepted filing before the
	// county is reminded: time to file without being told.
	RemindAfter time.Duration `yaml:"remind_after"`
	// RemindEvery is the least time between two reminders of one county; a county is reminded once
	// per change of its roster, never more often than this.
	RemindEvery time.Duration `yaml:"remind_every"`
	// SweepInterval is how often each instance looks; 0 disables the sweep (then another instance
	// must run it).
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

func defaultFiling() FilingConfig {
	return FilingConfig{RemindAfter: 3 * 24 * time.Hour, RemindEvery: 7 * 24 * time.Hour, SweepInterval: time.Hour}
}

func (f FilingConfig) validate() []error {
	var errs []error
	if f.RemindAfter < 0 || f.RemindAfter > 31*24*time.Hour {
		errs = append(errs, errors.New("filing.remind_after must be between 0 and 744h"))
	}
	if f.RemindEvery < time.Hour || f.RemindEvery > 31*24*time.Hour {
		errs = append(errs, errors.New("filing.remind_every must be between 1h and 744h"))
	}
	return append(errs, sweepInterval("filing.sweep_interval", f.SweepInterval)...)
}
