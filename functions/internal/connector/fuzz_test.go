package connector

import (
	"net/http"
	"testing"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/query/value"
)

// checkNamed fails unless err is nil or one of the registry errors: a
// decoder never panics and never returns an unnamed error.
func checkNamed(t *testing.T, v any, err error) {
	if err == nil {
		// Whatever decoded must encode and parse back.
		if _, perr := value.Parse(value.Marshal(v)); perr != nil {
			t.Fatalf("decoded value does not round-trip: %v", perr)
		}
		return
	}
	switch posluha.ErrorName(err) {
	case posluha.ErrRegistryUnavailable, posluha.ErrRegistryBadRequest, posluha.ErrRegistryNotFound, posluha.ErrRegistryBadResponse:
	default:
		t.Fatalf("unnamed error %v", err)
	}
}

func FuzzDecodeSOAP(f *testing.F) {
	f.Add(200, "", []byte(envOpen+`<r><a>1</a><a>2</a><b xsi:nil="true"/></r>`+envClose))
	f.Add(500, "", fault("SOAP-ENV:Server.ServerProxy.ServiceFailed"))
	f.Add(500, "Client.X", fault("Client.InvalidRequest"))
	f.Add(200, "", []byte(`<?xml version="1.0"?><!DOCTYPE a><a/>`))
	f.Add(200, "", []byte(envOpen))
	f.Fuzz(func(t *testing.T, status int, xroadErr string, body []byte) {
		h := http.Header{}
		if xroadErr != "" {
			h.Set("X-Road-Error", xroadErr)
		}
		v, err := decodeSOAP("c", map[string]bool{"a": true}, response{status: status, header: h, body: body})
		checkNamed(t, v, err)
	})
}

func FuzzDecodeREST(f *testing.F) {
	f.Add(200, "application/json", "", []byte(`{"a":[1,2,{"b":null}]}`))
	f.Add(500, "application/json", "", []byte(`{"type":"Server.ServerProxy.ServiceFailed"}`))
	f.Add(400, "application/json", "Client.InvalidRequest", []byte(``))
	f.Add(200, "text/html", "", []byte(`<html>`))
	f.Add(200, "application/json", "", []byte(`{"a":"\ud800"}`))
	f.Fuzz(func(t *testing.T, status int, ct, xroadErr string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", ct)
		if xroadErr != "" {
			h.Set("X-Road-Error", xroadErr)
		}
		v, err := decodeREST("c", response{status: status, header: h, body: body})
		checkNamed(t, v, err)
	})
}
