package registries

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

const maxRequest = 1 << 20

// Handler serves every dialect and the control API (/_sim/…).
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/r1/", s.serveXRoadREST)
	mux.HandleFunc("/uxp", s.serveUXP)
	mux.HandleFunc("/uxp/", s.serveUXP)
	mux.HandleFunc("/rest/", s.servePlainREST)
	mux.HandleFunc("POST /{$}", s.serveSOAP)
	mux.HandleFunc("POST /cgi-bin/consumer_proxy", s.serveSOAP)
	mux.HandleFunc("GET /_sim/registries", s.ctlList)
	mux.HandleFunc("PUT /_sim/registries/{code}/profile", s.ctlProfile)
	mux.HandleFunc("POST /_sim/registries/{code}/down", s.ctlDown(true))
	mux.HandleFunc("POST /_sim/registries/{code}/up", s.ctlDown(false))
	mux.HandleFunc("GET /_sim/payments", s.ctlPayments)
	mux.HandleFunc("GET /_sim/outbox", s.ctlOutbox)
	mux.HandleFunc("GET /_sim/citizens", s.ctlCitizens)
	return mux
}

// --- X-Road REST -----------------------------------------------------------

func (s *Sim) serveXRoadREST(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/r1/"), "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	h := w.Header()
	h.Set("X-Road-Id", r.Header.Get("X-Road-Id"))
	h.Set("X-Road-Request-Id", r.Header.Get("X-Road-Id"))
	if len(parts) < 5 {
		xroadError(w, http.StatusBadRequest, "Client.InvalidRequest", "service id must be INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE")
		return
	}
	client := r.Header.Get("X-Road-Client")
	if len(strings.Split(client, "/")) < 3 {
		xroadError(w, http.StatusBadRequest, "Client.InvalidClientIdentifier", "X-Road-Client header is missing or malformed")
		return
	}
	h.Set("X-Road-Client", client)
	h.Set("X-Road-Service", strings.Join(parts[:5], "/"))
	c, ok := s.lookup(parts[0], parts[1], parts[2], parts[3], parts[4])
	if !ok {
		xroadError(w, http.StatusInternalServerError, "Server.ServerProxy.UnknownService", "unknown service")
		return
	}
	args, err := restArgs(r, c.svc, parts[5:])
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	c.args, c.key = args, r.Header.Get("Idempotency-Key")
	out := s.serve(r.Context(), c)
	switch out.kind {
	case kindServerError:
		xroadError(w, http.StatusInternalServerError, "Server.ServerProxy.ServiceFailed", "the provider's information system failed")
	case kindMaintenance:
		xroadError(w, http.StatusInternalServerError, "Server.ServerProxy.ServiceUnavailable", "the registry is in a maintenance window")
	case kindBusy:
		// The provider's own throttling passes through as-is (PR-REST 4.6, category 1).
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": "too many requests"})
	default:
		writeOutcomeJSON(w, out)
	}
}

// xroadError writes a security server's error: the X-Road-Error header and
// the JSON body of PR-REST 4.6.
func xroadError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("X-Road-Error", typ)
	writeJSON(w, status, map[string]any{"type": typ, "message": msg, "detail": w.Header().Get("X-Road-Id")})
}

