package config

import (
	"errors"
	"fmt"
	"time"
)

// MeetingsConfig tunes meetings (例会): reminders and check-in.
type MeetingsConfig struct {
	// Reminders are how long before a meeting starts its invitees are reminded (whole minutes).
	Reminders []time.Duration `yaml:"reminders"`
	// SweepInterval is how often each instance looks for due reminders; 0 disables the sweep
	// (then another instance must run it).
	SweepInterval time.Duration `yaml:"sweep_interval"`
	// CheckinRadiusMeters is how far from the meeting place a location check-in may be.
	CheckinRadiusMeters int `yaml:"checkin_radius_m"`
	// CheckinOpensBefore is how long before the start check-in opens; it closes at the end.
	CheckinOpensBefore time.Duration `yaml:"checkin_opens_before"`
	// SeriesHorizon is how far ahead the occurrences of a recurring meeting are created (and
	// their notices sent).
	SeriesHorizon time.Duration `yaml:"series_horizon"`
}

// BulletinsConfig tunes work bulletins (工作简报).
type BulletinsConfig struct {
	// SweepInterval is how often each instance publishes bulletins whose time has come; 0
	// disables the sweep (then another instance must run it).
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

func defaultMeetings() MeetingsConfig {
	return MeetingsConfig{
		Reminders:           []time.Duration{24 * time.Hour, time.Hour},
		SweepInterval:       30 * time.Second,
		CheckinRadiusMeters: 300,
		CheckinOpensBefore:  30 * time.Minute,
		SeriesHorizon:       35 * 24 * time.Hour,
	}
}

func defaultBulletins() BulletinsConfig {
	return BulletinsConfig{SweepInterval: 30 * time.Second}
}

func (m MeetingsConfig) validate() []error {
	var errs []error
	if len(m.Reminders) > 5 {
		errs = append(errs, errors.New("meetings.reminders: at most 5 reminders"))
	}
	seen := map[time.Duration]bool{}
	for _, d := range m.Reminders {
		if d < time.Minute || d > 7*24*time.Hour || d%time.Minute != 0 {
			errs = append(errs, fmt.Errorf("meetings.reminders: %s must be whole minutes between 1m and 168h", d))
		}
		if seen[d] {
			errs = append(errs, fmt.Errorf("meetings.reminders: %s is listed twice", d))
		}
		seen[d] = true
	}
	errs = append(errs, sweepInterval("meetings.sweep_interval", m.SweepInterval)...)
	if m.CheckinRadiusMeters < 50 || m.CheckinRadiusMeters > 5000 {
		errs = append(errs, errors.New("meetings.checkin_radius_m must be between 50 and 5000"))
	}
	if m.CheckinOpensBefore < 0 || m.CheckinOpensBefore > 24*time.Hour {
		errs = append(errs, errors.New("meetings.checkin_opens_before must be between 0 and 24h"))
	}
	if m.SeriesHorizon < 24*time.Hour || m.SeriesHorizon > 366*24*time.Hour {
		errs = append(errs, errors.New("meetings.series_horizon must be between 24h and 8784h"))
	}
	return errs
}

func (b BulletinsConfig) validate() []error {
	return sweepInterval("bulletins.sweep_interval", b.SweepInterval)
}

func sweepInterval(key string, d time.Duration) []error {
	if d < 0 || (d > 0 && d < time.Second) {
		return []error{errors.New(key + " must be 0 (off) or at least 1s")}
	}
	return nil
}
