package s3

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// defaultRegion is what requests are signed for when neither the
// configuration nor the AWS chain names a region: S3-compatible stores
// mostly accept any, and AWS redirects a bucket's requests to its region.
const defaultRegion = "us-east-1"

// bucketField is the bucket, first of the fields; path follows it.
func bucketField() *spec.Field {
	return spec.String("bucket").Desc("Bucket name.").Example("analytics")
}

// connectionFields are the fields the source and the sink share after
// bucket and path: where the store is and who we are.
func connectionFields() []*spec.Field {
	return []*spec.Field{
		spec.String("region").Optional().
			Desc("AWS region of the bucket. Default: from the AWS chain (AWS_REGION, the profile's region), else us-east-1.").
			Example("eu-west-1"),
		spec.String("endpoint").Optional().
			Desc("URL of an S3-compatible store (MinIO, Ceph, versitygw, R2, …) instead of AWS; http:// or https://.").
			Example("http://127.0.0.1:7070"),
		spec.Bool("force_path_style").Default(false).
			Desc("Address buckets as endpoint/bucket/key instead of bucket.endpoint/key, as most S3-compatible stores need."),
		spec.String("profile").Optional().Advance().
			Desc("Profile of the shared AWS config and credentials files to use instead of AWS_PROFILE or default."),
		spec.String("access_key_id").Optional().
			Desc("Access key ID, with secret_access_key. Default: the standard AWS credential chain (AWS_ACCESS_KEY_ID/" +
				"AWS_SECRET_ACCESS_KEY, the shared config and credentials files, web identity tokens " +
				"(AWS_WEB_IDENTITY_TOKEN_FILE, as on EKS), SSO, container and instance roles)."),
		spec.String("secret_access_key").Optional().Secret().
			Desc("Secret access key of access_key_id."),
		spec.String("session_token").Optional().Secret().Advance().
			Desc("Session token of temporary credentials given as access_key_id and secret_access_key."),
		tlsconf.Field().Desc("TLS settings for an https:// endpoint (AWS is always https): the CA to trust, a client " +
			"certificate. Not needed for the system's roots; refused with an http:// endpoint."),
	}
}

// connection is the decoded connection fields and, once first needed, the
// client. Building the client reads the AWS config files and the tls
// files, so it waits until the connector opens (weave validate does no
// I/O); the sink's Commit may come first, before Open.
type connection struct {
	bucket, region, endpoint, profile string
	pathStyle                         bool
	keyID, secret, token              string
	conf                              *spec.Parsed // for the tls object

	once   sync.Once
	client *s3.Client
	http   *http.Client
	err    error
}

func parseConnection(conf *spec.Parsed) (*connection, error) {
	c := &connection{
		bucket: conf.String("bucket"), region: conf.String("region"), endpoint: conf.String("endpoint"),
		profile: conf.String("profile"), pathStyle: conf.Bool("force_path_style"),
		keyID: conf.String("access_key_id"), secret: conf.String("secret_access_key"),
		token: conf.String("session_token"), conf: conf,
	}
	switch {
	case c.bucket == "":
		return nil, blob.ConfigErr(conf, "bucket", "bucket is empty")
	case strings.ContainsAny(c.bucket, "/"):
		return nil, blob.ConfigErr(conf, "bucket", "bucket %q holds a /: give the bucket name alone, and the key or prefix in path", c.bucket)
	case (c.keyID == "") != (c.secret == ""):
		return nil, blob.ConfigErr(conf, "access_key_id", "give access_key_id and secret_access_key together, or neither to use the AWS credential chain")
	case c.token != "" && c.keyID == "":
		return nil, blob.ConfigErr(conf, "session_token", "session_token goes with access_key_id and secret_access_key")
	}
	if c.endpoint != "" {
		u, err := url.Parse(c.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, blob.ConfigErr(conf, "endpoint", "endpoint %q is not an http:// or https:// URL", c.endpoint)
		}
		if u.Scheme == "http" && conf.Given("tls") {
			return nil, blob.ConfigErr(conf, "tls", "tls is given but the endpoint %s is plain http://", c.endpoint)
		}
	}
	return c, nil
}

// url names an object as users write it.
func (c *connection) url(key string) string { return "s3://" + c.bucket + "/" + key }

// get returns the client, building it on first use.
func (c *connection) get(ctx context.Context) (*s3.Client, error) {
	c.once.Do(func() { c.client, c.err = c.build(ctx) })
	return c.client, c.err
}

func (c *connection) build(ctx context.Context) (*s3.Client, error) {
	tc, err := tlsconf.Config(c.conf)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		if tc != nil {
			t.TLSClientConfig = tc
		}
	})
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(hc)}
	if c.region != "" {
		opts = append(opts, config.WithRegion(c.region))
	}
	if c.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.profile))
	}
	if c.keyID != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.keyID, c.secret, c.token)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	// Frozen into a plain client of our own (after the AWS chain applied
	// AWS_CA_BUNDLE to it), so that Close can drop its idle connections:
	// a source or sink leaves no goroutines behind when it closes.
	if b, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		c.http = b.Freeze().(*http.Client)
		cfg.HTTPClient = c.http
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.endpoint != "" {
			o.BaseEndpoint = aws.String(c.endpoint)
		}
		o.UsePathStyle = c.pathStyle
		// Checksums only when the operation requires them: many
		// S3-compatible stores reject the newer trailing checksums.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return client, nil
}

// closeIdle drops the client's idle connections.
func (c *connection) closeIdle() {
	if c.http != nil {
		c.http.CloseIdleConnections()
	}
}