// writeOutcomeJSON renders what the provider said, as the provider says it.
func writeOutcomeJSON(w http.ResponseWriter, out outcome) {
	switch out.kind {
	case kindOK:
		writeJSON(w, http.StatusOK, out.result)
	case kindRejected:
		writeJSON(w, out.biz.status, map[string]any{"error": out.biz.msg, "code": out.biz.code})
	case kindMalformed:
		b, _ := json.Marshal(out.result)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write(b[:len(b)/2])
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Sim) lookup(instance, class, member, sub, svc string) (call, bool) {
	reg, ok := s.bySub[member+"/"+sub]
	if !ok || instance != reg.def.instance || class != reg.def.class {
		return call{}, false
	}
	sv, ok := reg.def.services[svc]
	if !ok {
		return call{}, false
	}
	return call{reg: reg, svc: sv}, true
}

// restArgs collects a REST call's arguments: query parameters, a trailing
// path segment (the service's path argument) and a JSON object body.
func restArgs(r *http.Request, svc *service, rest []string) (map[string]any, error) {
	args := map[string]any{}
	for k, vs := range r.URL.Query() {
		if len(vs) == 1 {
			args[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		args[k] = list
	}
	if len(rest) > 0 && rest[0] != "" {
		if svc.pathArg == "" || len(rest) > 1 {
			return nil, errors.New("unexpected path")
		}
		args[svc.pathArg] = rest[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
	if err != nil {
		return nil, errors.New("cannot read the body")
	}
	if len(bytes.TrimSpace(body)) > 0 {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, errors.New("body is not a JSON object")
		}
		for k, v := range m {
			args[k] = v
		}
	}
	return args, nil
}

// --- UXP REST --------------------------------------------------------------

func (s *Sim) serveUXP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Uxp-QueryID", r.Header.Get("Uxp-QueryID"))
	uxpError := func(status int, typ, msg string) {
		writeJSON(w, status, map[string]any{"type": typ, "message": msg})
	}
	if len(strings.Split(r.Header.Get("Uxp-Client"), "/")) < 3 {
		uxpError(http.StatusBadRequest, "Client.InvalidClientIdentifier", "Uxp-Client header is missing or malformed")
		return
	}
	sp := strings.Split(r.Header.Get("Uxp-Service"), "/")
	for i, p := range sp {
		if u, err := url.PathUnescape(p); err == nil {
			sp[i] = u
		}
	}
	if len(sp) < 5 {
		uxpError(http.StatusBadRequest, "Client.InvalidServiceIdentifier", "Uxp-Service header is missing or malformed")
		return
	}
	c, ok := s.lookup(sp[0], sp[1], sp[2], sp[3], sp[4])
	if !ok {
		uxpError(http.StatusInternalServerError, "Server.ServerProxy.UnknownService", "unknown service")
		return
	}
	var rest []string
	if p := strings.Trim(strings.TrimPrefix(r.URL.Path, "/uxp"), "/"); p != "" {
		rest = strings.Split(p, "/")
	}
	args, err := restArgs(r, c.svc, rest)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	c.args, c.key = args, r.Header.Get("Idempotency-Key")
	out := s.serve(r.Context(), c)
	switch out.kind {
	case kindServerError:
		uxpError(http.StatusInternalServerError, "Server.ServerProxy.ServiceFailed", "the provider's information system failed")
	case kindMaintenance:
		uxpError(http.StatusServiceUnavailable, "Server.ServerProxy.ServiceUnavailable", "the registry is in a maintenance window")
	case kindBusy:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": "too many requests"})
	default:
		writeOutcomeJSON(w, out)
	}
}

// --- plain REST ------------------------------------------------------------

func (s *Sim) servePlainREST(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/rest/"), "/")
	if len(parts) < 2 {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such service"})
		return
	}
	reg, ok := s.regs[parts[0]]
	if !ok || reg.def.services[parts[1]] == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such service"})
		return
	}
	c := call{reg: reg, svc: reg.def.services[parts[1]]}
	args, err := restArgs(r, c.svc, parts[2:])
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	c.args, c.key = args, r.Header.Get("Idempotency-Key")
	out := s.serve(r.Context(), c)
	switch out.kind {
	case kindServerError:
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": "upstream failure"})
	case kindMaintenance:
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "maintenance"})
	case kindBusy:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": "too many requests"})
	default:
		writeOutcomeJSON(w, out)
	}
}

// --- X-Road SOAP 4.0 -------------------------------------------------------

const (
	nsEnv = "http://schemas.xmlsoap.org/soap/envelope/"
	nsXRd = "http://x-road.eu/xsd/xroad.xsd"
	nsID  = "http://x-road.eu/xsd/identifiers"
	nsXSI = "http://www.w3.org/2001/XMLSchema-instance"
)

type xnode struct {
	space, local string
	kids         []*xnode
	text         strings.Builder
	nil          bool
}

