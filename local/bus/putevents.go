package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// PutEventsEntry is one entry of EventBridge's PutEvents request, as the
// SDKs send it (Detail is JSON text; Time epoch seconds, optional).
type PutEventsEntry struct {
	Source       string   `json:"Source"`
	DetailType   string   `json:"DetailType"`
	Detail       string   `json:"Detail"`
	EventBusName string   `json:"EventBusName,omitempty"`
	Resources    []string `json:"Resources,omitempty"`
	Time         *float64 `json:"Time,omitempty"`
	TraceHeader  string   `json:"TraceHeader,omitempty"`
}

// PutEventsInput is PutEvents' request body.
type PutEventsInput struct {
	Entries    []PutEventsEntry `json:"Entries"`
	EndpointID string           `json:"EndpointId,omitempty"`
}

// PutEventsResultEntry is EventBridge's per-entry answer: an EventId, or
// an ErrorCode and ErrorMessage.
type PutEventsResultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// PutEventsOutput is PutEvents' answer, entries in request order.
type PutEventsOutput struct {
	Entries          []PutEventsResultEntry `json:"Entries"`
	FailedEntryCount int                    `json:"FailedEntryCount"`
}

// ValidationError is a request-level PutEvents failure (AWS's
// ValidationException): nothing of the request was published.
type ValidationError struct{ Message string }

func (e *ValidationError) Error() string { return "ValidationException: " + e.Message }

// Limits AWS applies to PutEvents.
const (
	maxPutEntries   = 10
	maxPutEntrySize = 256 << 10
)

// putMarker prefixes the ARN field of outbox entries written by PutEvents:
// they belong to no execution save, so recovery delivers them as they are
// (the put was acknowledged) instead of checking them against the store.
const putMarker = "putEvents:"

// PutEvents publishes entries as events on this bus, like EventBridge's
// PutEvents on the default bus (every EventBusName lands on this one bus).
// Entries AWS would refuse one by one (missing fields, a Detail that is
// not a JSON object, an "aws." source) are reported in their result entry
// and the others are published; a request AWS refuses as a whole returns
// a *ValidationError. Published events are in the outbox (fsynced unless
// NoSync) before PutEvents returns, so an acknowledged event survives a
// crash; delivery is at-least-once like the status events.
func (b *Bus) PutEvents(ctx context.Context, in PutEventsInput) (*PutEventsOutput, error) {
	if len(in.Entries) == 0 || len(in.Entries) > maxPutEntries {
		return nil, &ValidationError{Message: fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and %d", maxPutEntries)}
	}
	out := &PutEventsOutput{Entries: make([]PutEventsResultEntry, len(in.Entries))}
	var evs []Event
	now := time.Now().UTC()
	for i, pe := range in.Entries {
		ev, code, msg := b.toEvent(pe, now)
		if code != "" {
			out.Entries[i] = PutEventsResultEntry{ErrorCode: code, ErrorMessage: msg}
			out.FailedEntryCount++
			continue
		}
		out.Entries[i].EventID = ev.ID
		evs = append(evs, ev)
	}
	if len(evs) == 0 {
		return out, nil
	}
	id, err := b.prepare(putMarker+evs[0].ID, 0, evs)
	if err != nil {
		return nil, err
	}
	b.commit(id)
	return out, nil
}

func (b *Bus) toEvent(pe PutEventsEntry, now time.Time) (Event, string, string) {
	switch {
	case pe.Source == "":
		return Event{}, "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."
	case pe.DetailType == "":
		return Event{}, "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case pe.Detail == "":
		return Event{}, "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."
	case strings.HasPrefix(pe.Source, "aws."):
		// Only AWS services send aws.* events; the console trusts
		// aws.states events as Step Functions' own.
		return Event{}, "NotAuthorizedForSourceException", "Not authorized for the source."
	case len(pe.Source)+len(pe.DetailType)+len(pe.Detail)+len(strings.Join(pe.Resources, "")) > maxPutEntrySize:
		return Event{}, "InvalidArgument", "Total size of the entries in the request is over the limit."
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(pe.Detail), &obj) != nil || obj == nil {
		return Event{}, "MalformedDetail", "Detail is malformed."
	}
	at := now
	if pe.Time != nil {
		sec := *pe.Time
		at = time.Unix(int64(sec), int64((sec-float64(int64(sec)))*1e9)).UTC()
	}
	resources := pe.Resources
	if resources == nil {
		resources = []string{}
	}
	return Event{Version: "0", ID: newEventID(), DetailType: pe.DetailType, Source: pe.Source, AccountID: b.o.Account,
		Time: at, Region: b.o.Region, Resources: resources, Detail: json.RawMessage(pe.Detail)}, "", ""
}

// newEventID is unique per put, as EventBridge's are.
func newEventID() string {
	var r [16]byte
	rand.Read(r[:])
	s := hex.EncodeToString(r[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// Handler serves EventBridge's JSON 1.1 protocol for PutEvents
// (X-Amz-Target AWSEvents.PutEvents), so that the aws-sdk-go-v2
// eventbridge client and `aws events put-events` work against the stack.
func (b *Bus) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		if target != "AWSEvents.PutEvents" {
			awsError(w, http.StatusBadRequest, "UnknownOperationException", "the local bus serves AWSEvents.PutEvents only, not "+target)
			return
		}
		var in PutEventsInput
		body, err := io.ReadAll(io.LimitReader(r.Body, maxPutEntries*maxPutEntrySize+1<<16))
		if err == nil {
			err = json.Unmarshal(body, &in)
		}
		if err != nil {
			awsError(w, http.StatusBadRequest, "SerializationException", "the request body is not a PutEvents request")
			return
		}
		out, err := b.PutEvents(r.Context(), in)
		var ve *ValidationError
		switch {
		case errors.As(err, &ve):
			awsError(w, http.StatusBadRequest, "ValidationException", ve.Message)
			return
		case err != nil:
			b.o.Logger.ErrorContext(r.Context(), "put events", "err", err)
			awsError(w, http.StatusInternalServerError, "InternalException", "the event could not be stored")
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(out)
	})
}

func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
