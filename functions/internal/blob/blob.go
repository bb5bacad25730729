// Package blob stores documents in S3 or any S3-compatible store (the local
// stack's embedded one, MinIO, Ceph, OpenStack Swift's S3 layer) through
// aws-sdk-go-v2.
//
// S3-compatible servers differ from AWS in two ways this package handles
// by configuration: they often want path-style addressing
// (http://host/bucket/key), and many reject or cannot validate the CRC
// checksums the SDK adds to every request since early 2025, so the client
// computes and validates checksums only when an operation requires them
// (RequestChecksumCalculation/ResponseChecksumValidation WhenRequired).
// Content integrity is instead carried by the object's SHA-256, kept in
// the metadata key "sha256" and checked by readers that care.
package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// ErrNotFound is returned (wrapped) when an object does not exist.
var ErrNotFound = errors.New("object not found")

// Object describes a stored object.
type Object struct {
	Key          string
	Size         int64
	ContentType  string
	Metadata     map[string]string // lower-case keys, without the x-amz-meta- prefix
	LastModified time.Time
	ETag         string
}

// Options configure the client for a store.
type Options struct {
	Bucket string
	// Endpoint overrides the service endpoint (S3-compatible servers);
	// empty uses AWS (or AWS_ENDPOINT_URL_S3 from the config).
	Endpoint string
	// PathStyle addresses buckets as http://host/bucket/key.
	PathStyle bool
	// SSE asks AWS S3 to encrypt objects with this server-side algorithm
	// ("aws:kms" or "AES256"); empty leaves it to the bucket default.
	SSE string
}

// Client reads and writes objects of one bucket.
type Client struct {
	s3      *s3.Client
	presign *s3.PresignClient
	opts    Options
}

// New returns a Client for the bucket in opts.
func New(cfg aws.Config, opts Options) *Client {
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return &Client{s3: c, presign: s3.NewPresignClient(c), opts: opts}
}

// Bucket is the bucket the client works on.
func (c *Client) Bucket() string { return c.opts.Bucket }

// Put stores body under key with its content type and metadata.
func (c *Client) Put(ctx context.Context, key string, body []byte, contentType string, meta map[string]string) error {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(c.opts.Bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(contentType),
		Metadata:      meta,
	}
	if c.opts.SSE != "" {
		in.ServerSideEncryption = types.ServerSideEncryption(c.opts.SSE)
	}
	if _, err := c.s3.PutObject(ctx, in); err != nil {
		return fmt.Errorf("put %s: %w", key, mapErr(err))
	}
	return nil
}

// Get reads a whole object. A missing object is ErrNotFound.
func (c *Client) Get(ctx context.Context, key string) ([]byte, Object, error) {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.opts.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, Object{}, fmt.Errorf("get %s: %w", key, mapErr(err))
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, Object{}, fmt.Errorf("get %s: read body: %w", key, err)
	}
	return body, Object{
		Key: key, Size: int64(len(body)), ContentType: aws.ToString(out.ContentType), Metadata: out.Metadata,
		LastModified: aws.ToTime(out.LastModified), ETag: aws.ToString(out.ETag),
	}, nil
}

// Head reads an object's size and metadata. A missing object is ErrNotFound.
func (c *Client) Head(ctx context.Context, key string) (Object, error) {
	out, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(c.opts.Bucket), Key: aws.String(key)})
	if err != nil {
		return Object{}, fmt.Errorf("head %s: %w", key, mapErr(err))
	}
	return Object{
		Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType), Metadata: out.Metadata,
		LastModified: aws.ToTime(out.LastModified), ETag: aws.ToString(out.ETag),
	}, nil
}

// Delete removes an object; a missing one is not an error.
func (c *Client) Delete(ctx context.Context, key string) error {
	if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(c.opts.Bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete %s: %w", key, mapErr(err))
	}
	return nil
}

// List calls fn for every object whose key starts with prefix, in key
// order, starting after the key after (for resuming); fn's error stops it.
// Metadata is not filled in (S3 lists do not return it).
func (c *Client) List(ctx context.Context, prefix, after string, fn func(Object) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(c.opts.Bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	p := s3.NewListObjectsV2Paginator(c.s3, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, mapErr(err))
		}
		for _, o := range page.Contents {
			if err := fn(Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag), LastModified: aws.ToTime(o.LastModified)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// PresignGet returns a URL that downloads key without credentials until
// ttl passes. filename, when set, makes browsers save it under that name.
func (c *Client) PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (string, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(c.opts.Bucket), Key: aws.String(key)}
	if filename != "" {
		in.ResponseContentDisposition = aws.String(fmt.Sprintf("attachment; filename=%q", filename))
	}
	req, err := c.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return req.URL, nil
}

// CreateBucket creates the client's bucket unless it exists (local stack
// and tests; in AWS the SAM template owns the bucket).
func (c *Client) CreateBucket(ctx context.Context) error {
	_, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(c.opts.Bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", c.opts.Bucket, err)
	}
	return nil
}

func mapErr(err error) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return ErrNotFound
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket" {
			return err
		}
		return ErrNotFound
	}
	return err
}

// FromEnv returns a Client configured by the environment: DOCUMENTS_BUCKET
// (required), S3_PATH_STYLE=true for S3-compatible servers, S3_SSE
// ("aws:kms" in AWS). The endpoint comes from the SDK's own
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, already in cfg.
func FromEnv(cfg aws.Config, getenv func(string) string) (*Client, error) {
	bucket := getenv("DOCUMENTS_BUCKET")
	if bucket == "" {
		return nil, errors.New("DOCUMENTS_BUCKET is required")
	}
	return New(cfg, Options{Bucket: bucket, PathStyle: getenv("S3_PATH_STYLE") == "true", SSE: getenv("S3_SSE")}), nil
}
