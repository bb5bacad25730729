// Command bootstrap is the dispatcher Lambda binary.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/posluha/posluha/functions/dispatcher"
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err == nil {
		var h *dispatcher.Handler
		if h, err = dispatcher.Wire(ctx, cfg, log, os.Getenv); err == nil {
			lambda.Start(h.Invoke) // SQS batches, and the sweep schedule
		}
	}
	log.Error("start dispatcher", "err", err)
	os.Exit(1)
}
