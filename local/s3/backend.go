package s3

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/johannesboyne/gofakes3"
	bolt "go.etcd.io/bbolt"
)

// The index: bolt bucket "buckets" maps name → creation time; bolt bucket
// "o:<name>" maps object key → entry (JSON).
var bucketsKey = []byte("buckets")

func objectsKey(bucket string) []byte { return []byte("o:" + bucket) }

var _ gofakes3.Backend = (*Store)(nil)

// ListBuckets implements gofakes3.Backend.
func (s *Store) ListBuckets() ([]gofakes3.BucketInfo, error) {
	var out []gofakes3.BucketInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketsKey)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var t time.Time
			_ = t.UnmarshalText(v)
			out = append(out, gofakes3.BucketInfo{Name: string(k), CreationDate: gofakes3.NewContentTime(t)})
			return nil
		})
	})
	return out, err
}

// ListBucket implements gofakes3.Backend: keys in order, seeking straight
// to the prefix and the marker.
func (s *Store) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	list := gofakes3.NewObjectList()
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(objectsKey(name))
		if b == nil {
			return gofakes3.BucketNotFound(name)
		}
		c := b.Cursor()
		start := []byte(prefix.Prefix)
		if page.HasMarker && page.Marker > prefix.Prefix {
			start = []byte(page.Marker)
		}
		k, v := c.Seek(start)
		if page.HasMarker && string(k) == page.Marker {
			k, v = c.Next()
		}
		var n int64
		var match gofakes3.PrefixMatch
		lastCommon := ""
		for ; k != nil; k, v = c.Next() {
			key := string(k)
			if prefix.HasPrefix && !bytes.HasPrefix(k, []byte(prefix.Prefix)) {
				break // keys are sorted: nothing further matches
			}
			if !prefix.Match(key, &match) {
				continue
			}
			if page.MaxKeys > 0 && n >= page.MaxKeys {
				if !(match.CommonPrefix && match.MatchedPart == lastCommon) {
					list.IsTruncated = true
					break
				}
			}
			if match.CommonPrefix {
				if match.MatchedPart != lastCommon {
					list.AddPrefix(match.MatchedPart)
					lastCommon = match.MatchedPart
					n++
				}
				list.NextMarker = key
				continue
			}
			e, err := decodeEntry(v)
			if err != nil {
				return fmt.Errorf("index %s/%s: %w", name, key, err)
			}
			list.Add(&gofakes3.Content{Key: key, LastModified: gofakes3.NewContentTime(e.Modified.UTC()), ETag: gofakes3.FormatETag(e.Hash), Size: e.Size})
			list.NextMarker = key
			n++
		}
		if !list.IsTruncated {
			list.NextMarker = ""
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// CreateBucket implements gofakes3.Backend.
func (s *Store) CreateBucket(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketsKey)
		if err != nil {
			return err
		}
		if b.Get([]byte(name)) != nil {
			return fmt.Errorf("%w: %w", errBucketExists, gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, name))
		}
		t, _ := s.now().UTC().MarshalText()
		if err := b.Put([]byte(name), t); err != nil {
			return err
		}
		_, err = tx.CreateBucketIfNotExists(objectsKey(name))
		return err
	})
}

// BucketExists implements gofakes3.Backend.
func (s *Store) BucketExists(name string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(objectsKey(name)) != nil
		return nil
	})
	return ok, err
}

// DeleteBucket implements gofakes3.Backend: only an empty bucket.
func (s *Store) DeleteBucket(name string) error { return s.deleteBucket(name, false) }

// ForceDeleteBucket implements gofakes3.Backend.
func (s *Store) ForceDeleteBucket(name string) error { return s.deleteBucket(name, true) }

func (s *Store) deleteBucket(name string, force bool) error {
	var files []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(objectsKey(name))
		if b == nil {
			return gofakes3.BucketNotFound(name)
		}
		if k, _ := b.Cursor().First(); k != nil && !force {
			return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, name)
		}
		_ = b.ForEach(func(k, v []byte) error {
			if e, err := decodeEntry(v); err == nil {
				files = append(files, e.File)
			}
			return nil
		})
		if err := tx.DeleteBucket(objectsKey(name)); err != nil {
			return err
		}
		return tx.Bucket(bucketsKey).Delete([]byte(name))
	})
	for _, f := range files {
		os.Remove(filepath.Join(s.dir, "objects", f))
	}
	return err
}

func (s *Store) entry(bucket, key string) (entry, error) {
	var e entry
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(objectsKey(bucket))
		if b == nil {
			return gofakes3.BucketNotFound(bucket)
		}
		v := b.Get([]byte(key))
		if v == nil {
			return gofakes3.KeyNotFound(key)
		}
		var err error
		e, err = decodeEntry(v)
		return err
	})
	return e, err
}

