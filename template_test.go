package posluha_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamotypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/events"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/console/support"
)

// TestTemplateReferences checks template.yaml the way `sam deploy` would
// fail on it, without the SAM CLI: every service in statemachines/ is
// deployed, every substitution its definition uses is defined, every
// substitution names a function of the template, and every function's code
// is a main package that builds for the Lambda runtime.
func TestTemplateReferences(t *testing.T) {
	// Keep GetAtt/Ref as data: the checks below read what they point at.
	src, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// goformation v7's model predates SAM's AutoPublishAlias on state
	// machines and rejects unknown fields; it is checked on the text below.
	src = regexp.MustCompile(`(?m)^\s+AutoPublishAlias:.*\n`).ReplaceAll(src, nil)
	tmpl, err := goformation.ParseYAMLWithOptions(src, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Fn::GetAtt": func(name string, input interface{}, template interface{}) interface{} {
				// !GetAtt X.Arn arrives as "X.Arn", Fn::GetAtt: [X, Arn] as a list.
				if s, ok := input.(string); ok {
					return "!GetAtt " + s
				}
				parts, _ := input.([]interface{})
				var s []string
				for _, p := range parts {
					s = append(s, fmt.Sprint(p))
				}
				return "!GetAtt " + strings.Join(s, ".")
			},
			"Ref": func(name string, input interface{}, template interface{}) interface{} {
				return fmt.Sprint("!Ref ", input)
			},
			"Fn::Sub": func(name string, input interface{}, template interface{}) interface{} {
				return fmt.Sprint("!Sub ", input)
			},
		},
	})
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	functions := tmpl.GetAllServerlessFunctionResources()
	machines := tmpl.GetAllServerlessStateMachineResources()

	// Every function: code is a main package under functions/<fn>/bootstrap,
	// built by SAM's go1.x builder from that folder or, for a function
	// that ships files beside its binary, by the Makefile's build-<Name>
	// target from the repository root.
	for name, fn := range functions {
		if fn.CodeUri == nil || fn.CodeUri.String == nil {
			t.Errorf("%s: CodeUri must be a folder", name)
			continue
		}
		dir := *fn.CodeUri.String
		if fn.AWSCloudFormationMetadata["BuildMethod"] == "makefile" {
			if dir != "." {
				t.Errorf("%s: built by the Makefile, so CodeUri must be the repository root, not %s", name, dir)
				continue
			}
			out, err := exec.Command("make", "-n", "build-"+name, "ARTIFACTS_DIR="+t.TempDir()).CombinedOutput()
			pkg := regexp.MustCompile(`\./(functions/[a-z0-9-]+/bootstrap)\b`).FindSubmatch(out)
			if err != nil || pkg == nil {
				t.Errorf("%s: make build-%s does not build a functions/<fn>/bootstrap: %v\n%s", name, name, err, out)
				continue
			}
			dir = string(pkg[1])
		}
		if !strings.HasPrefix(dir, "functions/") || filepath.Base(dir) != "bootstrap" {
			t.Errorf("%s: CodeUri %s: want functions/<fn>/bootstrap", name, dir)
		}
		if fn.Runtime == nil && tmpl.Globals == nil {
			t.Errorf("%s: no runtime", name)
		}
		if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if testing.Short() {
			continue
		}
		// Built for this machine, from the build cache the other tests
		// filled; the Lambda binaries themselves are `make lambdas`.
		out, err := exec.Command("go", "build", "-o", os.DevNull, "./"+dir).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %s does not build: %v\n%s", name, dir, err, out)
		}
	}

	// Every service folder is deployed, with all its substitutions.
	services, _ := filepath.Glob("statemachines/*/process.asl.json")
	deployed := map[string]bool{}
	sub := regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)
	for name, sm := range machines {
		if sm.DefinitionUri == nil || sm.DefinitionUri.String == nil {
			t.Errorf("%s: DefinitionUri must be a file", name)
			continue
		}
		file := *sm.DefinitionUri.String
		deployed[file] = true
		def, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(rawResource(t, name), "AutoPublishAlias:") {
			t.Errorf("%s: AutoPublishAlias is required, so executions finish on the version they started with", name)
		}
		used := map[string]bool{}
		for _, m := range sub.FindAllStringSubmatch(string(def), -1) {
			used[m[1]] = true
			if _, ok := sm.DefinitionSubstitutions[m[1]]; !ok {
				t.Errorf("%s: %s uses ${%s}, which DefinitionSubstitutions does not define", name, file, m[1])
			}
		}
		for key, v := range sm.DefinitionSubstitutions {
			if !used[key] {
				t.Errorf("%s: substitution %s is not used by %s", name, key, file)
			}
			res, ok := strings.CutPrefix(v, "!GetAtt ")
			res, ok2 := strings.CutSuffix(res, ".Arn")
			if !ok || !ok2 {
				t.Errorf("%s: substitution %s = %v, want !GetAtt <Function>.Arn", name, key, v)
				continue
			}
			if _, ok := functions[res]; !ok {
				t.Errorf("%s: substitution %s names %v, not a function of the template", name, key, res)
			}
			if key != strings.TrimSuffix(res, "Function")+"FunctionArn" {
				t.Errorf("%s: substitution %s points at %v", name, key, res)
			}
		}
	}
	sort.Strings(services)
	for _, f := range services {
		if !deployed[f] {
			t.Errorf("service %s is not deployed by template.yaml", f)
		}
	}
	if len(functions) < 6 || len(machines) < 3 {
		t.Errorf("template has %d functions and %d state machines", len(functions), len(machines))
	}
}

