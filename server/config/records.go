package config

import (
	"errors"
	"time"
)

// RecordsConfig tunes the field records' tip workflow.
type RecordsConfig struct {
	// TipAckDeadlines is how long a tip of each level may wait for a county officer to
	// acknowledge it before it escalates by itself.
	TipAckDeadlines TipDeadlines `yaml:"tip_ack_deadlines"`
	// SweepInterval is how often each instance looks for overdue tips; 0 disables the sweep (then
	// another instance must run it).
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

// TipDeadlines are acknowledge deadlines by tip level.
type TipDeadlines struct {
	Critical time.Duration `yaml:"critical"`
	Major    time.Duration `yaml:"major"`
	Serious  time.Duration `yaml:"serious"`
	General  time.Duration `yaml:"general"`
}

// ByLevel maps tip level codes to their deadline.
func (d TipDeadlines) ByLevel() map[string]time.Duration {
	return map[string]time.Duration{"critical": d.Critical, "major": d.Major, "serious": d.Serious, "general": d.General}
}

func defaultRecords() RecordsConfig {
	return RecordsConfig{
		TipAckDeadlines: TipDeadlines{Critical: 15 * time.Minute, Major: 30 * time.Minute, Serious: 2 * time.Hour, General: 24 * time.Hour},
		SweepInterval:   30 * time.Second,
	}
}

func (r RecordsConfig) validate() []error {
	var errs []error
	for level, d := range r.TipAckDeadlines.ByLevel() {
		if d < time.Minute {
			errs = append(errs, errors.New("records.tip_ack_deadlines."+level+" must be at least 1m"))
		}
	}
	if r.SweepInterval < 0 || (r.SweepInterval > 0 && r.SweepInterval < time.Second) {
		errs = append(errs, errors.New("records.sweep_interval must be 0 (off) or at least 1s"))
	}
	return errs
}
