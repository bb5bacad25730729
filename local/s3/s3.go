// Package s3 is the local stack's S3-compatible object store: the S3 REST
// protocol from gofakes3 in front of a durable backend written here.
//
// Why not versitygw: the design prefers versitygw's posix backend, but the
// module proxy this project builds from does not serve
// github.com/versity/versitygw, and its gateway is a fiber application
// with a large dependency tree (cloud SDKs for its other backends) rather
// than an http.Handler. gofakes3 v1.2.0 is an http.Handler with a
// pluggable Backend; its bundled backends keep objects in memory (s3mem) or
// whole inside one bbolt file through a BSON codec (s3bolt). So the
// backend here is posix-like, as versitygw's: object bytes are files
// under dir/objects, the index (key → size, ETag, metadata, time) is a
// bbolt file whose B+tree keeps keys sorted for ListObjects, and every
// write is fsynced before it is acknowledged.
//
// Encryption at rest: every object file is sealed with AES-256-GCM under
// the store key (Options.Key, e.g. from POSLUHA_S3_KEY; without one a
// random key is created in dir/store.key, mode 0600), with the bucket and
// key as associated data so files cannot be swapped between keys
// unnoticed. As with SSE in AWS, the ETag is the MD5 of the stored bytes,
// not of the plaintext. Index metadata (sizes, user metadata) is not
// encrypted, so it must not hold personal data; our functions keep
// personal data only in object bodies.
//
// Not implemented: request authentication (any signature is accepted;
// presigned URLs work and their expiry is enforced), versioning, object
// locking, retention. Objects are read into memory whole (documents are small).
package s3

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/johannesboyne/gofakes3"
	bolt "go.etcd.io/bbolt"
)

// Options configure a Store.
type Options struct {
	// Key is the 32-byte AES-256 key objects are encrypted with. Empty:
	// read or create dir/store.key.
	Key []byte
	// Buckets are created at start when missing.
	Buckets []string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Store is a durable, encrypting S3-compatible store in a directory.
type Store struct {
	dir  string
	db   *bolt.DB
	aead cipher.AEAD
	now  func() time.Time
	fake *gofakes3.GoFakeS3
}

// New opens (or creates) the store in dir.
func New(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "objects"), 0o700); err != nil {
		return nil, fmt.Errorf("s3 store %s: %w", dir, err)
	}
	key := opts.Key
	if len(key) == 0 {
		var err error
		if key, err = loadOrCreateKey(filepath.Join(dir, "store.key")); err != nil {
			return nil, err
		}
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("s3 store: key is %d bytes, want 32 (AES-256)", len(key))
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, "index.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("s3 store index: %w", err)
	}
	s := &Store{dir: dir, db: db, aead: aead, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	for _, b := range opts.Buckets {
		if err := s.CreateBucket(b); err != nil && !errors.Is(err, errBucketExists) {
			db.Close()
			return nil, err
		}
	}
	s.fake = gofakes3.New(s, gofakes3.WithoutVersioning(), gofakes3.WithTimeSource(clock{s.now}),
		gofakes3.WithLogger(gofakes3.DiscardLog()), gofakes3.WithTimeSkewLimit(0))
	return s, nil
}

func loadOrCreateKey(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err == nil {
		k, err := hex.DecodeString(string(bytes.TrimSpace(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read store key: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write store key: %w", err)
	}
	return k, nil
}

// Handler serves the S3 REST API (path-style). A presigned URL past its
// X-Amz-Date + X-Amz-Expires is refused with 403, as S3 does; signatures
// themselves are not checked (the local store has no secrets).
func (s *Store) Handler() http.Handler {
	inner := s.fake.Server()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if d, e := q.Get("X-Amz-Date"), q.Get("X-Amz-Expires"); d != "" && e != "" {
			signed, err1 := time.Parse("20060102T150405Z", d)
			secs, err2 := strconv.Atoi(e)
			if err1 != nil || err2 != nil || s.now().After(signed.Add(time.Duration(secs)*time.Second)) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusForbidden)
				io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`)
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
}

// Close closes the index.
func (s *Store) Close() error { return s.db.Close() }

type clock struct{ now func() time.Time }

func (c clock) Now() time.Time                  { return c.now() }
func (c clock) Since(t time.Time) time.Duration { return c.now().Sub(t) }

// entry is an object's index record.
type entry struct {
	Size     int64             `json:"size"`
	Hash     []byte            `json:"md5"` // of the stored (encrypted) file
	Modified time.Time         `json:"modified"`
	Meta     map[string]string `json:"meta,omitempty"`
	File     string            `json:"file"` // relative to dir/objects
}

func (s *Store) seal(bucket, key string, plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(bucket+"/"+key)), nil
}

func (s *Store) open(bucket, key string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("object %s/%s: file too short", bucket, key)
	}
	p, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(bucket+"/"+key))
	if err != nil {
		return nil, fmt.Errorf("object %s/%s: decrypt: %w", bucket, key, err)
	}
	return p, nil
}

// fileFor names a new file for a write of key. It spreads objects over 256×256 directories by a hash of the key, so
// no directory grows past a few thousand files at millions of objects.
func fileFor(bucket, key string) string {
	h := sha256.Sum256([]byte(bucket + "\x00" + key))
	x := hex.EncodeToString(h[:])
	r := make([]byte, 6)
	_, _ = rand.Read(r)
	// a fresh name per write: an overwrite never touches the file the
	// index still points at
	return filepath.Join(x[:2], x[2:4], x[4:]+"-"+hex.EncodeToString(r))
}

func writeFileSync(name string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

var errBucketExists = errors.New("bucket exists")

func md5sum(b []byte) []byte {
	h := md5.Sum(b)
	return h[:]
}

func readAll(r io.Reader, size int64) ([]byte, error) { return gofakes3.ReadAll(r, size) }

func encodeEntry(e entry) ([]byte, error) { return json.Marshal(e) }

func decodeEntry(b []byte) (entry, error) {
	var e entry
	err := json.Unmarshal(b, &e)
	return e, err
}
