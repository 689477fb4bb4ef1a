package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/streamlake/streamlake/internal/samtemplate"
	"github.com/streamlake/streamlake/tools/internal/cli"
)

func main() { cli.Main(run) }

// run is the command: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("iamcheck", stderr)
	tplPath := fs.String("template", "template.yaml", "SAM template; its directory is the module root with the Makefile")
	verbose := fs.Bool("v", false, "list each function's calls and needs")
	overrides := fs.String("parameter-overrides", "", "template parameter values to check the roles under, as sam takes them (e.g. \"StreamConsumer=efo\"); the defaults otherwise")
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "iamcheck: unexpected arguments %q\n", fs.Args())
		return 2
	}
	ov, err := samtemplate.ParseParameterOverrides(*overrides)
	if err != nil {
		fmt.Fprintf(stderr, "iamcheck: --parameter-overrides: %v\n", err)
		return 2
	}
	dir := filepath.Dir(*tplPath)
	reports, err := checkTemplate(*tplPath, dir, ov, func(logicalID string) (string, error) { return makePackage(dir, logicalID) })
	if err != nil {
		fmt.Fprintf(stderr, "iamcheck: %v\n", err)
		return 1
	}
	status := 0
	for _, r := range reports {
		r.write(stdout, *verbose)
		if len(r.Problems) > 0 {
			status = 1
		}
	}
	return status
}

// makePackage returns the Go package the Makefile's build-<logicalID> target builds
// (`make -n`, with ARTIFACTS_DIR set as sam build sets it).
func makePackage(dir, logicalID string) (string, error) {
	cmd := exec.Command("make", "-n", "--no-print-directory", "-C", dir, "build-"+logicalID, "ARTIFACTS_DIR=/artifacts")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("make -n build-%s: %w\n%s", logicalID, err, out)
	}
	pkg := regexp.MustCompile(`\./functions/[A-Za-z0-9_]+`).FindString(string(out))
	if pkg == "" {
		return "", fmt.Errorf("make -n build-%s builds no ./functions/<name> package:\n%s", logicalID, out)
	}
	return pkg, nil
}

// grant is one action allowed on one resource (pattern).
type grant struct {
	Action   string
	Resource string
}

// report is the check of one function.
type report struct {
	Function string
	Role     string
	Package  string
	Calls    map[Call]string // operation -> a call site
	Needs    map[grant][]string
	Granted  []grant
	Problems []string
}

func (r *report) write(w io.Writer, verbose bool) {
	if len(r.Problems) == 0 {
		fmt.Fprintf(w, "iamcheck: %s (%s, role %s): %d AWS calls (operations and transaction items), %d grants, all needed and granted\n",
			r.Function, r.Package, r.Role, len(r.Calls), len(r.Granted))
	}
	if verbose || len(r.Problems) > 0 {
		for _, c := range sortedCalls(r.Calls) {
			fmt.Fprintf(w, "  calls %s at %s\n", c, r.Calls[c])
		}
		for _, g := range sortedGrants(r.Needs) {
			fmt.Fprintf(w, "  needs %s on %s (%s)\n", g.Action, g.Resource, strings.Join(r.Needs[g], "; "))
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "iamcheck: %s: %s\n", r.Function, p)
	}
}

// tokenResolver resolves Ref and Fn::GetAtt to tokens naming the resource.
type tokenResolver struct{}

func (tokenResolver) Ref(r samtemplate.ResourceRef) (any, error) {
	return "{{Ref:" + r.LogicalID + "}}", nil
}
func (tokenResolver) GetAtt(r samtemplate.ResourceRef, a string) (any, error) {
	return "{{GetAtt:" + r.LogicalID + "." + a + "}}", nil
}

var tokenPattern = regexp.MustCompile(`^\{\{(Ref|GetAtt):([A-Za-z0-9]+)(?:\.([A-Za-z.]+))?\}\}$`)

// refOf returns the logical ID a whole-token value refers to.
func refOf(v any) (string, bool) {
	s, _ := v.(string)
	m := tokenPattern.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[2], true
}

func arnOf(id string) string { return "{{GetAtt:" + id + ".Arn}}" }