func (n *xnode) kid(local string) *xnode {
	for _, k := range n.kids {
		if k.local == local {
			return k
		}
	}
	return nil
}

func (n *xnode) textOf(local string) string {
	if k := n.kid(local); k != nil {
		return strings.TrimSpace(k.text.String())
	}
	return ""
}

func parseTree(body []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	var root *xnode
	var stack []*xnode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > 32 {
				return nil, errors.New("too deep")
			}
			n := &xnode{space: t.Name.Space, local: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == nsXSI && a.Name.Local == "nil" && a.Value == "true" {
					n.nil = true
				}
			}
			if len(stack) == 0 {
				root = n
			} else {
				stack[len(stack)-1].kids = append(stack[len(stack)-1].kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.Directive:
			return nil, errors.New("DTD not allowed")
		}
	}
	if root == nil {
		return nil, errors.New("empty document")
	}
	return root, nil
}

func xmlArgs(n *xnode) any {
	if n.nil {
		return nil
	}
	if len(n.kids) == 0 {
		return strings.TrimSpace(n.text.String())
	}
	m := map[string]any{}
	for _, k := range n.kids {
		v := xmlArgs(k)
		if prev, ok := m[k.local]; ok {
			if list, ok := prev.([]any); ok {
				m[k.local] = append(list, v)
			} else {
				m[k.local] = []any{prev, v}
			}
			continue
		}
		m[k.local] = v
	}
	return m
}

func (s *Sim) serveSOAP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
	if err != nil {
		soapFault(w, "Client.InvalidSoap", "cannot read the request", "")
		return
	}
	root, err := parseTree(body)
	if err != nil || root.space != nsEnv || root.local != "Envelope" {
		soapFault(w, "Client.InvalidSoap", "not a SOAP 1.1 envelope", "")
		return
	}
	hdr, bodyEl := root.kid("Header"), root.kid("Body")
	if hdr == nil || bodyEl == nil || len(bodyEl.kids) == 0 {
		soapFault(w, "Client.MissingHeader", "X-Road header or body missing", "")
		return
	}
	client, svc := hdr.kid("client"), hdr.kid("service")
	if client == nil || svc == nil || hdr.textOf("id") == "" || hdr.textOf("protocolVersion") != "4.0" {
		soapFault(w, "Client.MissingHeader", "client, service, id and protocolVersion 4.0 are required", "")
		return
	}
	op := bodyEl.kids[0]
	c, ok := s.lookup(svc.textOf("xRoadInstance"), svc.textOf("memberClass"), svc.textOf("memberCode"), svc.textOf("subsystemCode"), svc.textOf("serviceCode"))
	if !ok {
		soapFault(w, "Server.ServerProxy.UnknownService", "unknown service", "")
		return
	}
	args, _ := xmlArgs(op).(map[string]any)
	if args == nil {
		args = map[string]any{}
	}
	c.args, c.key = args, r.Header.Get("Idempotency-Key")
	out := s.serve(r.Context(), c)
	switch out.kind {
	case kindServerError:
		soapFault(w, "Server.ServerProxy.ServiceFailed", "the provider's information system failed", "")
	case kindMaintenance:
		soapFault(w, "Server.ServerProxy.ServiceUnavailable", "the registry is in a maintenance window", "")
	case kindBusy:
		soapFault(w, "Server.ServiceBusy", "too many requests", "")
	case kindRejected:
		if out.biz.status == http.StatusNotFound {
			// SOAP services say "nothing" with an empty response element.
			writeSOAP(w, body, hdr, op, nil, false)
			return
		}
		soapFault(w, out.biz.code, out.biz.msg, "")
	case kindMalformed:
		writeSOAP(w, body, hdr, op, out.result, true)
	default:
		writeSOAP(w, body, hdr, op, out.result, false)
	}
}

