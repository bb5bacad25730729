package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/posluha/posluha/local/s3"
	"github.com/posluha/posluha/local/store"
)

// adminOptions hold the flags of storage, backup and restore.
type adminOptions struct {
	migrate s3.MigrateOptions
	data    string
	file    string
}

func (m *Main) parseStorage(args []string) error {
	if len(args) == 0 || (args[0] != "migrate" && args[0] != "backup") {
		return errors.New("usage: posluha storage migrate|backup --from URL --to URL [--checkpoint FILE] [--workers N]")
	}
	m.sub = args[0]
	fs := flag.NewFlagSet("storage "+args[0], flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	o := &m.admin.migrate
	fs.StringVar(&o.From, "from", "", "source store: http://[key:secret@]host/bucket[/prefix], s3://bucket or file:///dir")
	fs.StringVar(&o.To, "to", "", "destination store (same forms)")
	fs.StringVar(&o.Checkpoint, "checkpoint", "", "file recording copied keys, so an interrupted run resumes")
	fs.IntVar(&o.Workers, "workers", 4, "parallel copies")
	fs.BoolVar(&o.Progress, "progress", true, "draw a progress bar")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if o.From == "" || o.To == "" {
		return errors.New("storage: --from and --to are required")
	}
	return nil
}

func (m *Main) runStorage(ctx context.Context) error {
	if m.sub == "backup" {
		return s3.Backup(ctx, m.admin.migrate, m.Stderr)
	}
	return s3.Migrate(ctx, m.admin.migrate, m.Stderr)
}

func (m *Main) parseArchive(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&m.admin.data, "data", "data", "the stack's data directory")
	fs.StringVar(&m.admin.file, "file", "", "the archive (.tar.gz)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if m.admin.file == "" {
		return fmt.Errorf("%s: --file is required", name)
	}
	return nil
}

// runBackup archives the whole data directory: executions, tables, queues,
// objects and keys. The stack must be stopped, so that the archive is one
// consistent point in time; the engine store's lock tells whether it runs.
func (m *Main) runBackup(ctx context.Context) error {
	data := m.admin.data
	db, err := store.Open(filepath.Join(data, "engine.db"), store.Options{})
	if err != nil {
		return fmt.Errorf("backup: %w (stop `posluha serve` first)", err)
	}
	defer db.Close()
	f, err := os.Create(m.admin.file)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	n := 0
	err = filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		rel, _ := filepath.Rel(data, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		n++
		return err
	})
	if err == nil {
		err = errors.Join(tw.Close(), zw.Close(), f.Sync())
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(m.Stdout, "backed up %d files of %s to %s\n", n, data, m.admin.file)
	return nil
}

// runRestore unpacks an archive into an empty or missing data directory;
// it never overwrites live data.
func (m *Main) runRestore(_ context.Context) error {
	data := m.admin.data
	if entries, err := os.ReadDir(data); err == nil && len(entries) > 0 {
		return fmt.Errorf("restore: %s is not empty; restore into a new directory", data)
	}
	f, err := os.Open(m.admin.file)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tr := tar.NewReader(zr)
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		name := filepath.FromSlash(h.Name)
		if !filepath.IsLocal(name) || h.Typeflag != tar.TypeReg {
			return fmt.Errorf("restore: unexpected entry %q in the archive", h.Name)
		}
		dst := filepath.Join(data, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fs.FileMode(h.Mode)&0o700|0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, tr)
		if err = errors.Join(err, out.Sync(), out.Close()); err != nil {
			return err
		}
		n++
	}
	fmt.Fprintf(m.Stdout, "restored %d files into %s\n", n, strings.TrimSuffix(data, "/"))
	return nil
}
