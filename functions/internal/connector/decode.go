package connector

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/query/value"
)

// response is what came back from a registry, before classification.
type response struct {
	status int
	header http.Header
	body   []byte
	msgID  string // the X-Road message id we sent, "" when not checked
}

// decodeREST classifies a reply of the rest, xroad-rest or uxp-rest dialect
// and decodes its JSON body. It never panics, whatever the bytes.
func decodeREST(id string, r response) (any, error) {
	// A security server marks its own errors; they win over the status,
	// since a provider's 500 and a security server's 500 mean different things.
	if code := securityServerError(r); code != "" {
		return nil, faultError(id, code)
	}
	switch {
	case r.status == http.StatusNotFound:
		return nil, posluha.Errorf(posluha.ErrRegistryNotFound, "%s: HTTP 404", id)
	case r.status == http.StatusTooManyRequests || r.status == http.StatusRequestTimeout:
		return nil, posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: HTTP %d", id, r.status)
	case r.status >= 500:
		return nil, posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: HTTP %d", id, r.status)
	case r.status >= 400:
		return nil, posluha.Errorf(posluha.ErrRegistryBadRequest, "%s: HTTP %d", id, r.status)
	case r.status < 200 || r.status >= 300:
		// Redirects are not followed (X-Road passes them through and they
		// are an SSRF risk); anything else here is not a success.
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: unexpected HTTP %d", id, r.status)
	}
	// X-Road echoes the request's message id; another id is someone
	// else's answer.
	if got := r.header.Get("X-Road-Id"); r.msgID != "" && got != "" && got != r.msgID {
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: answer to another message", id)
	}
	body := bytes.TrimSpace(r.body)
	if len(body) == 0 {
		return nil, nil
	}
	if ct := r.header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: content type %q is not JSON", id, mediaType(ct))
	}
	v, err := value.Parse(body)
	if err != nil {
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: body is not JSON", id)
	}
	return v, nil
}

// securityServerError returns the error type an X-Road or UXP security
// server put on the reply: the X-Road-Error header, or the type of an
// X-Road-shaped error body ({"type":"Server.…","message":…}) on a non-2xx
// status, which is how errors travel when a header is lost.
func securityServerError(r response) string {
	if code := r.header.Get("X-Road-Error"); code != "" {
		return code
	}
	if code := r.header.Get("Uxp-Error"); code != "" {
		return code
	}
	if r.status < 400 || !isJSON(r.header.Get("Content-Type")) {
		return ""
	}
	v, err := value.Parse(r.body)
	if err != nil {
		return ""
	}
	o, ok := v.(*value.Object)
	if !ok {
		return ""
	}
	typ, _ := o.Get("type")
	s, _ := typ.(string)
	if strings.HasPrefix(s, "Server.") || strings.HasPrefix(s, "Client.") {
		return s
	}
	return ""
}

// faultError names an X-Road fault code: Server.* is the provider's or a
// security server's trouble (retryable), Client.* is ours.
func faultError(id, code string) error {
	if len(code) > 120 {
		code = code[:120]
	}
	code = strings.ToValidUTF8(code, "?")
	switch {
	case strings.HasPrefix(code, "Server"):
		return posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: %s", id, code)
	case strings.HasPrefix(code, "Client"):
		return posluha.Errorf(posluha.ErrRegistryBadRequest, "%s: %s", id, code)
	}
	return posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: unknown fault code %q", id, code)
}

// decodeSOAP classifies an X-Road SOAP reply and decodes the Body's first
// element. A fault is classified by its code whatever the HTTP status; a
// 5xx without a parsable fault is Unavailable (a proxy's error page).
func decodeSOAP(id string, arrays map[string]bool, r response) (any, error) {
	if code := r.header.Get("X-Road-Error"); code != "" {
		return nil, faultError(id, code)
	}
	env, err := decodeEnvelope(r.body)
	switch {
	case env.fault != nil:
		return nil, faultError(id, env.fault.code)
	case r.status >= 500:
		return nil, posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: HTTP %d", id, r.status)
	case r.status == http.StatusNotFound:
		return nil, posluha.Errorf(posluha.ErrRegistryNotFound, "%s: HTTP 404", id)
	case r.status >= 400:
		return nil, posluha.Errorf(posluha.ErrRegistryBadRequest, "%s: HTTP %d", id, r.status)
	case r.status < 200 || r.status >= 300:
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: unexpected HTTP %d", id, r.status)
	case err != nil:
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: %s", id, safeXMLError(err))
	case r.msgID != "" && env.id != "" && env.id != r.msgID:
		return nil, posluha.Errorf(posluha.ErrRegistryBadResponse, "%s: answer to another message", id)
	}
	v := xmlToValue(env.body, arrays)
	if _, ok := v.(*value.Object); !ok && v != nil {
		// An empty response element is an empty result, not the text "".
		v = value.NewObject(0)
	}
	return v, nil
}

// safeXMLError keeps an XML error's kind but drops what it quotes from the
// body, which may be personal data.
func safeXMLError(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, `"'`); i > 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

// transportError names a failure to get any reply: all are retryable, the
// registry (or the way to it) being down is not the application's fault.
func transportError(id string, ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: timed out", id)
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: call cancelled", id)
	case errors.Is(err, syscall.ECONNREFUSED):
		return posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: connection refused", id)
	case errors.Is(err, syscall.ECONNRESET):
		return posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: connection reset", id)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: cannot resolve the registry host", id)
	}
	return posluha.Errorf(posluha.ErrRegistryUnavailable, "%s: transport failure", id)
}

func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

func isJSON(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