// rawResource returns the template text of one resource, for properties
// goformation's model does not carry (AutoPublishAlias).
func rawResource(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n  "+name+":\n")
	if i < 0 {
		return ""
	}
	rest := text[i+1:]
	// The resource ends at the next line indented by two spaces.
	next := regexp.MustCompile(`\n  [A-Za-z]`).FindStringIndex(rest[1:])
	if next == nil {
		return rest
	}
	return rest[:next[0]+1]
}

// TestTemplateRegistryTables checks the tables the registry functions share:
// keys as functions/internal/dynamo creates them locally, on-demand billing,
// encryption, TTL where items expire, the table names in the functions'
// environment, and the reader's append-only access to its audit table.
func TestTemplateRegistryTables(t *testing.T) {
	raw, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// As above: goformation's model has no AutoPublishAlias.
	tmpl, err := goformation.ParseYAMLWithOptions(regexp.MustCompile(`(?m)^\s+AutoPublishAlias:.*\n`).ReplaceAll(raw, nil),
		&intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref": func(_ string, input interface{}, _ interface{}) interface{} { return fmt.Sprint("!Ref ", input) },
		}})
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	for _, tc := range []struct {
		name string
		keys string // hash[,range]
		ttl  string
	}{
		{"RegistryLimitsTable", "registry", ""},
		{"ReadAuditTable", "applicationId,at", "expiresAt"},
	} {
		tbl, err := tmpl.GetDynamoDBTableWithName(tc.name)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var keys []string
		for _, k := range tbl.KeySchema {
			keys = append(keys, k.AttributeName)
		}
		if got := strings.Join(keys, ","); got != tc.keys {
			t.Errorf("%s: keys %s, want %s", tc.name, got, tc.keys)
		}
		if tbl.BillingMode == nil || *tbl.BillingMode != "PAY_PER_REQUEST" {
			t.Errorf("%s: billing %v, want PAY_PER_REQUEST", tc.name, tbl.BillingMode)
		}
		if tbl.SSESpecification == nil || !tbl.SSESpecification.SSEEnabled {
			t.Errorf("%s: SSE is not enabled", tc.name)
		}
		ttl := ""
		if tbl.TimeToLiveSpecification != nil && tbl.TimeToLiveSpecification.Enabled {
			ttl = *tbl.TimeToLiveSpecification.AttributeName
		}
		if ttl != tc.ttl {
			t.Errorf("%s: TTL attribute %q, want %q", tc.name, ttl, tc.ttl)
		}
	}
	globals := string(raw)[strings.Index(string(raw), "\nGlobals:"):strings.Index(string(raw), "\nResources:")]
	for _, env := range []string{"LIMITS_TABLE: !Ref RegistryLimitsTable", "READ_AUDIT_TABLE: !Ref ReadAuditTable"} {
		if !strings.Contains(globals, env) {
			t.Errorf("Globals environment lacks %s", env)
		}
	}
	for fn, want := range map[string][]string{
		"RegistryReadFunction": {"Action: [dynamodb:PutItem]\n              Resource: !GetAtt ReadAuditTable.Arn", "Resource: !GetAtt RegistryLimitsTable.Arn"},
		"EventWriteFunction":   {"Resource: !GetAtt RegistryLimitsTable.Arn"},
	} {
		res := rawResource(t, fn)
		for _, w := range want {
			if !strings.Contains(res, w) {
				t.Errorf("%s: policies lack %q", fn, w)
			}
		}
		if strings.Contains(res, "ReadAuditTable}") || (fn == "RegistryReadFunction" && strings.Count(res, "ReadAuditTable") != 1) {
			t.Errorf("%s: wider access to the audit table than PutItem", fn)
		}
	}
}