// checkTemplate checks every function of the template at path with the parameter
// values overrides (nil: the defaults); pkgOf names each function's main package
// (a pattern relative to moduleDir).
func checkTemplate(path, moduleDir string, overrides map[string]string, pkgOf func(logicalID string) (string, error)) ([]*report, error) {
	tpl, err := samtemplate.Load(path, samtemplate.Options{Resolver: tokenResolver{}, Overrides: overrides})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	var reports []*report
	for _, fn := range tpl.Functions() {
		r := &report{Function: fn.LogicalID, Needs: map[grant][]string{}}
		reports = append(reports, r)
		pkg, err := pkgOf(fn.LogicalID)
		if err != nil {
			r.Problems = append(r.Problems, err.Error())
			continue
		}
		r.Package = pkg
		calls, err := scanCached(moduleDir, pkg)
		if err != nil {
			r.Problems = append(r.Problems, err.Error())
			continue
		}
		r.Calls = calls
		checkFunction(tpl, fn, r)
	}
	return reports, nil
}

// checkFunction fills r's needs, grants and problems for fn, whose calls are in r.
func checkFunction(tpl *samtemplate.Template, fn samtemplate.Function, r *report) {
	props := fn.Properties
	problem := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }
	addNeed := func(action, resource, why string) {
		g := grant{action, resource}
		r.Needs[g] = append(r.Needs[g], why)
	}

	res := resourcesOf(tpl, props)
	for _, c := range sortedCalls(r.Calls) {
		needs, known := operationActions[c]
		if !known {
			needs, known = fieldActions[c]
			if known && needs == nil {
				problem("%s (at %s) changes the permissions a call needs in a way this check does not model", c, r.Calls[c])
				continue
			}
		}
		if !known {
			problem("calls %s (at %s), which has no IAM mapping in tools/iamcheck/actions.go", c, r.Calls[c])
			continue
		}
		for _, n := range needs {
			arns := res[n.On]
			if n.On == kAny {
				arns = []string{"*"}
			}
			if len(arns) == 0 {
				problem("calls %s (at %s), which needs %s on a %s, but its environment names no %s", c, r.Calls[c], n.Action, n.On, n.On)
			}
			for _, arn := range arns {
				addNeed(n.Action, arn, "code calls "+c.String())
			}
		}
	}

	// What Lambda needs for the function itself.
	if lg, ok := samtemplate.Lookup(props, "LoggingConfig.LogGroup"); ok {
		if id, ok := refOf(lg); ok {
			addNeed("logs:CreateLogStream", arnOf(id), "function logs")
			addNeed("logs:PutLogEvents", arnOf(id), "function logs")
		} else {
			problem("LoggingConfig.LogGroup %v is not a Ref to the template's log group", lg)
		}
	} else {
		problem("no LoggingConfig.LogGroup: the default log group is not checked (give the function its own AWS::Logs::LogGroup)")
	}
	if t, _ := props["Tracing"].(string); t == "Active" {
		addNeed("xray:PutTraceSegments", "*", "Tracing: Active")
		addNeed("xray:PutTelemetryRecords", "*", "Tracing: Active")
	}
	optional := map[grant]bool{}
	events, _ := props["Events"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(events)) {
		ev, _ := events[name].(map[string]any)
		typ, _ := ev["Type"].(string)
		ep, _ := ev["Properties"].(map[string]any)
		why := "event source mapping " + name
		switch typ {
		case "Kinesis":
			id, ok := refOf(ep["Stream"])
			if !ok {
				problem("event %s: Stream %v is not a reference to the template's stream", name, ep["Stream"])
				continue
			}
			efo, consumer := false, ""
			if c := tpl.Resources[id]; c.Type == "AWS::Kinesis::StreamConsumer" {
				consumer, _ = ep["Stream"].(string)
				// An enhanced fan-out mapping reads through the consumer of its stream.
				sid, ok := refOf(c.Properties["StreamARN"])
				if !ok {
					problem("event %s: consumer %s: StreamARN %v is not a reference to the template's stream", name, id, c.Properties["StreamARN"])
					continue
				}
				id, efo = sid, true
			}
			for _, a := range []string{"kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"} {
				addNeed(a, arnOf(id), why)
			}
			if efo {
				// Lambda subscribes to each shard through the consumer and reads the
				// consumer's state (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-configure).
				addNeed("kinesis:SubscribeToShard", consumer, why+" (enhanced fan-out)")
				addNeed("kinesis:DescribeStreamConsumer", consumer, why+" (enhanced fan-out)")
			} else {
				optional[grant{"kinesis:SubscribeToShard", arnOf(id) + "/consumer/*"}] = true
			}
		case "SQS":
			id, ok := refOf(ep["Queue"])
			if !ok {
				problem("event %s: Queue %v is not a reference to the template's queue", name, ep["Queue"])
				continue
			}
			for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
				addNeed(a, arnOf(id), why)
			}
		default:
			problem("event %s: type %s is not supported by this check", name, typ)
		}
		if dest, ok := samtemplate.Lookup(ep, "DestinationConfig.OnFailure.Destination"); ok {
			id, ok := refOf(dest)
			if !ok {
				problem("event %s: on-failure destination %v is not a reference to the template's queue", name, dest)
			} else if t := tpl.Resources[id].Type; t != "AWS::SQS::Queue" {
				problem("event %s: on-failure destination %s is a %s; only SQS is supported", name, id, t)
			} else {
				addNeed("sqs:SendMessage", arnOf(id), why+" on-failure destination")
			}
		}
	}

	roleID, ok := refOf(props["Role"])
	if !ok {
		problem("Role %v is not a reference to an AWS::IAM::Role of the template (SAM-generated roles are not checked)", props["Role"])
		return
	}
	r.Role = roleID
	granted, err := grantsOf(tpl, roleID)
	if err != nil {
		problem("role %s: %v", roleID, err)
		return
	}
	r.Granted = granted
	for _, g := range sortedGrants(r.Needs) {
		if !covered(granted, g) {
			problem("needs %s on %s (%s); role %s does not grant it", g.Action, g.Resource, strings.Join(r.Needs[g], "; "), roleID)
		}
	}
	for _, g := range granted {
		if _, needed := r.Needs[grant{strings.ToLower(g.Action), g.Resource}]; needed || optional[g] {
			continue
		}
		if !neededExactly(r.Needs, g) {
			problem("role %s grants %s on %s, which nothing the function does needs", roleID, g.Action, g.Resource)
		}
	}
}

