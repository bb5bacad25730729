// Command bootstrap is the eventwrite Lambda binary.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/posluha/posluha/functions/eventwrite"
)

func main() {
	ctx := context.Background()
	log := slog.New(lambdacontext.NewLogHandler())
	cfg, err := config.LoadDefaultConfig(ctx)
	if err == nil {
		var h *eventwrite.Handler
		if h, err = eventwrite.Wire(ctx, cfg, log, os.Getenv); err == nil {
			lambda.Start(h.Lambda())
		}
	}
	log.Error("start eventwrite", "err", err)
	os.Exit(1)
}
