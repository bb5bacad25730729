package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/posluha/posluha/local/s3"
)

func put(tb testing.TB, c *awss3.Client, key string, body []byte, meta map[string]string) {
	tb.Helper()
	_, err := c.PutObject(context.Background(), &awss3.PutObjectInput{Bucket: aws.String("documents"), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String("application/pdf"), Metadata: meta})
	if err != nil {
		tb.Fatal(err)
	}
}

func get(tb testing.TB, c *awss3.Client, key string) ([]byte, map[string]string) {
	tb.Helper()
	out, err := c.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String("documents"), Key: aws.String(key)})
	if err != nil {
		tb.Fatalf("get %s: %v", key, err)
	}
	b, _ := io.ReadAll(out.Body)
	return b, out.Metadata
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	_, oldC, oldURL := MustServe(t, t.TempDir())
	_, newC, newURL := MustServe(t, t.TempDir())
	var keys []string
	for i := range 40 {
		key := fmt.Sprintf("e-propyska/2026/11/%02d/app-%d/certificate.pdf", i%3+1, i)
		if i%2 == 0 {
			key = fmt.Sprintf("a/%03d.p7s", i)
		}
		body := []byte(strings.Repeat(key, 100))
		put(t, oldC, key, body, map[string]string{"sha256": sha(body)})
		keys = append(keys, key)
	}
	// the application already wrote a newer version to the new store
	put(t, newC, keys[1], []byte("newer"), nil)
	ckpt := filepath.Join(t.TempDir(), "migrate.ckpt")

	// a first, partial run (only a/) then the full run resumes
	var out bytes.Buffer
	if err := s3.Migrate(ctx, s3.MigrateOptions{From: oldURL + "/documents/a/", To: newURL + "/documents", Checkpoint: ckpt}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "20 objects, 20 copied") {
		t.Fatalf("partial run: %s", out.String())
	}
	out.Reset()
	if err := s3.Migrate(ctx, s3.MigrateOptions{From: oldURL + "/documents", To: newURL + "/documents", Checkpoint: ckpt, Progress: true}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "40 objects, 19 copied") || !strings.Contains(out.String(), "21 already there") {
		t.Fatalf("full run: %s", out.String())
	}
	for i, k := range keys {
		b, meta := get(t, newC, k)
		if i == 1 {
			if string(b) != "newer" {
				t.Errorf("migration overwrote the application's newer %s", k)
			}
			continue
		}
		if want := strings.Repeat(k, 100); string(b) != want || meta["sha256"] != sha(b) {
			t.Errorf("%s: copy differs (meta %v)", k, meta)
		}
	}
	lines, _ := os.ReadFile(ckpt)
	if n := strings.Count(string(lines), "\n"); n != 40 {
		t.Errorf("checkpoint has %d keys, want 40", n)
	}
}

func TestBackup(t *testing.T) {
	ctx := context.Background()
	_, c, url := MustServe(t, t.TempDir())
	put(t, c, "e-propyska/2026/11/26/app/certificate.pdf", []byte("%PDF"), map[string]string{"sha256": sha([]byte("%PDF"))})
	put(t, c, "verify/EP-1.json", []byte("{}"), nil)
	dir := t.TempDir()
	var out bytes.Buffer
	if err := s3.Backup(ctx, s3.MigrateOptions{From: url + "/documents", To: "file://" + dir}, &out); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "data", "e-propyska/2026/11/26/app/certificate.pdf")); err != nil || string(b) != "%PDF" {
		t.Fatalf("backup file = %q, %v", b, err)
	}
	out.Reset()
	if err := s3.Backup(ctx, s3.MigrateOptions{From: url + "/documents", To: "file://" + dir}, &out); err != nil || !strings.Contains(out.String(), "0 copied") {
		t.Fatalf("second backup: %s %v", out.String(), err)
	}
	// restore into an empty store
	_, c2, url2 := MustServe(t, t.TempDir())
	if err := s3.Migrate(ctx, s3.MigrateOptions{From: "file://" + dir, To: url2 + "/documents"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if b, _ := get(t, c2, "verify/EP-1.json"); string(b) != "{}" {
		t.Errorf("restored %q", b)
	}
}

func TestMigrateBadURL(t *testing.T) {
	for _, u := range []string{"ftp://x/y", "http://127.0.0.1:1", "::"} {
		if err := s3.Migrate(context.Background(), s3.MigrateOptions{From: u, To: "file:///tmp/x"}, io.Discard); err == nil {
			t.Errorf("Migrate from %q succeeded", u)
		}
	}
}

func BenchmarkMigrate(b *testing.B) {
	ctx := context.Background()
	_, oldC, oldURL := MustServe(b, b.TempDir())
	const n, size = 32, 256 << 10
	body := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	for i := range n {
		put(b, oldC, fmt.Sprintf("doc/%03d.pdf", i), body, nil)
	}
	b.SetBytes(n * size)
	for b.Loop() {
		_, _, newURL := MustServe(b, b.TempDir())
		if err := s3.Migrate(ctx, s3.MigrateOptions{From: oldURL + "/documents", To: newURL + "/documents"}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
