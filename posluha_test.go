package posluha

import (
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestErrorNamesGolden keeps the error names, which Step Functions matches by
// name, from changing by accident: a rename must also change the golden file.
func TestErrorNamesGolden(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, id := range vs.Names {
				if strings.HasPrefix(id.Name, "Err") && i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(lit.Value)
						names = append(names, s)
					}
				}
			}
		}
		return true
	})
	sort.Strings(names)
	got := strings.Join(names, "\n") + "\n"
	golden := "testdata/error-names.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("missing golden (run go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("error names changed:\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestErrorName(t *testing.T) {
	named := Errorf(ErrRegistryUnavailable, "registry %s is down", "drrp")
	tests := []struct {
		err       error
		name, msg string
	}{
		{nil, "", ""},
		{named, "Registry.Unavailable", "registry drrp is down"},
		{fmt.Errorf("read: %w", named), "Registry.Unavailable", "registry drrp is down"},
		{errors.New("boom"), "Internal", "internal error"},
	}
	for _, tc := range tests {
		if got := ErrorName(tc.err); got != tc.name {
			t.Errorf("ErrorName(%v) = %q, want %q", tc.err, got, tc.name)
		}
		if got := ErrorMessage(tc.err); got != tc.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tc.err, got, tc.msg)
		}
	}
}

func TestStatusMoves(t *testing.T) {
	tests := []struct {
		from, to Status
		ok       bool
	}{
		{StatusSubmitted, StatusProcessing, true},
		{StatusProcessing, StatusWaiting, true},
		{StatusWaiting, StatusProcessing, true},
		{StatusWaiting, StatusDone, true},
		{StatusFailed, StatusProcessing, true},
		{StatusDone, StatusProcessing, false},
		{StatusCancelled, StatusProcessing, false},
		{StatusSubmitted, StatusWaiting, false},
		{StatusRejected, StatusDone, false},
	}
	for _, tc := range tests {
		if got := tc.from.CanMove(tc.to); got != tc.ok {
			t.Errorf("%s.CanMove(%s) = %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
	if Status("bogus").Valid() || !StatusDone.Final() || StatusWaiting.Final() {
		t.Error("Valid/Final wrong")
	}
}

func TestSubstitutionName(t *testing.T) {
	tests := map[string]string{
		"registryread": "RegistryReadFunctionArn",
		"eventwrite":   "EventWriteFunctionArn",
		"sign":         "SignFunctionArn",
		"pdfgen":       "PdfGenFunctionArn",
		"api":          "ApiFunctionArn",
		"dispatcher":   "DispatcherFunctionArn",
		"tax-check":    "TaxCheckFunctionArn",
	}
	for in, want := range tests {
		if got := SubstitutionName(in); got != want {
			t.Errorf("SubstitutionName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := StateMachineSubstitution("benefit-payment"); got != "BenefitPaymentStateMachineArn" {
		t.Errorf("StateMachineSubstitution = %q", got)
	}
	for in, want := range map[string]string{"Process_1x9": "Process1x9", "a b.c": "ABC", "ключ": "Process", "": "Process"} {
		if got := PascalName(in); got != want {
			t.Errorf("PascalName(%q) = %q, want %q", in, got, want)
		}
	}
	for typ, want := range map[string]string{"registry.read": "registryread", "document.sign": "sign", "custom.tax-check": "tax-check", "custom.": "", "bogus": ""} {
		if got := FunctionForTaskType(typ); got != want {
			t.Errorf("FunctionForTaskType(%q) = %q, want %q", typ, got, want)
		}
	}
}

func TestTaskRequestValidate(t *testing.T) {
	ok := TaskRequest{ApplicationID: "a1", Step: "Activity_1"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if ok.IdempotencyKey() != "a1/Activity_1" {
		t.Errorf("IdempotencyKey = %q", ok.IdempotencyKey())
	}
	for _, bad := range []TaskRequest{{Step: "s"}, {ApplicationID: "a"}, {ApplicationID: "a", Step: "s", Attempt: -1}} {
		if ErrorName(bad.Validate()) != ErrTaskInvalid {
			t.Errorf("Validate(%+v) = %v, want Task.Invalid", bad, bad.Validate())
		}
	}
}

func TestDuration(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("30d")); err != nil || d.Duration != 30*24*time.Hour {
		t.Fatalf("30d = %v, %v", d, err)
	}
	if b, _ := d.MarshalText(); string(b) != "30d" {
		t.Errorf("MarshalText = %s", b)
	}
	if err := d.UnmarshalText([]byte("90m")); err != nil || d.Duration != 90*time.Minute {
		t.Fatalf("90m = %v, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("soon")); err == nil {
		t.Error("bad duration accepted")
	}
}

func TestServiceValidate(t *testing.T) {
	s := Service{ID: "e-propyska", Title: Text{UK: "Реєстрація місця проживання"}, Status: ServiceActive}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mut := range []func(*Service){
		func(s *Service) { s.ID = "E Propyska" },
		func(s *Service) { s.Title.UK = "" },
		func(s *Service) { s.Status = "live" },
		func(s *Service) { s.Eligibility = []Rule{{ID: "age"}} },
	} {
		bad := s
		mut(&bad)
		if ErrorName(bad.Validate()) != ErrApplicationInvalid {
			t.Errorf("Validate(%+v) = %v", bad, bad.Validate())
		}
	}
}

func TestApplicationMove(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	a := &Application{ID: "a1", Status: StatusSubmitted}
	steps := []StatusChange{
		{Status: StatusProcessing, Step: "status_processing", Time: now},
		{Status: StatusProcessing, Step: "status_processing", Time: now.Add(time.Minute)}, // a retry: no-op
		{Status: StatusWaiting, Step: "consent", Time: now.Add(2 * time.Minute)},
		{Status: StatusDone, Step: "notify_done", Time: now.Add(3 * time.Minute)},
	}
	for _, c := range steps {
		if err := a.Move(c); err != nil {
			t.Fatalf("Move(%v): %v", c, err)
		}
	}
	if len(a.StatusHistory) != 3 || a.Status != StatusDone || a.Open() {
		t.Fatalf("after moves: %+v", a)
	}
	if err := a.Move(StatusChange{Status: StatusProcessing, Step: "x", Time: now}); ErrorName(err) != ErrApplicationConflict {
		t.Fatalf("move out of done = %v, want Application.Conflict", err)
	}
}