// captureTable records the CreateTable call of a local store's table
// constructor (the other methods are never called).
type captureTable struct {
	support.DynamoClient
	in *dynamodb.CreateTableInput
}

func (c *captureTable) CreateTable(_ context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	c.in = in
	return &dynamodb.CreateTableOutput{}, nil
}

// TestTemplateConsole checks the support console's AWS deployment: its
// tables have the keys and GSIs the stores create locally (so the code
// tested against local DynamoDB meets the same schema), encryption and
// point-in-time recovery; the audit table is append-only for every
// function; both EventBridge rules target the projection function; the
// console's routes are under /console.
func TestTemplateConsole(t *testing.T) {
	raw, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := goformation.ParseYAMLWithOptions(regexp.MustCompile(`(?m)^\s+AutoPublishAlias:.*\n`).ReplaceAll(raw, nil),
		&intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        func(_ string, input interface{}, _ interface{}) interface{} { return fmt.Sprint("!Ref ", input) },
			"Fn::GetAtt": func(_ string, input interface{}, _ interface{}) interface{} { return fmt.Sprint("!GetAtt ", input) },
			"Fn::Sub":    func(_ string, input interface{}, _ interface{}) interface{} { return fmt.Sprint("!Sub ", input) },
		}})
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	schema := func(keys []dynamotypes.KeySchemaElement) string {
		var s []string
		for _, k := range keys {
			s = append(s, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name   string
		create func(context.Context, support.DynamoClient, string) error
	}{
		{"ProjectionTable", support.CreateProjectionTable},
		{"ConsoleAuditTable", support.CreateAuditTable},
	} {
		c := &captureTable{}
		if err := tc.create(context.Background(), c, "t"); err != nil {
			t.Fatal(err)
		}
		want := []string{"keys " + schema(c.in.KeySchema)}
		for _, g := range c.in.GlobalSecondaryIndexes {
			want = append(want, "gsi "+aws.ToString(g.IndexName)+" "+schema(g.KeySchema)+" "+string(g.Projection.ProjectionType))
		}
		for _, a := range c.in.AttributeDefinitions {
			want = append(want, "attr "+aws.ToString(a.AttributeName)+" "+string(a.AttributeType))
		}
		tbl, err := tmpl.GetDynamoDBTableWithName(tc.name)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var ks []string
		for _, k := range tbl.KeySchema {
			ks = append(ks, k.AttributeName+" "+k.KeyType)
		}
		got := []string{"keys " + strings.Join(ks, ",")}
		for _, g := range tbl.GlobalSecondaryIndexes {
			var gk []string
			for _, k := range g.KeySchema {
				gk = append(gk, k.AttributeName+" "+k.KeyType)
			}
			got = append(got, "gsi "+g.IndexName+" "+strings.Join(gk, ",")+" "+aws.ToString(g.Projection.ProjectionType))
		}
		for _, a := range tbl.AttributeDefinitions {
			got = append(got, "attr "+a.AttributeName+" "+a.AttributeType)
		}
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v (as the store creates it locally)", tc.name, got, want)
		}
		if tbl.BillingMode == nil || *tbl.BillingMode != "PAY_PER_REQUEST" || tbl.SSESpecification == nil || !tbl.SSESpecification.SSEEnabled ||
			tbl.PointInTimeRecoverySpecification == nil || tbl.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled == nil || !*tbl.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled {
			t.Errorf("%s: want PAY_PER_REQUEST, SSE and point-in-time recovery", tc.name)
		}
	}

	// Append-only: the audit table's ARN appears in one statement, with
	// PutItem and Query only.
	text := string(raw)
	if n := strings.Count(text, "ConsoleAuditTable.Arn"); n != 2 { // the table and its indexes, in one Resource list
		t.Errorf("ConsoleAuditTable.Arn is used %d times, want the console's one statement", n)
	}
	console := rawResource(t, "ConsoleFunction")
	if !strings.Contains(console, "Action: [dynamodb:PutItem, dynamodb:Query]\n              Resource: [!GetAtt ConsoleAuditTable.Arn") {
		t.Errorf("ConsoleFunction: the audit table statement is not PutItem+Query only")
	}
	if strings.Contains(console, "Crud") || strings.Contains(text, "TableName: !Ref ConsoleAuditTable") {
		t.Errorf("a function has managed-policy access to a console table")
	}
	for _, route := range []string{"Path: /console\n", "Path: /console/{proxy+}\n"} {
		if !strings.Contains(console, route) {
			t.Errorf("ConsoleFunction: no route %s", strings.TrimSpace(route))
		}
	}

	for _, rule := range []string{"ExecutionStatusRule", "StepEventsRule"} {
		r, err := tmpl.GetEventsRuleWithName(rule)
		if err != nil {
			t.Errorf("%s: %v", rule, err)
			continue
		}
		if len(r.Targets) != 1 || r.Targets[0].Arn != "!GetAtt ProjectionFunction.Arn" || r.Targets[0].DeadLetterConfig == nil {
			t.Errorf("%s: targets %+v, want ProjectionFunction with a dead-letter queue", rule, r.Targets)
		}
		if !strings.Contains(text, "SourceArn: !GetAtt "+rule+".Arn") {
			t.Errorf("%s: no permission to invoke ProjectionFunction", rule)
		}
	}
	pattern := fmt.Sprint(mustRule(t, tmpl, "ExecutionStatusRule").EventPattern)
	for _, w := range []string{"aws.states", "Step Functions Execution Status Change", "stateMachine:e-propyska", "stateMachine:fop-registration", "stateMachine:lockdown-payout"} {
		if !strings.Contains(pattern, w) {
			t.Errorf("ExecutionStatusRule pattern %s lacks %s", pattern, w)
		}
	}
	if p := fmt.Sprint(mustRule(t, tmpl, "StepEventsRule").EventPattern); !strings.Contains(p, "posluha") || !strings.Contains(p, "Posluha Step Changed") {
		t.Errorf("StepEventsRule pattern %s", p)
	}
}

