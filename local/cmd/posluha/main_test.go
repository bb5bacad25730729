package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/posluha/posluha/query/value"
)

func TestExec(t *testing.T) {
	dir := t.TempDir()
	def := filepath.Join(dir, "svc.asl.json")
	mocks := filepath.Join(dir, "mocks.json")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(def, `{"StartAt":"Read","States":{
		"Read":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload.$":"$"},"OutputPath":"$.Payload",
		        "Retry":[{"ErrorEquals":["Registry.Unavailable"],"IntervalSeconds":60}],"Next":"Wait"},
		"Wait":{"Type":"Wait","Seconds":86400,"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.ok","BooleanEquals":true,"Next":"Done"}],"Default":"Refuse"},
		"Refuse":{"Type":"Fail","Error":"Application.Refused","Cause":"not eligible"},
		"Done":{"Type":"Succeed"}}}`)
	tests := []struct {
		name, mocks, status, output, err string
	}{
		{"retry then succeed", `{"Read":[{"error":"Registry.Unavailable","cause":"down"},{"output":{"Payload":{"ok":true}}}]}`, "SUCCEEDED", `{"ok":true}`, ""},
		{"refused", `{"Read":[{"output":{"Payload":{"ok":false}}}]}`, "FAILED", "", "Application.Refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			write(mocks, tc.mocks)
			var out bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &out}
			ctx := context.Background()
			if err := m.ParseFlags(ctx, []string{"exec", "--definition", def, "--input", `{"id":1}`, "--mocks", mocks, "--history"}); err != nil {
				t.Fatal(err)
			}
			if err := m.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			v, err := value.Parse(out.Bytes())
			if err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			o := v.(*value.Object)
			if got, _ := o.Get("status"); got != tc.status {
				t.Fatalf("status = %v, want %s\n%s", got, tc.status, out.String())
			}
			if tc.output != "" {
				if got, _ := o.Get("output"); got != tc.output {
					t.Errorf("output = %v, want %s", got, tc.output)
				}
			}
			if got, _ := o.Get("error"); tc.err != "" && got != tc.err {
				t.Errorf("error = %v, want %s", got, tc.err)
			}
			if ev, _ := o.Get("events"); len(ev.([]any)) == 0 {
				t.Error("no events with --history")
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no command", nil},
		{"unknown", []string{"frobnicate"}},
		{"exec without definition", []string{"exec"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
			if err := m.ParseFlags(context.Background(), tc.args); err == nil {
				t.Error("ParseFlags succeeded, want an error")
			}
		})
	}
}
