// Command bootstrap is the sign Lambda binary.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/posluha/posluha/functions/sign"
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	h, err := sign.Wire(context.Background(), log, os.Getenv)
	if err != nil {
		log.Error("start sign", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Lambda())
}
