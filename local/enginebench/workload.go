package enginebench

import (
	"context"
	"fmt"
	"strings"

	"github.com/posluha/posluha/local/lambdarun"
)

// Workload is one definition with its input, run the same way by both
// engines.
type Workload struct {
	Name       string
	Definition string
	Input      string
	// Unit is what throughput counts ("transitions", "items",
	// "executions") and PerExecution how many of them one execution makes.
	Unit         string
	PerExecution int
	// Concurrency lists the numbers of executions in flight to measure at.
	Concurrency []int
}

// Workloads returns the compared workloads: pass100, choice-loop, map10k
// and task10 (see the package comment).
func Workloads() []Workload {
	return []Workload{PassChain(100), ChoiceLoop(50), Map(10000), TaskWorkflow()}
}

// PassChain is n Pass states in a row, each with Parameters reading the
// input and a ResultPath writing into it.
func PassChain(n int) Workload {
	var sb strings.Builder
	sb.WriteString(`{"StartAt":"S0","States":{`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		fmt.Fprintf(&sb, `"S%d":{"Type":"Pass","Parameters":{"step":%d,"id.$":"$.id"},"ResultPath":"$.last",%s}`, i, i, next)
	}
	sb.WriteString(`}}`)
	return Workload{
		Name: fmt.Sprintf("pass%d", n), Definition: sb.String(),
		Input: `{"id":"app-1","data":{"a":[1,2,3],"b":"text"}}`,
		Unit:  "transitions", PerExecution: n, Concurrency: []int{1, 64},
	}
}

// ChoiceLoop counts to rounds: a Pass increments with States.MathAdd and a
// Choice loops back, then a Succeed (2×rounds+1 transitions).
func ChoiceLoop(rounds int) Workload {
	def := fmt.Sprintf(`{"StartAt":"Inc","States":{
		"Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":%d,"Next":"Inc"}],"Default":"Done"},
		"Done":{"Type":"Succeed"}}}`, rounds)
	return Workload{
		Name: "choice-loop", Definition: def, Input: `{"i":0}`,
		Unit: "transitions", PerExecution: 2*rounds + 1, Concurrency: []int{1, 64},
	}
}

// Map runs a Map state over n items (the numbers 1…n); each iteration is
// one Pass state with Parameters. Its throughput counts items. Items and
// results are small because the input and every state's output must stay
// under the 256 KiB payload limit; they start at 1 because the peer fails
// a JSONPath that selects the number 0 ("Path expression '$' does not
// point to a value").
func Map(n int) Workload {
	var sb strings.Builder
	sb.WriteString(`{"items":[`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `%d`, i+1)
	}
	sb.WriteString(`]}`)
	def := `{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items",
		"ItemProcessor":{"StartAt":"Item","States":{"Item":{"Type":"Pass","Parameters":{"n.$":"$"},"End":true}}},
		"ResultPath":"$.results","OutputPath":"$.results","End":true}}}`
	name := fmt.Sprintf("map%d", n)
	if n%1000 == 0 {
		name = fmt.Sprintf("map%dk", n/1000)
	}
	return Workload{
		Name: name, Definition: def, Input: sb.String(),
		Unit: "items", PerExecution: n, Concurrency: []int{1},
	}
}

// lambdaARN is how the local stack names an in-process function.
func lambdaARN(name string) string { return "arn:aws:lambda:local:000000000000:function:" + name }

