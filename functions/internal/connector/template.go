package connector

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/posluha/posluha/query/jsonata"
)

// Protocol is a registry dialect.
type Protocol string

// Protocols a template may name.
const (
	REST      Protocol = "rest"
	XRoadREST Protocol = "xroad-rest"
	UXPREST   Protocol = "uxp-rest"
	XRoadSOAP Protocol = "xroad-soap"
)

// Template is one registry service as a connector file describes it. Fields
// after Source are derived during validation.
type Template struct {
	// ID names the connector in task inputs ("drrp.realty-rights").
	ID string `yaml:"id"`
	// Title says what the registry service is, for people.
	Title string `yaml:"title"`
	// Registry groups connectors that share one registry's limits; it
	// defaults to the part of ID before the first dot.
	Registry string `yaml:"registry"`
	// Protocol is the dialect: rest, xroad-rest, uxp-rest or xroad-soap.
	Protocol Protocol `yaml:"protocol"`
	// Endpoint is the base URL: the security server for the X-Road and UXP
	// dialects, the provider for rest.
	Endpoint string `yaml:"endpoint"`
	// EndpointEnv names an environment variable that overrides Endpoint
	// when set, so one file serves the simulator and production.
	EndpointEnv string `yaml:"endpointEnv"`
	// Client is the consumer: INSTANCE/CLASS/MEMBER[/SUBSYSTEM].
	Client string `yaml:"client"`
	// Service is the provider's service: INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE[/VERSION].
	Service string `yaml:"service"`
	// UserID is sent as the X-Road userId when the call has none.
	UserID string `yaml:"userId"`
	// Method is the HTTP method; GET for reads and POST for writes when empty.
	Method string `yaml:"method"`
	// Path is appended to the endpoint (after the /r1/… service path for
	// xroad-rest); {name} is replaced by that member of the mapped request.
	Path string `yaml:"path"`
	// Write marks a call with an effect: it must carry an idempotency key.
	Write bool `yaml:"write"`
	// Request is a JSONata expression over the task arguments ($ is the
	// arguments; $applicationId, $service, $step are bound) giving the
	// request: query parameters for GET, the body otherwise. Empty sends the
	// arguments as they are.
	Request string `yaml:"request"`
	// Response is a JSONata expression over the decoded body ($status is
	// the HTTP status) giving the task's result. No result means
	// Registry.NotFound. Empty returns the body as it is.
	Response string `yaml:"response"`
	// Timeout bounds one call (Go duration, default 10s).
	Timeout string `yaml:"timeout"`
	// RateLimit is the registry's token bucket.
	RateLimit *RateLimit `yaml:"rateLimit"`
	// Concurrency caps calls in flight to the registry; 0 is no cap.
	Concurrency int `yaml:"concurrency"`
	// TLS names the mTLS material by reference (env:NAME or file:PATH).
	TLS *TLSRef `yaml:"tls"`
	// SOAP describes the body element of xroad-soap calls.
	SOAP *SOAPSpec `yaml:"soap"`

	// Source is where the template came from ("connectors/drrp.yaml").
	Source string `yaml:"-"`

	timeout  time.Duration
	request  *jsonata.Expr
	response *jsonata.Expr
	client   []string
	service  []string
	arrays   map[string]bool
	node     ast.Node
}

// RateLimit is a token bucket: PerSecond tokens a second, at most Burst saved.
type RateLimit struct {
	PerSecond float64 `yaml:"perSecond"`
	Burst     int     `yaml:"burst"`
}

// TLSRef points at mTLS material; the material itself never lives in a
// template (it would end up in the repository).
type TLSRef struct {
	Cert string `yaml:"cert"` // client certificate, PEM
	Key  string `yaml:"key"`  // client private key, PEM
	CA   string `yaml:"ca"`   // security server CA, PEM
}

