package lambdarun

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/local/engine"
)

type order struct {
	ID     string  `json:"id"`
	Amount float64 `json:"amount"`
}

type customErr struct{}

func (customErr) Error() string { return "custom" }

func TestInvokeRoundTripAndErrorNames(t *testing.T) {
	r := New()
	r.Register("double", func(ctx context.Context, o order) (order, error) {
		if lc, ok := lambdacontext.FromContext(ctx); !ok || lc.AwsRequestID == "" {
			return o, errors.New("no lambda context")
		}
		o.Amount *= 2
		return o, nil
	})
	r.Register("named", func(context.Context, order) (order, error) {
		return order{}, messages.InvokeResponse_Error{Type: posluha.ErrRegistryUnavailable, Message: "down"}
	})
	r.Register("plain", func(context.Context, order) (order, error) { return order{}, posluha.Errorf("X.Y", "not converted") })
	r.Register("wrapped", func(context.Context, order) (order, error) {
		return order{}, fmt.Errorf("ctx: %w", messages.InvokeResponse_Error{Type: "Lost", Message: "m"})
	})
	r.Register("value", func(context.Context, order) (order, error) { return order{}, customErr{} })
	r.Register("panics", func(context.Context, order) (order, error) { panic("boom") })

	out, err := r.InvokeFunction(context.Background(), "arn:aws:lambda:local:000000000000:function:double", []byte(`{"id":"a","amount":1.5}`))
	if err != nil || string(out) != `{"id":"a","amount":3}` {
		t.Fatalf("double = %s, %v", out, err)
	}
	tests := []struct{ fn, typ, msg string }{
		{"named", "Registry.Unavailable", "down"},
		{"plain", "Error", "X.Y: not converted"}, // the runtime names the Go type
		{"wrapped", "wrapError", ""},             // wrapping hides the InvokeResponse_Error
		{"value", "customErr", "custom"},
		{"panics", "string", "boom"},
	}
	for _, tc := range tests {
		_, err := r.InvokeFunction(context.Background(), tc.fn, []byte(`{}`))
		var le *engine.LambdaError
		if !errors.As(err, &le) || le.Type != tc.typ || (tc.msg != "" && le.Message != tc.msg) {
			t.Errorf("%s: err = %#v, want type %q message %q", tc.fn, err, tc.typ, tc.msg)
		}
	}
	if _, err := r.InvokeFunction(context.Background(), "nope", nil); !errors.Is(err, ErrNoFunction) {
		t.Errorf("unknown function: %v", err)
	}
	if _, err := r.InvokeFunction(context.Background(), "double", []byte(`{"amount":"x"}`)); err == nil {
		t.Error("bad payload accepted")
	}
}

func TestFunctionName(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:lambda:local:000000000000:function:registryread":             "registryread",
		"arn:aws:lambda:us-east-1:111111111111:function:registryread:$LATEST": "registryread",
		"eventwrite":      "eventwrite",
		"eventwrite:prod": "eventwrite",
	} {
		if got := FunctionName(in); got != want {
			t.Errorf("FunctionName(%q) = %q, want %q", in, got, want)
		}
	}
}
