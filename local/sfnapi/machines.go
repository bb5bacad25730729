package sfnapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/posluha/posluha/local/engine"
)

// Limits from the Step Functions API reference.
const (
	maxNameLen       = 80
	maxDefinitionLen = 1 << 20
	defaultPageSize  = 100
	maxPageSize      = 1000
)

// required reports a missing member the way AWS's validation layer does.
func required(member string) *Error {
	return errf("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func tooLong(member string, max int) *Error {
	return errf("ValidationException", "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", member, max)
}

func notInEnum(member, got string, allowed ...string) *Error {
	return errf("ValidationException", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", got, member, strings.Join(allowed, ", "))
}

// arnParts splits a Step Functions ARN and checks its resource type:
// arn:<partition>:states:<region>:<account>:<kind>:<name>[:<qualifier>].
// It returns the unqualified ARN and the qualifier ("" if none).
func arnParts(arn, member string, kinds ...string) (base, qualifier string, err error) {
	if arn == "" {
		return "", "", required(member)
	}
	if len(arn) > 2048 {
		return "", "", tooLong(member, 2048)
	}
	p := strings.Split(arn, ":")
	if len(p) < 7 || p[0] != "arn" || p[2] != "states" || p[6] == "" || !slices.Contains(kinds, p[5]) {
		return "", "", errf("InvalidArn", "Invalid Arn: '%s'", arn)
	}
	limit := 7
	if p[5] == "execution" || p[5] == "express" {
		limit = 8 // …:execution:<machine>:<name>
	}
	switch {
	case len(p) == limit:
		return arn, "", nil
	case len(p) == limit+1 && p[limit] != "":
		return strings.Join(p[:limit], ":"), p[limit], nil
	}
	return "", "", errf("InvalidArn", "Invalid Arn: '%s'", arn)
}

// machineARN checks a state machine ARN, qualified or not.
func machineARN(arn, member string) (base string, version int, err error) {
	base, q, err := arnParts(arn, member, "stateMachine")
	if err != nil || q == "" {
		return base, 0, err
	}
	n, convErr := strconv.Atoi(q)
	if convErr != nil || n < 1 {
		// An alias: the engine has none.
		return "", 0, errf("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	return base, n, nil
}

// revisionID gives each engine version a stable opaque revision id.
func revisionID(machine string, version int) string {
	h := sha256.Sum256([]byte(machine + "#" + strconv.Itoa(version)))
	s := hex.EncodeToString(h[:16])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

type loggingConfiguration struct {
	Level                string            `json:"level"`
	IncludeExecutionData bool              `json:"includeExecutionData"`
	Destinations         []json.RawMessage `json:"destinations,omitempty"`
}

type tracingConfiguration struct {
	Enabled bool `json:"enabled"`
}

var (
	loggingOff = &loggingConfiguration{Level: "OFF"}
	tracingOff = &tracingConfiguration{}
)

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type createStateMachineInput struct {
	Name                 string                `json:"name"`
	Definition           string                `json:"definition"`
	RoleArn              string                `json:"roleArn"`
	Type                 string                `json:"type"`
	LoggingConfiguration *loggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration *tracingConfiguration `json:"tracingConfiguration"`
	Tags                 []tag                 `json:"tags"`
	Publish              bool                  `json:"publish"`
	VersionDescription   string                `json:"versionDescription"`
}

type createStateMachineOutput struct {
	StateMachineArn        string  `json:"stateMachineArn"`
	CreationDate           float64 `json:"creationDate"`
	StateMachineVersionArn string  `json:"stateMachineVersionArn,omitempty"`
}

func checkDefinition(def string) error {
	if def == "" {
		return required("definition")
	}
	if len(def) > maxDefinitionLen {
		return tooLong("definition", maxDefinitionLen)
	}
	return nil
}

func (s *Server) createStateMachine(ctx context.Context, in *createStateMachineInput) (*createStateMachineOutput, error) {
	switch {
	case in.Name == "":
		return nil, required("name")
	case len(in.Name) > maxNameLen:
		return nil, tooLong("name", maxNameLen)
	case in.RoleArn == "":
		return nil, required("roleArn")
	}
	if err := checkDefinition(in.Definition); err != nil {
		return nil, err
	}
	switch in.Type {
	case "", "STANDARD", "EXPRESS":
	default:
		return nil, notInEnum("type", in.Type, "STANDARD", "EXPRESS")
	}
	m, err := s.svc.CreateMachine(ctx, engine.CreateMachineInput{Name: in.Name, Definition: in.Definition, RoleARN: in.RoleArn, Type: in.Type})
	if err != nil {
		return nil, err
	}
	out := &createStateMachineOutput{StateMachineArn: m.ARN, CreationDate: epoch(m.Created)}
	if in.Publish {
		out.StateMachineVersionArn = m.VersionARN
	}
	return out, nil
}

type updateStateMachineInput struct {
	StateMachineArn      string                `json:"stateMachineArn"`
	Definition           string                `json:"definition"`
	RoleArn              string                `json:"roleArn"`
	LoggingConfiguration *loggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration *tracingConfiguration `json:"tracingConfiguration"`
	Publish              bool                  `json:"publish"`
	VersionDescription   string                `json:"versionDescription"`
}

type updateStateMachineOutput struct {
	UpdateDate             float64 `json:"updateDate"`
	RevisionID             string  `json:"revisionId"`
	StateMachineVersionArn string  `json:"stateMachineVersionArn,omitempty"`
}

func (s *Server) updateStateMachine(ctx context.Context, in *updateStateMachineInput) (*updateStateMachineOutput, error) {
	base, v, err := machineARN(in.StateMachineArn, "stateMachineArn")
	if err != nil {
		return nil, err
	}
	if v != 0 {
		return nil, errf("ValidationException", "Cannot update a state machine version: '%s'", in.StateMachineArn)
	}
	if in.Definition == "" && in.RoleArn == "" && in.LoggingConfiguration == nil && in.TracingConfiguration == nil {
		return nil, errf("MissingRequiredParameter", "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified")
	}
	if len(in.Definition) > maxDefinitionLen {
		return nil, tooLong("definition", maxDefinitionLen)
	}
	m, err := s.svc.UpdateMachine(ctx, base, in.Definition, in.RoleArn)
	if err != nil {
		return nil, err
	}
	out := &updateStateMachineOutput{UpdateDate: epoch(m.Updated), RevisionID: revisionID(m.ARN, m.Version)}
	if in.Publish {
		out.StateMachineVersionArn = m.VersionARN
	}
	return out, nil
}

type describeStateMachineInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	IncludedData    string `json:"includedData"`
}

type describeStateMachineOutput struct {
	StateMachineArn      string                `json:"stateMachineArn"`
	Name                 string                `json:"name"`
	Status               string                `json:"status"`
	Definition           string                `json:"definition"`
	RoleArn              string                `json:"roleArn"`
	Type                 string                `json:"type"`
	CreationDate         float64               `json:"creationDate"`
	LoggingConfiguration *loggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration *tracingConfiguration `json:"tracingConfiguration"`
	RevisionID           string                `json:"revisionId"`
	Description          string                `json:"description,omitempty"`
}

func (s *Server) describeStateMachine(ctx context.Context, in *describeStateMachineInput) (*describeStateMachineOutput, error) {
	base, v, err := machineARN(in.StateMachineArn, "stateMachineArn")
	if err != nil {
		return nil, err
	}
	m, err := s.svc.DescribeMachine(ctx, in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	out := &describeStateMachineOutput{
		StateMachineArn: base, Name: m.Name, Status: "ACTIVE", Definition: m.Definition, RoleArn: m.RoleARN,
		Type: m.Type, CreationDate: epoch(m.Created), LoggingConfiguration: loggingOff, TracingConfiguration: tracingOff,
		RevisionID: revisionID(m.ARN, m.Version),
	}
	if v != 0 {
		// A version describes itself: its ARN and when it was published.
		out.StateMachineArn, out.CreationDate = m.VersionARN, epoch(m.Updated)
	}
	return out, nil
}

type pageInput struct {
	MaxResults int    `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

// pageSize checks maxResults: 0 means the default page.
func pageSize(n int) (int, error) {
	switch {
	case n < 0 || n > maxPageSize:
		return 0, errf("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", n, maxPageSize)
	case n == 0:
		return defaultPageSize, nil
	}
	return n, nil
}

// Page tokens are opaque to clients: a kind tag (so a token from one
// listing is rejected by another) and a cursor.
func encodeToken(kind, cursor string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + cursor))
}

func decodeToken(kind, token string) (string, error) {
	if len(token) > 1024 {
		return "", tooLong("nextToken", 1024)
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		if k, cursor, ok := strings.Cut(string(b), "\x00"); ok && k == kind {
			return cursor, nil
		}
	}
	return "", errf("InvalidToken", "Invalid Token: '%s'", token)
}

type listStateMachinesOutput struct {
	StateMachines []stateMachineListItem `json:"stateMachines"`
	NextToken     string                 `json:"nextToken,omitempty"`
}

type stateMachineListItem struct {
	StateMachineArn string  `json:"stateMachineArn"`
	Name            string  `json:"name"`
	Type            string  `json:"type"`
	CreationDate    float64 `json:"creationDate"`
}

func (s *Server) listStateMachines(ctx context.Context, in *pageInput) (*listStateMachinesOutput, error) {
	size, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	after := ""
	if in.NextToken != "" {
		if after, err = decodeToken("machines", in.NextToken); err != nil {
			return nil, err
		}
	}
	ms, err := s.svc.ListMachines(ctx)
	if err != nil {
		return nil, fmt.Errorf("list state machines: %w", err)
	}
	out := &listStateMachinesOutput{StateMachines: []stateMachineListItem{}}
	// The store lists by ARN, so a cursor ARN survives deletions.
	for _, m := range ms {
		if after != "" && m.ARN <= after {
			continue
		}
		if len(out.StateMachines) == size {
			out.NextToken = encodeToken("machines", out.StateMachines[size-1].StateMachineArn)
			break
		}
		out.StateMachines = append(out.StateMachines, stateMachineListItem{m.ARN, m.Name, m.Type, epoch(m.Created)})
	}
	return out, nil
}

type deleteStateMachineInput struct {
	StateMachineArn string `json:"stateMachineArn"`
}

type empty struct{}

func (s *Server) deleteStateMachine(ctx context.Context, in *deleteStateMachineInput) (*empty, error) {
	base, v, err := machineARN(in.StateMachineArn, "stateMachineArn")
	if err != nil {
		return nil, err
	}
	if v != 0 {
		return nil, errf("ValidationException", "Use DeleteStateMachineVersion to delete a version: '%s'", in.StateMachineArn)
	}
	// AWS answers success for a machine that is already gone: deletion
	// is idempotent, so a retried delete does not fail.
	if err := s.svc.DeleteMachine(ctx, base); err != nil && code(err) != "StateMachineDoesNotExist" {
		return nil, err
	}
	return &empty{}, nil
}

type publishStateMachineVersionInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	RevisionID      string `json:"revisionId"`
	Description     string `json:"description"`
}

type publishStateMachineVersionOutput struct {
	CreationDate           float64 `json:"creationDate"`
	StateMachineVersionArn string  `json:"stateMachineVersionArn"`
}

func (s *Server) publishStateMachineVersion(ctx context.Context, in *publishStateMachineVersionInput) (*publishStateMachineVersionOutput, error) {
	base, v, err := machineARN(in.StateMachineArn, "stateMachineArn")
	if err != nil {
		return nil, err
	}
	if v != 0 {
		return nil, errf("ValidationException", "Cannot publish a version of a version: '%s'", in.StateMachineArn)
	}
	// Every revision already is a version in the engine: publishing
	// returns the newest, as AWS does when nothing changed since the last
	// publication.
	m, err := s.svc.DescribeMachine(ctx, base)
	if err != nil {
		return nil, err
	}
	if in.RevisionID != "" && in.RevisionID != revisionID(m.ARN, m.Version) {
		return nil, errf("ConflictException", "Revision ID '%s' is not the current revision of '%s'", in.RevisionID, base)
	}
	return &publishStateMachineVersionOutput{CreationDate: epoch(m.Updated), StateMachineVersionArn: m.VersionARN}, nil
}

type listStateMachineVersionsInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	MaxResults      int    `json:"maxResults"`
	NextToken       string `json:"nextToken"`
}

type listStateMachineVersionsOutput struct {
	StateMachineVersions []stateMachineVersionItem `json:"stateMachineVersions"`
	NextToken            string                    `json:"nextToken,omitempty"`
}

type stateMachineVersionItem struct {
	StateMachineVersionArn string  `json:"stateMachineVersionArn"`
	CreationDate           float64 `json:"creationDate"`
}

func (s *Server) listStateMachineVersions(ctx context.Context, in *listStateMachineVersionsInput) (*listStateMachineVersionsOutput, error) {
	base, v, err := machineARN(in.StateMachineArn, "stateMachineArn")
	if err != nil {
		return nil, err
	}
	if v != 0 {
		return nil, errf("ValidationException", "Expected an unqualified state machine ARN: '%s'", in.StateMachineArn)
	}
	size, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	latest, err := s.svc.DescribeMachine(ctx, base)
	if err != nil {
		return nil, err
	}
	// Newest first, as AWS lists them; the cursor is the next version.
	from := latest.Version
	if in.NextToken != "" {
		c, err := decodeToken("versions", in.NextToken)
		if err != nil {
			return nil, err
		}
		if from, err = strconv.Atoi(c); err != nil || from < 0 || from > latest.Version {
			return nil, errf("InvalidToken", "Invalid Token: '%s'", in.NextToken)
		}
	}
	out := &listStateMachineVersionsOutput{StateMachineVersions: []stateMachineVersionItem{}}
	for n := from; n >= 1; n-- {
		if len(out.StateMachineVersions) == size {
			out.NextToken = encodeToken("versions", strconv.Itoa(n))
			break
		}
		m, err := s.svc.DescribeMachine(ctx, base+":"+strconv.Itoa(n))
		if err != nil {
			return nil, err
		}
		out.StateMachineVersions = append(out.StateMachineVersions, stateMachineVersionItem{m.VersionARN, epoch(m.Updated)})
	}
	return out, nil
}

type validateInput struct {
	Definition string `json:"definition"`
	Type       string `json:"type"`
	Severity   string `json:"severity"`
	MaxResults int    `json:"maxResults"`
}

type validateOutput struct {
	Result      string       `json:"result"`
	Diagnostics []diagnostic `json:"diagnostics"`
	Truncated   bool         `json:"truncated"`
}

type diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

func (s *Server) validateStateMachineDefinition(_ context.Context, in *validateInput) (*validateOutput, error) {
	if err := checkDefinition(in.Definition); err != nil {
		return nil, err
	}
	switch in.Type {
	case "", "STANDARD", "EXPRESS":
	default:
		return nil, notInEnum("type", in.Type, "STANDARD", "EXPRESS")
	}
	severity := in.Severity
	switch severity {
	case "":
		severity = "ERROR"
	case "ERROR", "WARNING":
	default:
		return nil, notInEnum("severity", in.Severity, "ERROR", "WARNING")
	}
	size, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &validateOutput{Result: "OK", Diagnostics: []diagnostic{}}
	for _, d := range engine.ValidateDefinition(in.Definition) {
		if d.Severity == "ERROR" {
			out.Result = "FAIL"
		} else if severity == "ERROR" {
			continue // only errors were asked for
		}
		if len(out.Diagnostics) == size {
			out.Truncated = true
			continue
		}
		out.Diagnostics = append(out.Diagnostics, diagnostic{d.Severity, d.Code, d.Message, d.Location})
	}
	return out, nil
}

type listTagsInput struct {
	ResourceArn string `json:"resourceArn"`
}

type listTagsOutput struct {
	Tags []tag `json:"tags"`
}

// listTagsForResource answers with no tags: the engine keeps none, and
// tools (the console, the CLI's describe helpers) ask for them.
func (s *Server) listTagsForResource(_ context.Context, in *listTagsInput) (*listTagsOutput, error) {
	if _, _, err := arnParts(in.ResourceArn, "resourceArn", "stateMachine", "activity"); err != nil {
		return nil, err
	}
	return &listTagsOutput{Tags: []tag{}}, nil
}

// code returns the exception name of an API error, "" for others.
func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var ae *engine.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}
