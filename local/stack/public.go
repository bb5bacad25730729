package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/posluha/posluha/local/signer"
)

// mountPublic serves what anyone may open without signing in: the public
// verification of a document by its number (the QR code on every PDF points
// here; it says whether the document and its signatures are genuine, never
// whose they are) and the page with a signing request's QR code for the
// (simulated) signing app.
func (s *Stack) mountPublic() {
	s.mux.HandleFunc("GET /verify/{number}", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.PdfGen.Verify(r.Context(), r.PathValue("number"))
		if err != nil {
			s.log.Error("verify document", "err", err)
			http.Error(w, "verification is unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if !v.Found {
			w.WriteHeader(http.StatusNotFound)
		}
		json.NewEncoder(w).Encode(v)
	})
	s.mux.Handle("GET /sign", signer.QRPage(s.functionEnv("SIGN_DEEPLINK")))
}

// addHealthChecks lists every component on /health, each asked through the
// protocol its users speak.
func (s *Stack) addHealthChecks() {
	ac := s.AWSConfig()
	ping := func(url string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := s.httpClient.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				return fmt.Errorf("%s: %s", url, resp.Status)
			}
			return nil
		}
	}
	s.health["dynamodb"] = func(ctx context.Context) error {
		_, err := awsddb.NewFromConfig(ac).ListTables(ctx, &awsddb.ListTablesInput{})
		return err
	}
	s.health["sqs"] = func(ctx context.Context) error {
		_, err := sqs.NewFromConfig(ac).ListQueues(ctx, &sqs.ListQueuesInput{})
		return err
	}
	s.health["s3"] = func(ctx context.Context) error {
		_, err := awss3.NewFromConfig(ac, func(o *awss3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &awss3.ListBucketsInput{})
		return err
	}
	s.health["stepfunctions"] = func(ctx context.Context) error {
		_, err := sfn.NewFromConfig(ac).ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
		return err
	}
	s.health["oidc"] = ping(s.OIDC.Issuer() + "/.well-known/openid-configuration")
	s.health["api"] = ping("http://" + s.webAddr + "/openapi.json")
	s.health["registries"] = ping("http://" + s.regAddr + "/_sim/registries")
}
