// Command bootstrap is the pdfgen Lambda binary.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/posluha/posluha/functions/pdfgen"
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	h, err := pdfgen.Wire(context.Background(), log, os.Getenv)
	if err != nil {
		log.Error("start pdfgen", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Lambda())
}