// SOAPSpec is the body element of an X-Road SOAP call.
type SOAPSpec struct {
	// Namespace of the operation element.
	Namespace string `yaml:"namespace"`
	// Operation is the request element's local name; the response is its
	// first child of the SOAP Body, whatever its name.
	Operation string `yaml:"operation"`
	// Arrays lists element names that always decode as arrays, since XML
	// cannot tell a one-element list from a single value.
	Arrays []string `yaml:"arrays"`
}

// Limits returns the registry limits the template declares.
func (t *Template) Limits() Limits {
	l := Limits{Concurrency: t.Concurrency}
	if t.RateLimit != nil {
		l.PerSecond, l.Burst = t.RateLimit.PerSecond, t.RateLimit.Burst
	}
	return l
}

// TimeoutDuration returns the call timeout.
func (t *Template) TimeoutDuration() time.Duration { return t.timeout }

// TemplateError is one problem in a template, at a position in its file.
type TemplateError struct {
	File      string
	Line, Col int
	Field     string // YAML path such as "rateLimit.perSecond", or "" for the file
	Msg       string
}

// Error returns "file:line:col: field: what is wrong".
func (e *TemplateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Col)
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadFS parses and validates every *.yaml and *.yml file of fsys matching
// dir (use "." for the root). IDs must be unique across files, and
// connectors of one registry must agree on its limits. All problems are
// returned together, joined, each a *TemplateError.
func LoadFS(fsys fs.FS, dir string) ([]*Template, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read connector templates: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if ext := path.Ext(e.Name()); ext == ".yaml" || ext == ".yml" {
			names = append(names, path.Join(dir, e.Name()))
		}
	}
	sort.Strings(names)
	var all []*Template
	var errs []error
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("read connector template %s: %w", name, err))
			continue
		}
		ts, err := Parse(name, data)
		if err != nil {
			errs = append(errs, err)
		}
		all = append(all, ts...)
	}
	if err := checkSet(all); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return all, nil
}