// GetObject implements gofakes3.Backend: decrypts the whole object, then
// serves the requested range of it.
func (s *Store) GetObject(bucket, key string, rangeRequest *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	e, err := s.entry(bucket, key)
	if err != nil {
		return nil, err
	}
	sealed, err := os.ReadFile(filepath.Join(s.dir, "objects", e.File))
	if err != nil {
		return nil, fmt.Errorf("object %s/%s: %w", bucket, key, err)
	}
	plain, err := s.open(bucket, key, sealed)
	if err != nil {
		return nil, err
	}
	rng, err := rangeRequest.Range(int64(len(plain)))
	if err != nil {
		return nil, err
	}
	body := plain
	if rng != nil {
		body = plain[rng.Start : rng.Start+rng.Length]
	}
	return &gofakes3.Object{Name: key, Metadata: e.Meta, Size: int64(len(plain)), Contents: io.NopCloser(bytes.NewReader(body)), Hash: e.Hash, Range: rng}, nil
}

// HeadObject implements gofakes3.Backend.
func (s *Store) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	e, err := s.entry(bucket, key)
	if err != nil {
		return nil, err
	}
	return &gofakes3.Object{Name: key, Metadata: e.Meta, Size: e.Size, Contents: io.NopCloser(bytes.NewReader(nil)), Hash: e.Hash}, nil
}

// DeleteObject implements gofakes3.Backend.
func (s *Store) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	var file string
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(objectsKey(bucket))
		if b == nil {
			return gofakes3.BucketNotFound(bucket)
		}
		if v := b.Get([]byte(key)); v != nil {
			if e, err := decodeEntry(v); err == nil {
				file = e.File
			}
		}
		return b.Delete([]byte(key))
	})
	if err == nil && file != "" {
		os.Remove(filepath.Join(s.dir, "objects", file))
	}
	return gofakes3.ObjectDeleteResult{}, err
}

// PutObject implements gofakes3.Backend. The sealed bytes go to a new
// file, fsynced, then the index entry is committed (bbolt fsyncs) with the
// put conditions checked in the same transaction; the replaced file is
// removed after. An acknowledged object survives a crash; a crash in
// between leaves at most an unreferenced file, never a torn object.
func (s *Store) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	var res gofakes3.PutObjectResult
	plain, err := readAll(input, size)
	if err != nil {
		return res, err
	}
	if ok, err := s.BucketExists(bucket); err != nil || !ok {
		if err == nil {
			err = gofakes3.BucketNotFound(bucket)
		}
		return res, err
	}
	sealed, err := s.seal(bucket, key, plain)
	if err != nil {
		return res, err
	}
	e := entry{Size: int64(len(plain)), Hash: md5sum(sealed), Modified: s.now().UTC(), Meta: meta, File: fileFor(bucket, key)}
	file := filepath.Join(s.dir, "objects", e.File)
	if err := writeFileSync(file, sealed); err != nil {
		return res, fmt.Errorf("object %s/%s: %w", bucket, key, err)
	}
	rec, err := encodeEntry(e)
	if err != nil {
		return res, err
	}
	var old string
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(objectsKey(bucket))
		if b == nil {
			return gofakes3.BucketNotFound(bucket)
		}
		info := &gofakes3.ConditionalObjectInfo{}
		if v := b.Get([]byte(key)); v != nil {
			prev, err := decodeEntry(v)
			if err != nil {
				return err
			}
			info = &gofakes3.ConditionalObjectInfo{Exists: true, Hash: prev.Hash}
			old = prev.File
		}
		if conditions != nil {
			if err := gofakes3.CheckPutConditions(conditions, info); err != nil {
				return err
			}
		}
		return b.Put([]byte(key), rec)
	})
	if err != nil {
		os.Remove(file)
		return res, err
	}
	if old != "" && old != e.File {
		os.Remove(filepath.Join(s.dir, "objects", old))
	}
	return res, nil
}

// DeleteMulti implements gofakes3.Backend.
func (s *Store) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	var res gofakes3.MultiDeleteResult
	for _, k := range keys {
		if _, err := s.DeleteObject(bucket, k); err != nil {
			res.Error = append(res.Error, gofakes3.ErrorResultFromError(err))
			continue
		}
		res.Deleted = append(res.Deleted, gofakes3.ObjectID{Key: k})
	}
	return res, nil
}

// CopyObject implements gofakes3.Backend (decrypt, re-encrypt under the
// new key's associated data).
func (s *Store) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObject(s, srcBucket, srcKey, dstBucket, dstKey, meta)
}
