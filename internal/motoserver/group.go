package motoserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Process is one emulator process of the local layout and the services it
// serves.
type Process struct {
	// Name names the process (and its log, moto-<Name>.log).
	Name string
	// Services are the SDK service names (lower case) it serves.
	Services []string
}

// Layout is how the local pipeline spreads the AWS services it uses over moto
// processes. One Python process uses at most one core, so the services that are
// busy at the same time run in processes of their own: Kinesis (the producer and
// the stream's pollers) and DynamoDB (the aggregator's transactions). S3 and SQS
// share one because moto delivers the bucket's event notifications to the queue
// inside the process: split, the notifications would go nowhere.
var Layout = []Process{
	{Name: "s3-sqs", Services: []string{"s3", "sqs"}},
	{Name: "kinesis", Services: []string{"kinesis"}},
	{Name: "dynamodb", Services: []string{"dynamodb"}},
}

// Services are the services of Layout, sorted.
func Services() []string {
	var out []string
	for _, p := range Layout {
		out = append(out, p.Services...)
	}
	sort.Strings(out)
	return out
}

// EndpointEnv returns the standard per-service endpoint variable of an SDK
// service name, e.g. AWS_ENDPOINT_URL_KINESIS for "kinesis"
// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html: the
// service's SDK ID, upper case, spaces as underscores). aws-sdk-go-v2
// (config.LoadDefaultConfig), boto3 and the AWS CLI read them, and prefer them to
// AWS_ENDPOINT_URL.
func EndpointEnv(service string) string {
	return "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(service, " ", "_"))
}

// Group is the set of emulator processes of Layout. Close stops them all.
type Group struct {
	// Servers are the processes, in Layout order.
	Servers []*Server
	// Endpoints maps each service of Layout to its process's URL.
	Endpoints map[string]string
}

// StartGroup starts the processes of Layout at once, each on a free loopback
// port, and waits until all answer. Each writes its output to
// logDir/moto-<name>.log (logDir "" discards it). Detached processes outlive this
// one (see StartDetached). On error, the processes already started are stopped.
func StartGroup(ctx context.Context, logDir string, detached bool) (*Group, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	g := &Group{Servers: make([]*Server, len(Layout)), Endpoints: map[string]string{}}
	errs := make([]error, len(Layout))
	var wg sync.WaitGroup
	for i, p := range Layout {
		wg.Go(func() {
			var logw *os.File
			if logDir != "" {
				f, err := os.Create(filepath.Join(logDir, "moto-"+p.Name+".log"))
				if err != nil {
					errs[i] = fmt.Errorf("emulator %s: %w", p.Name, err)
					return
				}
				defer f.Close() // the child keeps its own descriptor
				logw = f
			}
			for attempt := 0; attempt < 3; attempt++ {
				port, err := freePort()
				if err != nil {
					errs[i] = err
					return
				}
				s, err := start(ctx, bin, port, logw, detached)
				if err == nil {
					g.Servers[i], errs[i] = s, nil
					return
				}
				errs[i] = fmt.Errorf("emulator %s: %w", p.Name, err)
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		g.Close()
		return nil, err
	}
	for i, p := range Layout {
		for _, svc := range p.Services {
			g.Endpoints[svc] = g.Servers[i].URL
		}
	}
	return g, nil
}

// PIDs returns the processes' ids, in Layout order.
func (g *Group) PIDs() []int {
	var out []int
	for _, s := range g.Servers {
		if s != nil {
			out = append(out, s.PID())
		}
	}
	return out
}

// Close stops every process and waits for them to exit.
func (g *Group) Close() error {
	var wg sync.WaitGroup
	for _, s := range g.Servers {
		if s != nil {
			wg.Go(func() { _ = s.Close() })
		}
	}
	wg.Wait()
	return nil
}