// writeSOAP answers with the request's X-Road header echoed and the
// result under {operation}Response.
func writeSOAP(w http.ResponseWriter, reqBody []byte, hdr, op *xnode, result map[string]any, truncate bool) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="` + nsEnv + `" xmlns:xrd="` + nsXRd + `" xmlns:id="` + nsID + `" xmlns:xsi="` + nsXSI + `"><SOAP-ENV:Header>`)
	for _, k := range hdr.kids {
		writeHeaderElem(&b, k)
	}
	b.WriteString(`</SOAP-ENV:Header><SOAP-ENV:Body><ns:` + op.local + `Response xmlns:ns="`)
	xml.EscapeText(&b, []byte(op.space))
	b.WriteString(`">`)
	for _, k := range sortedKeys(result) {
		writeXMLValue(&b, k, result[k])
	}
	b.WriteString(`</ns:` + op.local + `Response></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	out := b.Bytes()
	if truncate {
		out = out[:len(out)*2/3]
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

func writeHeaderElem(b *bytes.Buffer, n *xnode) {
	prefix := "xrd:"
	if n.space == nsID {
		prefix = "id:"
	}
	b.WriteString("<" + prefix + n.local)
	switch n.local {
	case "client":
		if n.kid("subsystemCode") != nil {
			b.WriteString(` id:objectType="SUBSYSTEM"`)
		} else {
			b.WriteString(` id:objectType="MEMBER"`)
		}
	case "service":
		b.WriteString(` id:objectType="SERVICE"`)
	}
	b.WriteString(">")
	if len(n.kids) == 0 {
		xml.EscapeText(b, []byte(strings.TrimSpace(n.text.String())))
	}
	for _, k := range n.kids {
		writeHeaderElem(b, k)
	}
	b.WriteString("</" + prefix + n.local + ">")
}

func writeXMLValue(b *bytes.Buffer, name string, v any) {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			writeXMLValue(b, name, e)
		}
	case map[string]any:
		b.WriteString("<" + name + ">")
		for _, k := range sortedKeys(t) {
			writeXMLValue(b, k, t[k])
		}
		b.WriteString("</" + name + ">")
	case nil:
		b.WriteString("<" + name + ` xsi:nil="true"/>`)
	default:
		b.WriteString("<" + name + ">")
		xml.EscapeText(b, []byte(scalar(t)))
		b.WriteString("</" + name + ">")
	}
}

func scalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return strconv.FormatInt(int64(t), 10)
		}
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}

func soapFault(w http.ResponseWriter, code, msg, detail string) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="` + nsEnv + `"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:`)
	xml.EscapeText(&b, []byte(code))
	b.WriteString(`</faultcode><faultstring>`)
	xml.EscapeText(&b, []byte(msg))
	b.WriteString(`</faultstring>`)
	if detail != "" {
		b.WriteString(`<detail>`)
		xml.EscapeText(&b, []byte(detail))
		b.WriteString(`</detail>`)
	}
	b.WriteString(`</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write(b.Bytes())
}

// --- control API -----------------------------------------------------------

func (s *Sim) ctlList(w http.ResponseWriter, r *http.Request) {
	var out []any
	for _, code := range s.Registries() {
		reg := s.regs[code]
		var svcs []string
		for c := range reg.def.services {
			svcs = append(svcs, reg.def.serviceID(c))
		}
		sort.Strings(svcs)
		out = append(out, map[string]any{"code": code, "title": reg.def.title, "services": svcs,
			"profile": s.Profile(code), "stats": s.Stats(code)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) ctlProfile(w http.ResponseWriter, r *http.Request) {
	var p Profile
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "profile: " + err.Error()})
		return
	}
	if err := s.SetProfile(r.PathValue("code"), p); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, s.Profile(r.PathValue("code")))
}

func (s *Sim) ctlDown(down bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.SetDown(r.PathValue("code"), down); err != nil {
			writeJSON(w, http.StatusNotFound, map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, s.Profile(r.PathValue("code")))
	}
}

func (s *Sim) ctlPayments(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"effective": s.EffectivePayments(), "replays": s.Stats("treasury").Replays})
}

func (s *Sim) ctlOutbox(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Outbox())
}

func (s *Sim) ctlCitizens(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Citizens())
}
