package config

import (
	"errors"
	"fmt"
	"time"
)

// TrainingConfig tunes training (培训): reminders before a session.
type TrainingConfig struct {
	// Reminders are how long before a session starts its enrolled instructors are reminded (whole
	// minutes).
	Reminders []time.Duration `yaml:"reminders"`
	// SweepInterval is how often each instance looks for due reminders; 0 disables the sweep
	// (then another instance must run it).
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

// AdjustmentConfig tunes the central three-year adjustment (集中调整).
type AdjustmentConfig struct {
	// RemindEvery is how often a county is reminded of the terms of an open round that ran out
	// without its decision.
	RemindEvery time.Duration `yaml:"remind_every"`
	// SweepInterval is how often each instance looks for such terms; 0 disables the sweep (then
	// another instance must run it).
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

func defaultTraining() TrainingConfig {
	return TrainingConfig{Reminders: []time.Duration{24 * time.Hour}, SweepInterval: time.Minute}
}

func defaultAdjustment() AdjustmentConfig {
	return AdjustmentConfig{RemindEvery: 7 * 24 * time.Hour, SweepInterval: time.Hour}
}

func (t TrainingConfig) validate() []error {
	var errs []error
	if len(t.Reminders) > 3 {
		errs = append(errs, errors.New("training.reminders: at most 3 reminders"))
	}
	seen := map[time.Duration]bool{}
	for _, d := range t.Reminders {
		if d < time.Minute || d > 7*24*time.Hour || d%time.Minute != 0 {
			errs = append(errs, fmt.Errorf("training.reminders: %s must be whole minutes between 1m and 168h", d))
		}
		if seen[d] {
			errs = append(errs, fmt.Errorf("training.reminders: %s is listed twice", d))
		}
		seen[d] = true
	}
	return append(errs, sweepInterval("training.sweep_interval", t.SweepInterval)...)
}

func (a AdjustmentConfig) validate() []error {
	var errs []error
	if a.RemindEvery < time.Hour || a.RemindEvery > 31*24*time.Hour {
		errs = append(errs, errors.New("adjustment.remind_every must be between 1h and 744h"))
	}
	return append(errs, sweepInterval("adjustment.sweep_interval", a.SweepInterval)...)
}