// neededExactly reports whether g is one of needs (actions compared case-insensitively).
func neededExactly(needs map[grant][]string, g grant) bool {
	for n := range needs {
		if strings.EqualFold(n.Action, g.Action) && n.Resource == g.Resource {
			return true
		}
	}
	return false
}

// covered reports whether a grant allows need (IAM wildcards * and ? in grants).
func covered(granted []grant, need grant) bool {
	for _, g := range granted {
		if wildcardMatch(strings.ToLower(g.Action), strings.ToLower(need.Action)) && wildcardMatch(g.Resource, need.Resource) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against an IAM pattern with * and ?.
func wildcardMatch(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	ok, _ := regexp.MatchString(re, s)
	return ok
}

// resourcesOf returns, by kind, the resources a function's code calls: what its
// environment variables name, plus the buckets whose notifications reach a queue it
// consumes; objects are <bucket ARN>/<prefix>/* for each *_PREFIX variable (or
// <bucket ARN>/* without one).
func resourcesOf(tpl *samtemplate.Template, props map[string]any) map[kind][]string {
	out := map[kind][]string{}
	env, _ := samtemplate.Lookup(props, "Environment.Variables")
	vars, _ := env.(map[string]any)
	var prefixes []string
	buckets := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if strings.HasSuffix(k, "_PREFIX") {
			if p, ok := vars[k].(string); ok && p != "" {
				prefixes = append(prefixes, p)
			}
			continue
		}
		id, ok := refOf(vars[k])
		if !ok {
			continue
		}
		switch tpl.Resources[id].Type {
		case "AWS::S3::Bucket":
			buckets[id] = true
		case "AWS::DynamoDB::Table":
			out[kTable] = append(out[kTable], arnOf(id))
		case "AWS::SQS::Queue":
			out[kQueue] = append(out[kQueue], arnOf(id))
		case "AWS::Kinesis::Stream":
			out[kStream] = append(out[kStream], arnOf(id))
		}
	}
	// Buckets that notify a queue the function consumes.
	events, _ := props["Events"].(map[string]any)
	for _, ev := range events {
		if t, _ := samtemplate.Lookup(asMap(ev), "Type"); t != "SQS" {
			continue
		}
		q, _ := samtemplate.Lookup(asMap(ev), "Properties.Queue")
		qid, ok := refOf(q)
		if !ok {
			continue
		}
		for id, res := range tpl.Resources {
			if res.Type != "AWS::S3::Bucket" {
				continue
			}
			qc, _ := samtemplate.Lookup(res.Properties, "NotificationConfiguration.QueueConfigurations")
			list, _ := qc.([]any)
			for _, c := range list {
				if dest, _ := samtemplate.Lookup(asMap(c), "Queue"); dest == arnOf(qid) {
					buckets[id] = true
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(buckets)) {
		out[kBucket] = append(out[kBucket], arnOf(id))
		if len(prefixes) == 0 {
			out[kObject] = append(out[kObject], arnOf(id)+"/*")
		}
		for _, p := range prefixes {
			out[kObject] = append(out[kObject], arnOf(id)+"/"+p+"/*")
		}
	}
	return out
}

// grantsOf returns every action/resource pair the role's inline policies allow.
func grantsOf(tpl *samtemplate.Template, roleID string) ([]grant, error) {
	role, ok := tpl.Resources[roleID]
	if !ok || role.Type != "AWS::IAM::Role" {
		return nil, fmt.Errorf("not an AWS::IAM::Role of the template")
	}
	if m, ok := role.Properties["ManagedPolicyArns"]; ok {
		return nil, fmt.Errorf("has ManagedPolicyArns %v, which this check cannot read", m)
	}
	for id, res := range tpl.Resources {
		if res.Type == "AWS::IAM::Policy" || res.Type == "AWS::IAM::ManagedPolicy" {
			roles, _ := res.Properties["Roles"].([]any)
			for _, r := range roles {
				if rid, _ := refOf(r); rid == roleID {
					return nil, fmt.Errorf("%s (%s) is attached to it; only inline Policies are checked", id, res.Type)
				}
			}
		}
	}
	var out []grant
	policies, _ := role.Properties["Policies"].([]any)
	for i, p := range policies {
		stmts, _ := samtemplate.Lookup(asMap(p), "PolicyDocument.Statement")
		list, ok := stmts.([]any)
		if !ok {
			list = []any{stmts}
		}
		for j, s := range list {
			st := asMap(s)
			where := fmt.Sprintf("Policies[%d] statement %d", i, j)
			if st["Effect"] != "Allow" {
				return nil, fmt.Errorf("%s: Effect %v; only Allow statements are supported", where, st["Effect"])
			}
			if _, ok := st["NotAction"]; ok {
				return nil, fmt.Errorf("%s: NotAction is not supported", where)
			}
			if _, ok := st["NotResource"]; ok {
				return nil, fmt.Errorf("%s: NotResource is not supported", where)
			}
			actions, resources := strings1(st["Action"]), strings1(st["Resource"])
			if len(actions) == 0 || len(resources) == 0 {
				return nil, fmt.Errorf("%s: no Action or Resource", where)
			}
			for _, a := range actions {
				for _, r := range resources {
					out = append(out, grant{a, r})
				}
			}
		}
	}
	return out, nil
}

// strings1 returns a string or a list of strings as a list.
func strings1(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func sortedCalls(m map[Call]string) []Call {
	return slices.SortedFunc(maps.Keys(m), func(a, b Call) int { return strings.Compare(a.String(), b.String()) })
}

func sortedGrants(m map[grant][]string) []grant {
	return slices.SortedFunc(maps.Keys(m), func(a, b grant) int {
		return cmp.Or(strings.Compare(a.Resource, b.Resource), strings.Compare(a.Action, b.Action))
	})
}