// TaskWorkflow is a 10-state application workflow: Validate, ReadRegistry,
// Decide, Sign and Notify are Lambda tasks; Enrich, Record and Format are
// Pass states; Eligible is a Choice; Done a Succeed (Reject, a Fail, is
// not reached).
func TaskWorkflow() Workload {
	task := func(name, fn, payload, selector, resultPath, next string) string {
		return fmt.Sprintf(`"%s":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			"Parameters":{"FunctionName":"%s","Payload":%s},
			"ResultSelector":%s,"ResultPath":"%s","Next":"%s"}`, name, lambdaARN(fn), payload, selector, resultPath, next)
	}
	def := `{"StartAt":"Validate","States":{` +
		task("Validate", "validate", `{"applicationId.$":"$.applicationId","step":"Validate","form.$":"$.form"}`,
			`{"ok.$":"$.Payload.ok"}`, "$.validation", "Enrich") + `,
		"Enrich":{"Type":"Pass","Parameters":{"applicationId.$":"$.applicationId","form.$":"$.form","validation.$":"$.validation","service":"birth-certificate"},"Next":"ReadRegistry"},` +
		task("ReadRegistry", "registry", `{"applicationId.$":"$.applicationId","step":"ReadRegistry","taxNumber.$":"$.form.taxNumber"}`,
			`{"record.$":"$.Payload.record"}`, "$.registry", "Eligible") + `,
		"Eligible":{"Type":"Choice","Choices":[{"Variable":"$.validation.ok","BooleanEquals":true,"Next":"Decide"}],"Default":"Reject"},` +
		task("Decide", "decide", `{"applicationId.$":"$.applicationId","step":"Decide","record.$":"$.registry.record"}`,
			`{"decision.$":"$.Payload.decision"}`, "$.decision", "Record") + `,
		"Record":{"Type":"Pass","Result":"approved","ResultPath":"$.status","Next":"Sign"},` +
		task("Sign", "sign", `{"applicationId.$":"$.applicationId","step":"Sign"}`,
			`{"signature.$":"$.Payload.signature"}`, "$.signature", "Notify") + `,` +
		task("Notify", "notify", `{"applicationId.$":"$.applicationId","step":"Notify","status.$":"$.status"}`,
			`{"sent.$":"$.Payload.sent"}`, "$.notification", "Format") + `,
		"Format":{"Type":"Pass","Parameters":{"applicationId.$":"$.applicationId","status.$":"$.status","decision.$":"$.decision.decision","signature.$":"$.signature.signature","notified.$":"$.notification.sent"},"Next":"Done"},
		"Done":{"Type":"Succeed"},
		"Reject":{"Type":"Fail","Error":"Application.Rejected"}}}`
	return Workload{
		Name: "task10", Definition: def,
		Input: `{"applicationId":"app-0001","form":{"taxNumber":"1234567890","name":"Олена Петренко","birthDate":"1990-05-01"}}`,
		// 512 in flight is a burst: group commit shares the durable store's
		// fsyncs among that many checkpoints.
		Unit: "executions", PerExecution: 1, Concurrency: []int{1, 64, 512},
	}
}

// The task10 Lambdas. peer.mjs has the same functions in JavaScript.
type (
	taskRequest struct {
		ApplicationID string            `json:"applicationId"`
		Step          string            `json:"step"`
		Form          map[string]string `json:"form,omitempty"`
		TaxNumber     string            `json:"taxNumber,omitempty"`
		Record        map[string]string `json:"record,omitempty"`
		Status        string            `json:"status,omitempty"`
	}
	validateResponse struct {
		OK bool `json:"ok"`
	}
	registryResponse struct {
		Record map[string]string `json:"record"`
	}
	decideResponse struct {
		Decision string `json:"decision"`
	}
	signResponse struct {
		Signature string `json:"signature"`
	}
	notifyResponse struct {
		Sent bool `json:"sent"`
	}
)

// Functions returns a runner with the task10 Lambdas registered.
func Functions() *lambdarun.Runner {
	r := lambdarun.New()
	r.Register("validate", func(_ context.Context, in taskRequest) (validateResponse, error) {
		return validateResponse{OK: len(in.Form["taxNumber"]) == 10 && in.Form["name"] != ""}, nil
	})
	r.Register("registry", func(_ context.Context, in taskRequest) (registryResponse, error) {
		return registryResponse{Record: map[string]string{"taxNumber": in.TaxNumber, "registered": "2001-02-03", "office": "Kyiv"}}, nil
	})
	r.Register("decide", func(_ context.Context, in taskRequest) (decideResponse, error) {
		if in.Record["taxNumber"] == "" {
			return decideResponse{Decision: "reject"}, nil
		}
		return decideResponse{Decision: "approve"}, nil
	})
	r.Register("sign", func(_ context.Context, in taskRequest) (signResponse, error) {
		return signResponse{Signature: "sig-" + in.ApplicationID}, nil
	})
	r.Register("notify", func(_ context.Context, in taskRequest) (notifyResponse, error) {
		return notifyResponse{Sent: in.Status == "approved"}, nil
	})
	return r
}
