package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/localrun"
	"github.com/streamlake/streamlake/internal/producer"
	"github.com/streamlake/streamlake/internal/s3store"
)

// workDirEnv names the variable that says which local run the commands inspect
// (the --work-dir of `streamlake local`; default .local in the current directory).
const workDirEnv = "STREAMLAKE_WORK_DIR"

// localWorkDir is the work directory of the local run the commands inspect.
func localWorkDir(e *env) string {
	if d := e.getenv(workDirEnv); d != "" {
		return d
	}
	return ".local"
}

// localSession decides where the AWS commands (summaries, redrive, produce) go,
// without touching the network. It returns the last local run's session when
// they go to its emulator, or nil when they go where the AWS configuration
// points.
//
// The local run is used when its state exists (.local/session.json, written by
// `streamlake local` and removed by `local --stop`) and the environment does not
// point elsewhere: no AWS_ENDPOINT_URL (or one the session's emulator serves, as
// after `eval` of the export line `local` prints), no AWS_PROFILE and no access
// key other than the emulator's dummy one. A user who has both a local run and
// an AWS account reaches AWS by setting AWS_PROFILE (or stopping the local run).
func localSession(e *env) (*localrun.Session, error) {
	dir := localWorkDir(e)
	s, err := localrun.Load(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if ep := e.getenv("AWS_ENDPOINT_URL"); ep != "" {
		for _, u := range s.Endpoints {
			if u == ep {
				return &s, nil
			}
		}
		return nil, nil
	}
	if e.getenv("AWS_PROFILE") != "" {
		return nil, nil
	}
	if k := e.getenv("AWS_ACCESS_KEY_ID"); k != "" && k != localrun.DummyAccessKeyID {
		return nil, nil
	}
	return &s, nil
}

// awsConfig returns the SDK configuration of a command: the emulator of the local
// run ses (region from the run unless region is given, dummy credentials), or the
// default AWS chain when ses is nil. The clients built from it must also take
// the endpoint of their service when the run's services have different
// emulators (awsClients does).
//
// On the default chain, a missing region or missing credentials are reported at
// once with what to do, instead of letting the SDK ask the instance metadata
// service (which answers 403 off EC2).
func awsConfig(ctx context.Context, e *env, ses *localrun.Session, region string) (aws.Config, error) {
	if ses != nil {
		if err := checkEmulator(e, ses); err != nil {
			return aws.Config{}, err
		}
		opts := []func(*config.LoadOptions) error{
			config.WithRegion(cmp.Or(region, ses.Region, "us-east-1")),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(localrun.DummyAccessKeyID, localrun.DummySecretAccessKey, "")),
		}
		if u := ses.SharedEndpoint(); u != "" {
			opts = append(opts, config.WithBaseEndpoint(u))
		}
		cfg, err := awsconfig.Load(ctx, opts...)
		if err != nil {
			return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
		}
		return cfg, nil
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := awsconfig.Load(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	hint := fmt.Sprintf("or run `streamlake local` (make demo) first to use its emulator (no local run in %s)", localWorkDir(e))
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: pass --region or set AWS_REGION, %s", hint)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return aws.Config{}, fmt.Errorf("no AWS credentials (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), %s: %w", hint, err)
	}
	return cfg, nil
}

// awsClients builds the SDK clients of the commands that call AWS (produce,
// redrive, summaries) from one configuration (awsConfig): each client goes to
// its service's emulator in the local run, or where the configuration points.
// It is safe for concurrent use.
type awsClients struct {
	cfg aws.Config
	ses *localrun.Session

	mu      sync.Mutex
	kinesis map[string]*kinesis.Client // by region
}

// newAWSClients loads the configuration of a command (see awsConfig).
func newAWSClients(ctx context.Context, e *env, ses *localrun.Session, region string) (*awsClients, error) {
	cfg, err := awsConfig(ctx, e, ses, region)
	if err != nil {
		return nil, err
	}
	return &awsClients{cfg: cfg, ses: ses, kinesis: map[string]*kinesis.Client{}}, nil
}

// endpoint returns the URL of the emulator that serves service in the local
// run, or nil (the configuration's endpoint applies).
func (c *awsClients) endpoint(service string) *string {
	if c.ses == nil {
		return nil
	}
	if u := c.ses.Endpoint(service); u != "" {
		return aws.String(u)
	}
	return nil
}

// Kinesis returns the Kinesis client of region ("": the configuration's), one
// per region.
func (c *awsClients) Kinesis(region string) *kinesis.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if region == "" {
		region = c.cfg.Region
	}
	if k, ok := c.kinesis[region]; ok {
		return k
	}
	k := kinesis.NewFromConfig(c.cfg, func(o *kinesis.Options) {
		o.Region = region
		if u := c.endpoint("kinesis"); u != nil {
			o.BaseEndpoint = u
		}
	})
	c.kinesis[region] = k
	return k
}

// SQS returns an SQS client.
func (c *awsClients) SQS() *sqs.Client {
	return sqs.NewFromConfig(c.cfg, func(o *sqs.Options) {
		if u := c.endpoint("sqs"); u != nil {
			o.BaseEndpoint = u
		}
	})
}

// S3 returns an S3 client; on an emulator it addresses buckets by path, as
// emulators serve them (not by host name).
func (c *awsClients) S3() *s3.Client {
	return s3store.NewClient(c.cfg, func(o *s3.Options) {
		if u := c.endpoint("s3"); u != nil {
			o.BaseEndpoint = u
		}
	})
}

// DynamoDB returns a DynamoDB client.
func (c *awsClients) DynamoDB() *dynamodb.Client {
	return dynamodb.NewFromConfig(c.cfg, func(o *dynamodb.Options) {
		if u := c.endpoint("dynamodb"); u != nil {
			o.BaseEndpoint = u
		}
	})
}

// putRecordsAPI returns what `produce` puts records through: the env's fake in
// tests, else the Kinesis client of the command's configuration.
func putRecordsAPI(ctx context.Context, e *env, ses *localrun.Session, region string) (producer.API, error) {
	if e.kinesis != nil {
		return e.kinesis, nil
	}
	clients, err := newAWSClients(ctx, e, ses, region)
	if err != nil {
		return nil, err
	}
	return clients.Kinesis(""), nil
}

// checkEmulator fails with what to do when the local run's emulator does not
// accept connections (stopped, or the machine restarted).
func checkEmulator(e *env, ses *localrun.Session) error {
	for _, raw := range ses.Endpoints {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return fmt.Errorf("local run state %s: endpoint %q is not a URL", localrun.Path(localWorkDir(e)), raw)
		}
		c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err != nil {
			dir := localWorkDir(e)
			return fmt.Errorf("the emulator of the last local run (%s, from %s) does not answer: start it again with `streamlake local`, or end the run with `streamlake local --stop` (which removes that file and keeps the run's outputs) to use AWS",
				raw, localrun.Path(dir))
		}
		c.Close()
	}
	return nil
}

// noteLocal tells on stderr that command works on the local run ses's emulator.
func noteLocal(e *env, command string, ses *localrun.Session) {
	if ses == nil {
		return
	}
	where := ses.SharedEndpoint()
	if where == "" {
		where = "several endpoints"
	}
	fmt.Fprintf(e.stderr, "streamlake %s: using the last local run (stack %s, %s, %s)\n", command, ses.StackName, where, localrun.Path(localWorkDir(e)))
}

// arnRegion returns the region of an ARN, or "" for a name or an ARN without one.
func arnRegion(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return ""
	}
	return a.Region
}
