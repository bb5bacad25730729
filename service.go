package posluha

import (
	"fmt"
	"regexp"
	"time"
)

// ServiceStatus is where a service is in the catalogue.
type ServiceStatus string

// Service statuses.
const (
	ServiceActive        ServiceStatus = "active"
	ServiceInDevelopment ServiceStatus = "inDevelopment"
	ServiceInactive      ServiceStatus = "inactive"
	ServiceArchived      ServiceStatus = "archived"
)

// Service is a catalogue entry: statemachines/<id>/service.yaml, documented
// in docs/service-yaml.md.
type Service struct {
	ID     string         `json:"id" yaml:"id"`
	Title  Text           `json:"title" yaml:"title"`
	Status ServiceStatus  `json:"status" yaml:"status"`
	Owner  string         `json:"owner" yaml:"owner"`
	Form   map[string]any `json:"form,omitempty" yaml:"form,omitempty"` // JSON Schema of the application form
	// Eligibility rules are JSONata expressions over {"form":…, "citizen":…};
	// each must be true for the application to be accepted.
	Eligibility        []Rule             `json:"eligibility,omitempty" yaml:"eligibility,omitempty"`
	OneOpenApplication bool               `json:"oneOpenApplication,omitempty" yaml:"oneOpenApplication,omitempty"`
	Documents          []DocumentTemplate `json:"documents,omitempty" yaml:"documents,omitempty"`
	Connectors         []string           `json:"connectors,omitempty" yaml:"connectors,omitempty"`
	Retention          Duration           `json:"retention,omitempty" yaml:"retention,omitempty"`
}

// Text is a message in Ukrainian and English.
type Text struct {
	UK string `json:"uk" yaml:"uk"`
	EN string `json:"en" yaml:"en"`
}

// Rule is one eligibility condition with the message shown when it fails.
type Rule struct {
	ID        string `json:"id" yaml:"id"`
	Condition string `json:"condition" yaml:"condition"` // JSONata, must yield true
	Message   Text   `json:"message" yaml:"message"`
}

// DocumentTemplate names a result document a service produces.
type DocumentTemplate struct {
	ID       string `json:"id" yaml:"id"`
	Template string `json:"template" yaml:"template"` // file in the service folder
	Title    Text   `json:"title" yaml:"title"`
}

// Duration is a time.Duration written as "720h" or "365d" in YAML and JSON.
type Duration struct{ time.Duration }

var durationDays = regexp.MustCompile(`^(\d+)d$`)

// UnmarshalText accepts Go durations and whole days ("30d").
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if m := durationDays.FindStringSubmatch(s); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		d.Duration = time.Duration(n) * 24 * time.Hour
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: want e.g. 720h or 30d", s)
	}
	d.Duration = v
	return nil
}

// MarshalText writes whole days as "Nd".
func (d Duration) MarshalText() ([]byte, error) {
	if d.Duration%(24*time.Hour) == 0 && d.Duration > 0 {
		return fmt.Appendf(nil, "%dd", d.Duration/(24*time.Hour)), nil
	}
	return []byte(d.Duration.String()), nil
}

var serviceID = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

// Validate reports the first problem with a service entry as an
// Application.Invalid error naming the field.
func (s *Service) Validate() error {
	switch {
	case !serviceID.MatchString(s.ID):
		return Errorf(ErrApplicationInvalid, "id %q: want lower-case letters, digits and dashes", s.ID)
	case s.Title.UK == "":
		return Errorf(ErrApplicationInvalid, "title.uk is required")
	}
	switch s.Status {
	case ServiceActive, ServiceInDevelopment, ServiceInactive, ServiceArchived:
	default:
		return Errorf(ErrApplicationInvalid, "status %q: want active, inDevelopment, inactive or archived", s.Status)
	}
	for i, r := range s.Eligibility {
		if r.Condition == "" {
			return Errorf(ErrApplicationInvalid, "eligibility[%d].condition is required", i)
		}
	}
	return nil
}