// Parse parses and validates the templates of one file (several YAML
// documents may share a file). name is used in error positions.
func Parse(name string, data []byte) ([]*Template, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	var out []*Template
	var errs []error
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		t, err := parseDoc(name, doc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, t)
	}
	if len(errs) == 0 && len(out) == 0 {
		errs = append(errs, &TemplateError{File: name, Line: 1, Col: 1, Msg: "no connector template in file"})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// ParseEmbedded parses and validates the templates a service embeds: the
// sequence at path (a goccy/go-yaml path such as "$.connectorTemplates") in
// the service file data. Positions in errors are positions in that file. A
// file without the path has no embedded templates.
func ParseEmbedded(name string, data []byte, path string) ([]*Template, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	p, err := yaml.PathString(path)
	if err != nil {
		return nil, fmt.Errorf("embedded connectors path %q: %w", path, err)
	}
	node, err := p.FilterFile(f)
	if err != nil || node == nil {
		return nil, nil
	}
	seq, ok := node.(*ast.SequenceNode)
	if !ok {
		tk := node.GetToken()
		return nil, &TemplateError{File: name, Line: tk.Position.Line, Col: tk.Position.Column, Msg: "embedded connectors are a list of templates"}
	}
	var out []*Template
	var errs []error
	for _, n := range seq.Values {
		t, err := parseNode(name, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Check validates a set of templates from several sources together: unique
// ids, one set of limits per registry.
func Check(ts []*Template) error { return checkSet(ts) }

func parseDoc(name string, doc *ast.DocumentNode) (*Template, error) {
	return parseNode(name, doc.Body)
}

func parseNode(name string, node ast.Node) (*Template, error) {
	if _, ok := node.(*ast.MappingNode); !ok {
		if _, ok := node.(*ast.MappingValueNode); !ok {
			tk := node.GetToken()
			return nil, &TemplateError{File: name, Line: tk.Position.Line, Col: tk.Position.Column, Msg: "a connector template is a mapping (id: …, protocol: …)"}
		}
	}
	var t Template
	if err := yaml.NodeToValue(node, &t, yaml.DisallowUnknownField()); err != nil {
		err = yamlError(name, err)
		if te, ok := err.(*TemplateError); ok && strings.Contains(te.Msg, `unknown field "retr`) {
			te.Msg += ": retries belong to the state machine (BPMN retries, ASL Retry), not to the template"
		}
		return nil, err
	}
	t.Source = name
	t.node = node
	v := validator{file: name, root: node}
	v.validate(&t)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return &t, nil
}

// yamlError turns a goccy/go-yaml error into a TemplateError with its position.
func yamlError(name string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil {
			return &TemplateError{File: name, Line: tk.Position.Line, Col: tk.Position.Column, Msg: cleanYAMLMessage(ye.GetMessage())}
		}
		return &TemplateError{File: name, Line: 1, Col: 1, Msg: cleanYAMLMessage(ye.GetMessage())}
	}
	return &TemplateError{File: name, Line: 1, Col: 1, Msg: err.Error()}
}

func cleanYAMLMessage(s string) string {
	// goccy prefixes decoder messages with a position we already give.
	if i := strings.Index(s, "] "); strings.HasPrefix(s, "[") && i > 0 {
		s = s[i+2:]
	}
	return s
}

type validator struct {
	file string
	root ast.Node
	errs []error
}

// at returns the position of the YAML node at field (a dotted path), or
// of the closest existing parent, so that a missing field points at the
// mapping that lacks it.
func (v *validator) at(field string) (int, int) {
	parts := strings.Split(field, ".")
	for n := len(parts); n >= 0; n-- {
		p := "$"
		for _, s := range parts[:n] {
			p += "." + s
		}
		if p == "$" {
			tk := v.root.GetToken()
			if mv, ok := v.root.(*ast.MappingNode); ok && len(mv.Values) > 0 {
				tk = mv.Values[0].Key.GetToken()
			}
			return tk.Position.Line, tk.Position.Column
		}
		yp, err := yaml.PathString(p)
		if err != nil {
			continue
		}
		node, err := yp.FilterNode(v.root)
		if err != nil || node == nil {
			continue
		}
		tk := node.GetToken()
		return tk.Position.Line, tk.Position.Column
	}
	return 1, 1
}

func (v *validator) fail(field, format string, args ...any) {
	line, col := v.at(field)
	v.errs = append(v.errs, &TemplateError{File: v.file, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

var (
	idPattern          = regexp.MustCompile(`^[a-z][a-z0-9]*([.-][a-z0-9]+)*$`)
	placeholderPattern = regexp.MustCompile(`\{([^{}]*)\}`)
	namePattern        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	xmlNamePattern     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	envNamePattern     = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
)

func (v *validator) validate(t *Template) {
	switch {
	case t.ID == "":
		v.fail("id", "is required")
	case !idPattern.MatchString(t.ID):
		v.fail("id", "%q: want lower-case words joined by '.' or '-', like drrp.realty-rights", t.ID)
	}
	if t.Registry == "" {
		t.Registry, _, _ = strings.Cut(t.ID, ".")
	} else if !idPattern.MatchString(t.Registry) {
		v.fail("registry", "%q: want a lower-case name like drrp", t.Registry)
	}

	switch t.Protocol {
	case REST, XRoadREST, UXPREST, XRoadSOAP:
	case "":
		v.fail("protocol", "is required: rest, xroad-rest, uxp-rest or xroad-soap")
	default:
		v.fail("protocol", "unknown protocol %q: want rest, xroad-rest, uxp-rest or xroad-soap", t.Protocol)
	}

	if t.EndpointEnv != "" && !envNamePattern.MatchString(t.EndpointEnv) {
		v.fail("endpointEnv", "%q is not an environment variable name", t.EndpointEnv)
	}
	switch {
	case t.Endpoint == "" && t.EndpointEnv == "":
		v.fail("endpoint", "is required (or endpointEnv)")
	case t.Endpoint != "":
		if err := checkEndpoint(t.Endpoint); err != nil {
			v.fail("endpoint", "%v", err)
		}
	}

	if t.Protocol != REST && t.Protocol != "" {
		if t.Client == "" {
			v.fail("client", "is required for %s: INSTANCE/CLASS/MEMBER[/SUBSYSTEM]", t.Protocol)
		} else if p, err := splitID(t.Client, 3, 4); err != nil {
			v.fail("client", "%v: want INSTANCE/CLASS/MEMBER[/SUBSYSTEM]", err)
		} else {
			t.client = p
		}
		if t.Service == "" {
			v.fail("service", "is required for %s: INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE[/VERSION]", t.Protocol)
		} else if p, err := splitID(t.Service, 5, 6); err != nil {
			v.fail("service", "%v: want INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE[/VERSION]", err)
		} else {
			t.service = p
		}
	}

	t.Method = strings.ToUpper(t.Method)
	if t.Method == "" {
		t.Method = "GET"
		if t.Write || t.Protocol == XRoadSOAP {
			t.Method = "POST"
		}
	}
	switch t.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
	default:
		v.fail("method", "unsupported method %q: want GET, POST, PUT, PATCH or DELETE", t.Method)
	}
	if t.Protocol == XRoadSOAP && t.Method != "POST" {
		v.fail("method", "xroad-soap calls are POST, got %s", t.Method)
	}
	if t.Write && t.Method == "GET" {
		v.fail("method", "a write cannot be GET")
	}

	if t.Path != "" {
		if !strings.HasPrefix(t.Path, "/") {
			v.fail("path", "must start with '/', got %q", t.Path)
		}
		if strings.Count(t.Path, "{") != strings.Count(t.Path, "}") {
			v.fail("path", "unbalanced braces in %q", t.Path)
		}
		for _, m := range placeholderPattern.FindAllStringSubmatch(t.Path, -1) {
			if !namePattern.MatchString(m[1]) {
				v.fail("path", "placeholder {%s} is not a name", m[1])
			}
		}
		if strings.ContainsAny(t.Path, "?#") {
			v.fail("path", "must not hold a query or fragment; GET requests send the mapped request as query parameters")
		}
	}

	if t.Request != "" {
		e, err := jsonata.Compile(t.Request)
		if err != nil {
			v.fail("request", "JSONata: %v", err)
		}
		t.request = e
	}
	if t.Response != "" {
		e, err := jsonata.Compile(t.Response)
		if err != nil {
			v.fail("response", "JSONata: %v", err)
		}
		t.response = e
	}

	t.timeout = 10 * time.Second
	if t.Timeout != "" {
		d, err := time.ParseDuration(t.Timeout)
		switch {
		case err != nil:
			v.fail("timeout", "%q is not a duration like 5s or 1500ms", t.Timeout)
		case d <= 0:
			v.fail("timeout", "must be positive, got %s", t.Timeout)
		case d > 15*time.Minute:
			v.fail("timeout", "%s is longer than a Lambda may run (15m)", t.Timeout)
		default:
			t.timeout = d
		}
	}
	if r := t.RateLimit; r != nil {
		if r.PerSecond <= 0 {
			v.fail("rateLimit.perSecond", "must be positive, got %v", r.PerSecond)
		}
		if r.Burst == 0 {
			r.Burst = 1
		}
		if r.Burst < 0 {
			v.fail("rateLimit.burst", "must be at least 1, got %d", r.Burst)
		}
	}
	if t.Concurrency < 0 {
		v.fail("concurrency", "must not be negative, got %d", t.Concurrency)
	}

	if r := t.TLS; r != nil {
		for _, f := range []struct{ field, ref string }{{"tls.cert", r.Cert}, {"tls.key", r.Key}, {"tls.ca", r.CA}} {
			if f.ref == "" {
				continue
			}
			if err := checkRef(f.ref); err != nil {
				v.fail(f.field, "%v", err)
			}
		}
		if (r.Cert == "") != (r.Key == "") {
			v.fail("tls", "cert and key go together")
		}
	}

	switch {
	case t.Protocol == XRoadSOAP && t.SOAP == nil:
		v.fail("soap", "is required for xroad-soap: namespace and operation")
	case t.Protocol != XRoadSOAP && t.SOAP != nil && t.Protocol != "":
		v.fail("soap", "only xroad-soap templates have a soap section")
	case t.SOAP != nil:
		if !xmlNamePattern.MatchString(t.SOAP.Operation) {
			v.fail("soap.operation", "%q is not an XML element name", t.SOAP.Operation)
		}
		if t.SOAP.Namespace == "" {
			v.fail("soap.namespace", "is required")
		}
		t.arrays = map[string]bool{}
		for _, a := range t.SOAP.Arrays {
			t.arrays[a] = true
		}
	}
}

func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: want an http or https URL", s)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if u.User != nil {
		return fmt.Errorf("credentials do not belong in an endpoint URL")
	}
	return nil
}

// checkRef accepts env:NAME and file:PATH; anything else is likely key
// material pasted into the template.
func checkRef(ref string) error {
	kind, rest, ok := strings.Cut(ref, ":")
	switch {
	case strings.Contains(ref, "-----BEGIN"):
		return fmt.Errorf("holds PEM material: keys and certificates are referenced (env:NAME or file:PATH), never kept in a template")
	case !ok || rest == "":
		return fmt.Errorf("%q: want env:NAME or file:PATH", ref)
	case kind == "env":
		if !envNamePattern.MatchString(rest) {
			return fmt.Errorf("%q is not an environment variable name", rest)
		}
	case kind == "file":
	default:
		return fmt.Errorf("%q: want env:NAME or file:PATH", ref)
	}
	return nil
}

func splitID(s string, min, max int) ([]string, error) {
	parts := strings.Split(s, "/")
	if len(parts) < min || len(parts) > max {
		return nil, fmt.Errorf("%q has %d parts", s, len(parts))
	}
	for i, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("%q: part %d is empty", s, i+1)
		}
		if strings.ContainsAny(p, ":;%\\") || strings.TrimSpace(p) != p {
			// X-Road forbids these in identifiers (PR-MESS 2.7).
			return nil, fmt.Errorf("%q: part %q has a forbidden character", s, p)
		}
	}
	return parts, nil
}

// checkSet checks what spans files: unique IDs and one set of limits per
// registry.
func checkSet(ts []*Template) error {
	var errs []error
	ids := map[string]*Template{}
	regs := map[string]*Template{}
	for _, t := range ts {
		if prev, ok := ids[t.ID]; ok {
			errs = append(errs, positioned(t, "id", fmt.Sprintf("duplicate connector id %q, first defined in %s", t.ID, prev.Source)))
			continue
		}
		ids[t.ID] = t
		if t.Limits() == (Limits{}) {
			continue // inherits the registry's limits
		}
		if prev, ok := regs[t.Registry]; ok {
			if prev.Limits() != t.Limits() {
				field := "rateLimit"
				if t.RateLimit == nil {
					field = "concurrency"
				}
				errs = append(errs, positioned(t, field, fmt.Sprintf("registry %q limits differ from %s (%s): connectors of one registry share its limits", t.Registry, prev.ID, prev.Source)))
			}
			continue
		}
		regs[t.Registry] = t
	}
	return errors.Join(errs...)
}

// positioned builds a TemplateError for a field of an already parsed template.
func positioned(t *Template, field, msg string) error {
	line, col := 1, 1
	if t.node != nil {
		line, col = (&validator{file: t.Source, root: t.node}).at(field)
	}
	return &TemplateError{File: t.Source, Line: line, Col: col, Field: field, Msg: msg}
}
