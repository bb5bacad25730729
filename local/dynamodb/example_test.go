package dynamodb_test

import (
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/posluha/posluha/local/dynamodb"
)

// The local stack serves the endpoint next to its other services; functions
// reach it unchanged through AWS_ENDPOINT_URL_DYNAMODB. The SQS endpoint may
// share the data directory: each keeps its own log file.
func ExampleNew() {
	dir := filepath.Join(os.TempDir(), "posluha-example", "data")
	srv, err := dynamodb.New(dir, dynamodb.Options{Logger: slog.Default()})
	if err != nil {
		log.Print(err)
		return
	}
	defer srv.Close() // flushes the log; a kill -9 instead loses nothing acknowledged

	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	_ = &http.Server{Addr: "127.0.0.1:8000", Handler: mux} // ListenAndServe in the stack
}
