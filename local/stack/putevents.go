package stack

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/posluha/posluha/local/bus"
	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/query/value"
)

// putEvents is EventBridge's PutEvents as a Step Functions integration,
// published on the stack's status bus. The optimised integration
// (events:putEvents) lets Detail be a JSON object, which Step Functions
// serialises; the SDK integration (aws-sdk:eventbridge:putEvents) takes
// the API's request as it is, Detail as text. The answer is the API's:
// {Entries: [{EventId} | {ErrorCode, ErrorMessage}], FailedEntryCount};
// refused entries do not fail the task, as in AWS.
func (s *Stack) putEvents(optimised bool) engine.Integration {
	return func(ctx context.Context, c *engine.Call) (any, error) {
		var raw struct {
			Entries []struct {
				bus.PutEventsEntry
				Detail json.RawMessage `json:"Detail"`
				Time   json.RawMessage `json:"Time"`
			} `json:"Entries"`
		}
		if err := json.Unmarshal(value.Marshal(c.Input), &raw); err != nil {
			return nil, &engine.Failure{Name: "EventBridge.ValidationException", Cause: "the arguments are not a PutEvents request: " + err.Error()}
		}
		in := bus.PutEventsInput{Entries: make([]bus.PutEventsEntry, len(raw.Entries))}
		for i, e := range raw.Entries {
			pe := e.PutEventsEntry
			var text string
			switch {
			case len(e.Detail) == 0 || string(e.Detail) == "null":
			case json.Unmarshal(e.Detail, &text) == nil:
				pe.Detail = text
			case optimised:
				pe.Detail = string(e.Detail)
			default:
				return nil, &engine.Failure{Name: "EventBridge.ValidationException", Cause: "Entries[" + strconv.Itoa(i) + "].Detail must be a string (JSON text)"}
			}
			t, err := putTime(e.Time)
			if err != nil {
				return nil, &engine.Failure{Name: "EventBridge.ValidationException", Cause: "Entries[" + strconv.Itoa(i) + "].Time: " + err.Error()}
			}
			pe.Time = t
			in.Entries[i] = pe
		}
		out, err := s.Console.Bus.PutEvents(ctx, in)
		var ve *bus.ValidationError
		if errors.As(err, &ve) {
			return nil, &engine.Failure{Name: "EventBridge.ValidationException", Cause: ve.Message}
		}
		if err != nil {
			return nil, &engine.Failure{Name: "EventBridge.InternalException", Cause: "the event could not be stored"}
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, err
		}
		return value.Parse(b)
	}
}

// putTime reads an entry's Time: epoch seconds (the SDKs' wire form) or an
// RFC 3339 timestamp (what a definition is likelier to hold).
func putTime(raw json.RawMessage) (*float64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var sec float64
	if json.Unmarshal(raw, &sec) == nil {
		return &sec, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return nil, errors.New("a timestamp is expected")
	}
	t, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		return nil, errors.New("a timestamp is expected (RFC 3339)")
	}
	sec = float64(t.UnixNano()) / 1e9
	return &sec, nil
}
