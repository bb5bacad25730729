// Command bootstrap is the registryread Lambda binary.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/posluha/posluha/functions/registryread"
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	h, err := registryread.Wire(ctx, cfg, log, os.Getenv)
	if err != nil {
		log.Error("start registryread", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Lambda())
}
