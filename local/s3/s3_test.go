package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/posluha/posluha/local/s3"
)

// MustServe starts a store in dir on 127.0.0.1:0 and returns an SDK client
// for it.
func MustServe(tb testing.TB, dir string) (*s3.Store, *awss3.Client, string) {
	tb.Helper()
	st, err := s3.New(dir, s3.Options{Buckets: []string{"documents"}})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(st.Handler())
	tb.Cleanup(func() { srv.Close(); st.Close() })
	return st, client(srv.URL), srv.URL
}

func client(endpoint string) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func TestSDKRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, c, _ := MustServe(t, dir)
	body := []byte("Довідка про реєстрацію місця проживання — секрет 1234567890")
	keys := []string{"e-propyska/2026/11/26/app-1/certificate.pdf", "e-propyska/2026/11/26/app-1/certificate.pdf.p7s", "e-propyska/2026/11/27/app-2/certificate.pdf", "fop-registration/2026/11/26/app-3/extract.pdf"}
	for _, k := range keys {
		_, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("documents"), Key: aws.String(k), Body: bytes.NewReader(body),
			ContentType: aws.String("application/pdf"), Metadata: map[string]string{"sha256": "abc"}})
		if err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	got, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("documents"), Key: aws.String(keys[0])})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	if !bytes.Equal(b, body) || got.Metadata["sha256"] != "abc" || aws.ToInt64(got.ContentLength) != int64(len(body)) {
		t.Fatalf("get = %q meta %v len %d", b, got.Metadata, aws.ToInt64(got.ContentLength))
	}
	rng, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("documents"), Key: aws.String(keys[0]), Range: aws.String("bytes=0-7")})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(rng.Body); !bytes.Equal(b, body[:8]) {
		t.Errorf("range = %q", b)
	}
	_, err = c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("documents"), Key: aws.String("nope")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("head missing = %v, want NotFound", err)
	}

	tests := []struct {
		prefix, delim string
		maxKeys       int32
		want          []string
	}{
		{"e-propyska/", "", 0, keys[:3]},
		{"e-propyska/2026/11/", "/", 0, []string{"e-propyska/2026/11/26/", "e-propyska/2026/11/27/"}},
		{"", "", 1, keys},
	}
	for _, tc := range tests {
		var got []string
		in := &awss3.ListObjectsV2Input{Bucket: aws.String("documents"), Prefix: aws.String(tc.prefix)}
		if tc.delim != "" {
			in.Delimiter = aws.String(tc.delim)
		}
		if tc.maxKeys > 0 {
			in.MaxKeys = aws.Int32(tc.maxKeys)
		}
		p := awss3.NewListObjectsV2Paginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Contents {
				got = append(got, *o.Key)
				if aws.ToInt64(o.Size) != int64(len(body)) {
					t.Errorf("list size %d", aws.ToInt64(o.Size))
				}
			}
			for _, cp := range page.CommonPrefixes {
				got = append(got, *cp.Prefix)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("list %q/%q max %d = %v, want %v", tc.prefix, tc.delim, tc.maxKeys, got, tc.want)
		}
	}

	// presigned GET works with a plain HTTP client
	url, err := awss3.NewPresignClient(c).PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("documents"), Key: aws.String(keys[0])}, awss3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url.URL)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(pb, body) {
		t.Fatalf("presigned GET = %d %q", resp.StatusCode, pb)
	}

	// encrypted at rest: no object file holds the plaintext
	filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			raw, _ := os.ReadFile(p)
			if bytes.Contains(raw, []byte("1234567890")) {
				t.Errorf("%s holds plaintext", p)
			}
		}
		return nil
	})

	// overwrite and delete
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("documents"), Key: aws.String(keys[0]), Body: strings.NewReader("v2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("documents"), Key: aws.String(keys[1])}); err != nil {
		t.Fatal(err)
	}
}

func TestDurableAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := s3.New(dir, s3.Options{Buckets: []string{"documents"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(st.Handler())
	c := client(srv.URL)
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("documents"), Key: aws.String("a/b.pdf"), Body: strings.NewReader("kept")}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	st.Close()

	_, c, _ = MustServe(t, dir)
	out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("documents"), Key: aws.String("a/b.pdf")})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(out.Body); string(b) != "kept" {
		t.Fatalf("after restart = %q", b)
	}

}

func TestExpiredPresignedURL(t *testing.T) {
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	st, err := s3.New(t.TempDir(), s3.Options{Buckets: []string{"documents"}, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(st.Handler())
	defer srv.Close()
	c := client(srv.URL)
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("documents"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ttl  time.Duration
		want int
	}{{5 * time.Minute, http.StatusForbidden}, {2 * time.Hour, http.StatusOK}}
	for _, tc := range tests {
		u, err := awss3.NewPresignClient(c).PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("documents"), Key: aws.String("k")}, awss3.WithPresignExpires(tc.ttl))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(u.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("presigned for %v, an hour later = %d, want %d", tc.ttl, resp.StatusCode, tc.want)
		}
	}
}

// BenchmarkPutGet measures the store through the SDK on loopback: a 64 KB
// document written (encrypted, fsynced) and read back.
func BenchmarkPutGet(b *testing.B) {
	ctx := context.Background()
	_, c, _ := MustServe(b, b.TempDir())
	body := bytes.Repeat([]byte("document "), 64<<10/9)
	b.SetBytes(int64(len(body)))
	for i := 0; b.Loop(); i++ {
		key := aws.String("bench/" + strings.Repeat("x", i%7) + time.Now().Format("150405.000000000"))
		if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("documents"), Key: key, Body: bytes.NewReader(body)}); err != nil {
			b.Fatal(err)
		}
		out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("documents"), Key: key})
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, out.Body)
		out.Body.Close()
	}
}
