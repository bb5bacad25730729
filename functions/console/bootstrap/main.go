// Command bootstrap is the support console Lambda binary.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/posluha/posluha/functions/console"
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err == nil {
		var h *console.Handler
		if h, err = console.Wire(ctx, cfg, log, os.Getenv); err == nil {
			lambda.Start(h.Lambda())
		}
	}
	log.Error("start console", "err", err)
	os.Exit(1)
}
