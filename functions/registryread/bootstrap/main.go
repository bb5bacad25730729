// Command bootstrap is the registryread Lambda binary.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/posluha/posluha/functions/registryread"
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	h, err := registryread.Wire(context.Background(), log, os.Getenv)
	if err != nil {
		log.Error("start registryread", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Lambda())
}
