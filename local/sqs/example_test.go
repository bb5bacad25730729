package sqs_test

import (
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/posluha/posluha/local/sqs"
)

// The local stack serves the endpoint next to its other services; functions
// reach it unchanged through AWS_ENDPOINT_URL_SQS. BaseURL fixes the queue
// URLs when the endpoint sits behind a proxy; by default they follow the
// request's Host.
func ExampleNew() {
	dir := filepath.Join(os.TempDir(), "posluha-example", "data")
	srv, err := sqs.New(dir, sqs.Options{Logger: slog.Default(), Region: "eu-central-1"})
	if err != nil {
		log.Print(err)
		return
	}
	defer srv.Close()
	_ = &http.Server{Addr: "127.0.0.1:9324", Handler: srv.Handler()} // ListenAndServe in the stack
}
