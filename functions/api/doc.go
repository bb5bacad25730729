// Package api is the citizen HTTP API: the catalogue, applications, signing,
// answers to the steps that wait for the citizen, documents and
// notifications. It is one net/http handler; Lambda() wraps it with
// aws-lambda-go-api-proxy for API Gateway HTTP API (payload 2.0) and the
// local gateway invokes the same function in-process.
//
// # Identity
//
// The caller is who the JWT says: API Gateway's JWT authorizer (locally
// local/gateway) has checked the token and passes its claims in
// requestContext.authorizer.jwt.claims. The API trusts them and reads
//
//	sub        the citizen's tax number (RNOKPP), or a partner's client id
//	role       citizen (default), partner (client credentials) or support
//	name       the citizen's full name
//	birthdate  YYYY-MM-DD, for the age in eligibility rules
//
// A partner platform submits on a citizen's behalf with "onBehalfOf" in the
// body (the citizen then follows the application in their own cabinet);
// support staff may read every application (each view is logged without
// personal data) but act on none here: their actions go through the
// support console.
//
// # Validation
//
// kin-openapi loads openapi.yaml and routes requests; parameters and
// bodies are validated with JSON Schema 2020-12 validators
// (santhosh-tekuri/jsonschema) compiled once from the document, since
// kin-openapi compiles a validator per value for OpenAPI 3.1 (two thirds of
// a submission's CPU). Forms are validated against the service's JSON
// Schema the same way, with pointers under /form.
//
// # Accepting an application
//
// POST /applications validates the request against openapi.yaml, the form
// against the service's JSON Schema and the eligibility rules, then writes
// the application (a conditional write: the id, and the
// one-open-application lock) and sends the execution input to the queue.
// Only then does it answer 202. The id is derived from the caller, the
// applicant and the Idempotency-Key header, so a repeated request finds the first
// application and answers with it (and re-queues it while it is still
// submitted: the dispatcher's execution name makes a second message
// harmless). A queue failure after the write answers 503; the client's
// retry with the same key completes the hand-over.
//
// # Errors
//
// Every error is application/problem+json (RFC 9457) with the stable error
// name in "code" and JSON pointers to bad fields in "errors"; the text is
// Ukrainian unless Accept-Language prefers English. 5xx carry no detail.
package api
