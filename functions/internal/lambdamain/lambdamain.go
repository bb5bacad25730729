// Package lambdamain is what every function's bootstrap does, once: log
// through the Lambda log handler (JSON, AWS_LAMBDA_LOG_* honoured), load
// the AWS configuration, wire the function from the environment and serve
// it. A bootstrap is then one line naming its Wire and its handler.
package lambdamain

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Wire builds a function's handler (each function package's Wire).
type Wire[H any] func(ctx context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (H, error)

// Start wires the function called name and serves handler(h) with
// lambda.Start. A function that cannot start logs why and exits 1, so the
// Lambda service reports an init error instead of failing invocations.
func Start[H, F any](name string, wire Wire[H], handler func(H) F) {
	log := slog.New(lambdacontext.NewLogHandler())
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err == nil {
		var h H
		if h, err = wire(ctx, cfg, log, os.Getenv); err == nil {
			lambda.Start(handler(h))
		}
	}
	log.Error("start "+name, "err", err)
	os.Exit(1)
}
