package eventwrite

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/dynamo"
)

// BenchmarkStatusTask: one status task through the Lambda handler on the
// in-memory stores (the handler's own cost) and on local/dynamodb over
// loopback (what a local stack pays); compare the two in one run.
func BenchmarkStatusTask(b *testing.B) {
	ctx := context.Background()
	e := mustEnv(b)
	mem := dynamo.NewMemory()
	memDeps := e.deps
	memDeps.Applications, memDeps.Notifications, memDeps.Awaits, memDeps.Effects =
		mem.Applications, mem.Notifications, mem.Awaits, mem.Effects
	for _, bc := range []struct {
		name string
		d    Deps
	}{{"memory", memDeps}, {"dynamodb", e.deps}} {
		b.Run(bc.name, func(b *testing.B) {
			h := lambda.NewHandler(New(bc.d).Lambda())
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprintf("%s-%d", bc.name, i)
				if err := bc.d.Applications.Create(ctx, &posluha.Application{ID: id, Service: "svc", Citizen: "c"}, false); err != nil {
					b.Fatal(err)
				}
				if _, err := h.Invoke(ctx, []byte(task(id, "status_processing", "status", 0,
					map[string]any{"arguments": map[string]any{"status": "processing"}}))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
