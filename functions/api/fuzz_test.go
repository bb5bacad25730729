package api_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/posluha/posluha/functions/api"
	"github.com/posluha/posluha/functions/internal/dynamo"
)

func citizenEvent(method, path, body string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"content-type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path, Headers: h, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "3111412139", "name": "Шевченко Тарас Григорович", "birthdate": "1985-03-09", "role": "citizen"},
			}},
		},
	}
}

// FuzzSubmit feeds arbitrary bodies to POST /applications: the answer is
// never a panic or a 5xx, and a 202 always carries an application.
func FuzzSubmit(f *testing.F) {
	for _, s := range []string{
		`{"service":"e-propyska","form":{"reestrNum":"1234567890","tck":"Печерський РТЦК"}}`,
		`{"service":"lockdown-payout","form":{"iban":"UA213223130000026007233566001"}}`,
		`{"service":"e-propyska","form":{"reestrNum":12,"tck":null,"x":[1,{"y":"z"}]}}`,
		`{"service":"senior-card","form":{},"onBehalfOf":{"taxNumber":"1","name":"","birthDate":"x"}}`,
		`{"service":"e-propyska","form":[]}`, `[]`, `null`, `"x"`, `{`, ``, `{"service":"` + "\xff" + `"}`,
		`{"service":"e-propyska","form":{"reestrNum":"1e400"}}`, `{"form":{"a":{"a":{"a":{"a":{"a":{}}}}}}}`,
	} {
		f.Add(s)
	}
	mem := dynamo.NewMemory()
	h, err := api.New(api.Deps{Services: testServicesF(f), Applications: mem.Applications, Queue: &Queue{},
		Limits: api.Limits{CitizenRate: 1e9, CitizenBurst: 1 << 30}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		resp, err := h.Lambda()(context.Background(), citizenEvent("POST", "/applications", body, nil))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for %q: %s", resp.StatusCode, body, resp.Body)
		}
		if resp.StatusCode == 202 && resp.Headers["Location"] == "" {
			t.Fatalf("202 without Location for %q", body)
		}
	})
}
