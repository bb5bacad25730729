package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestListExecutionsPage pages through a machine's executions with and
// without a status filter.
func TestListExecutionsPage(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	sm, err := h.eng.CreateMachine(ctx, CreateMachineInput{Name: "list", Definition: `{"StartAt":"C","States":{
		"C":{"Type":"Choice","Choices":[{"Variable":"$.ok","BooleanEquals":true,"Next":"S"}],"Default":"F"},
		"S":{"Type":"Succeed"},"F":{"Type":"Fail","Error":"No"}}}`})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		x, err := h.eng.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Name: fmt.Sprint("x", i), Input: fmt.Sprintf(`{"ok":%v}`, i%2 == 0)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.eng.Await(ctx, x.ARN); err != nil {
			t.Fatal(err)
		}
	}
	names := func(xs []*Execution) (out []string) {
		for _, x := range xs {
			out = append(out, x.Name)
		}
		return out
	}
	tests := []struct {
		status     string
		limit      int
		wantPages  string
		wantTokens int
	}{
		{"", 2, "[[x4 x3] [x2 x1] [x0]]", 2},
		{"", 0, "[[x4 x3 x2 x1 x0]]", 0},
		{StatusSucceeded, 2, "[[x4 x2] [x0]]", 1},
		{StatusFailed, 2, "[[x3 x1]]", 0},
		{StatusRunning, 2, "[[]]", 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.status, tc.limit), func(t *testing.T) {
			var pages [][]string
			tokens := 0
			for after := ""; ; {
				var keep func(*Execution) bool
				if tc.status != "" {
					keep = func(x *Execution) bool { return x.Status == tc.status }
				}
				xs, next, err := h.eng.ListExecutionsPage(ctx, sm.ARN, keep, after, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				pages = append(pages, names(xs))
				if next == "" {
					break
				}
				tokens++
				after = next
			}
			if got := fmt.Sprint(pages); got != tc.wantPages || tokens != tc.wantTokens {
				t.Errorf("pages %s with %d tokens, want %s with %d", got, tokens, tc.wantPages, tc.wantTokens)
			}
		})
	}
	_, _, err = h.eng.ListExecutionsPage(ctx, sm.ARN, nil, "arn:nope", 2)
	var api *APIError
	if !errors.As(err, &api) || api.Code != "InvalidToken" {
		t.Errorf("unknown cursor: %v", err)
	}
}
