// Package connector calls state registries as configuration describes them.
//
// A connector template (connectors/*.yaml, or embedded in a service) names
// the protocol dialect, the endpoint, the X-Road identifiers, the request
// and response mappings (JSONata), the timeout and the registry's rate and
// concurrency limits. Templates are loaded and validated once at start; a
// bad template fails with file:line:col and what is wrong, so a typo never
// reaches a citizen's application.
//
// Dialects:
//   - rest: plain JSON over HTTP to the provider.
//   - xroad-rest: X-Road message protocol for REST, /r1/{instance}/{class}/
//     {member}/{subsystem}/{service}[/path] with X-Road-Client, X-Road-Id,
//     X-Road-UserId and X-Road-Issue headers; errors raised by a security
//     server carry X-Road-Error.
//   - uxp-rest: the UXP flavour, identifiers in Uxp-Client, Uxp-Service and
//     Uxp-QueryID headers.
//   - xroad-soap: X-Road message protocol 4.0, a SOAP 1.1 envelope whose
//     header holds client, service, id, userId, issue and protocolVersion.
//
// Every failure is a named posluha error, so Step Functions Retry and BPMN
// error boundaries can match it: Registry.Unavailable (5xx, Server.* faults,
// timeouts, refused connections, maintenance, throttling: retryable),
// Registry.BadRequest (4xx, Client.* faults, a request mapping that fails),
// Registry.NotFound (404, or a response mapping with no result) and
// Registry.BadResponse (a body that is not what the dialect promises, or a
// response mapping that fails). Messages name the connector and the status
// or fault code, never the payload: payloads hold personal data.
//
// Retries are not done here: they belong to the state machine (ASL Retry).
// Writes carry an Idempotency-Key header (applicationId/step), so a retry
// after a lost response never repeats the effect.
package connector
