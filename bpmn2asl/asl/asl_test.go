package asl

import (
	"strings"
	"testing"
)

func TestMarshalOrderAndEscaping(t *testing.T) {
	sm := &StateMachine{
		Comment:       "bpmn:P",
		QueryLanguage: QueryLanguageJSONata,
		StartAt:       "B",
		States: States{
			{Name: "B", Type: TypeTask, Comment: "bpmn:b", Resource: ResourceLambdaInvoke,
				Arguments: NewObject("FunctionName", "${RegistryReadFunctionArn}", "Payload", NewObject("z", 1, "a", Expr("$x > 1 and $y < 2 & \"s\""))),
				Assign:    NewObject("y", nil, "b", true), Next: "A"},
			{Name: "A", Type: TypeSucceed},
		},
	}
	got, err := Marshal(sm)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "Comment": "bpmn:P",
  "QueryLanguage": "JSONata",
  "StartAt": "B",
  "States": {
    "B": {
      "Type": "Task",
      "Comment": "bpmn:b",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Arguments": {
        "FunctionName": "${RegistryReadFunctionArn}",
        "Payload": {
          "z": 1,
          "a": "{% $x > 1 and $y < 2 & \"s\" %}"
        }
      },
      "Assign": {
        "y": null,
        "b": true
      },
      "Next": "A"
    },
    "A": {
      "Type": "Succeed"
    }
  }
}
`
	if string(got) != want {
		t.Errorf("Marshal = \n%s\nwant\n%s", got, want)
	}
}

func TestExprFoldsNewlines(t *testing.T) {
	if got, want := Expr("$a\n  and\t$b"), "{% $a and $b %}"; got != want {
		t.Errorf("Expr = %q, want %q", got, want)
	}
}

func TestValidStateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"Read tax record (Activity_1)", true},
		{"Зчитати дані (Activity_1)", true},
		{strings.Repeat("x", 80), true},
		{strings.Repeat("ї", 40), true},
		{strings.Repeat("ї", 41), false},
		{strings.Repeat("x", 81), false},
		{"", false},
		{"tab\there", false},
	}
	for _, tc := range tests {
		if got := ValidStateName(tc.name) == ""; got != tc.ok {
			t.Errorf("ValidStateName(%q) ok = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestCheck(t *testing.T) {
	sm := &StateMachine{StartAt: "A", States: States{
		{Name: "A", Type: TypeParallel, Next: "Missing", Branches: []*Branch{
			{StartAt: "A", States: States{{Name: "A", Type: TypePass, End: true}}},
		}},
		{Name: "C", Type: TypePass},
	}}
	ps := Check(sm, MaxDefinitionBytes+1)
	var msgs []string
	for _, p := range ps {
		msgs = append(msgs, p.String())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"1 MiB", `Next "Missing"`, "used twice", `"C": state has neither Next nor End`} {
		if !strings.Contains(all, want) {
			t.Errorf("Check problems lack %q:\n%s", want, all)
		}
	}
}