func mustRule(t *testing.T, tmpl *cloudformation.Template, name string) *events.Rule {
	t.Helper()
	r, err := tmpl.GetEventsRuleWithName(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTemplateStepEvents checks that the four task functions put step
// events in AWS: STEP_EVENTS set to the default bus (where the
// StepEventsRule listens) and events:PutEvents on that bus only; no other
// function puts them, and the rule matches what the emitter puts.
func TestTemplateStepEvents(t *testing.T) {
	const (
		env    = "STEP_EVENTS: default\n"
		policy = "Action: [events:PutEvents]\n              Resource: !Sub \"arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default\""
	)
	tasks := []string{"RegistryReadFunction", "EventWriteFunction", "SignFunction", "PdfGenFunction"}
	for _, fn := range tasks {
		res := rawResource(t, fn)
		if res == "" {
			t.Errorf("%s: not in the template", fn)
			continue
		}
		if !strings.Contains(res, env) {
			t.Errorf("%s: environment lacks %s", fn, strings.TrimSpace(env))
		}
		if strings.Count(res, policy) != 1 {
			t.Errorf("%s: want one statement allowing events:PutEvents on the default bus", fn)
		}
	}
	raw, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	if n := strings.Count(text, "STEP_EVENTS:"); n != len(tasks) {
		t.Errorf("STEP_EVENTS is set %d times, want once per task function (%d)", n, len(tasks))
	}
	if n := strings.Count(text, "events:PutEvents"); n != len(tasks) {
		t.Errorf("events:PutEvents is granted %d times, want once per task function (%d)", n, len(tasks))
	}
	rule := rawResource(t, "StepEventsRule")
	if strings.Contains(rule, "EventBusName") {
		t.Errorf("StepEventsRule is not on the default bus the functions put to")
	}
	for _, w := range []string{"source: [" + posluha.SourcePosluha + "]", "detail-type: [" + posluha.DetailTypeStepChanged + "]"} {
		if !strings.Contains(rule, w) {
			t.Errorf("StepEventsRule lacks %s", w)
		}
	}
}

// TestTemplateOverrides checks the table of support's corrected task
// arguments: the key the code uses (functions/internal/override, which
// the root package may not import: its tests create the table with the
// same "key" hash key), billing,
// encryption and TTL; OVERRIDES_TABLE only on the functions that use it,
// the console with PutItem only and the task functions with GetItem only,
// and no other access to the table.
func TestTemplateOverrides(t *testing.T) {
	raw, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := goformation.ParseYAMLWithOptions(regexp.MustCompile(`(?m)^\s+AutoPublishAlias:.*\n`).ReplaceAll(raw, nil),
		&intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref": func(_ string, input interface{}, _ interface{}) interface{} { return fmt.Sprint("!Ref ", input) },
		}})
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	tbl, err := tmpl.GetDynamoDBTableWithName("OverridesTable")
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.KeySchema) != 1 || tbl.KeySchema[0].AttributeName != "key" || tbl.KeySchema[0].KeyType != "HASH" ||
		len(tbl.AttributeDefinitions) != 1 || tbl.AttributeDefinitions[0].AttributeType != "S" {
		t.Errorf("OverridesTable keys %+v, want the code's \"key\" (S) hash key", tbl.KeySchema)
	}
	if tbl.BillingMode == nil || *tbl.BillingMode != "PAY_PER_REQUEST" || tbl.SSESpecification == nil || !tbl.SSESpecification.SSEEnabled {
		t.Errorf("OverridesTable: want PAY_PER_REQUEST and SSE")
	}
	if tbl.TimeToLiveSpecification == nil || !tbl.TimeToLiveSpecification.Enabled || aws.ToString(tbl.TimeToLiveSpecification.AttributeName) != "expiresAt" {
		t.Errorf("OverridesTable: want TTL on expiresAt (override.Table writes it)")
	}
	text := string(raw)
	for fn, action := range map[string]string{
		"RegistryReadFunction": "[dynamodb:GetItem]",
		"EventWriteFunction":   "[dynamodb:GetItem]",
		"ConsoleFunction":      "[dynamodb:PutItem]",
	} {
		res := rawResource(t, fn)
		if !strings.Contains(res, "OVERRIDES_TABLE: !Ref OverridesTable") {
			t.Errorf("%s: no OVERRIDES_TABLE", fn)
		}
		if !strings.Contains(res, "Action: "+action+"\n              Resource: !GetAtt OverridesTable.Arn") || strings.Count(res, "OverridesTable.Arn") != 1 {
			t.Errorf("%s: want one statement %s on OverridesTable", fn, action)
		}
	}
	if n := strings.Count(text, "OverridesTable.Arn"); n != 3 {
		t.Errorf("OverridesTable.Arn is used %d times, want the three functions' statements", n)
	}
	if n := strings.Count(text, "OVERRIDES_TABLE:"); n != 3 || strings.Contains(text, "TableName: !Ref OverridesTable") {
		t.Errorf("OVERRIDES_TABLE is set %d times (want 3) or a managed policy reaches the table", n)
	}
}
