package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// Storage keeps the bytes of uploads under keys the service makes up (never from a client's file
// name). Disk keeps them in a local directory (the default, for one instance); S3 in a bucket of
// an S3-compatible object store (SeaweedFS, MinIO, OSS, COS), for several instances. Both pass
// the same contract tests (storage_test.go).
type Storage interface {
	Put(ctx context.Context, key string, r io.Reader) error
	// Open returns the stored bytes; ErrNotStored when the key has none. The reader may also be an
	// io.Seeker (Disk's and S3's are), which lets downloads answer range requests.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
	// CheckWritable answers nil when a new file could be stored now: readiness and the start-up
	// check ask it, so that a full or read-only store is seen before an instructor's upload fails.
	CheckWritable(ctx context.Context) error
}

// ErrNotStored is Open's answer for a key without bytes.
var ErrNotStored = errors.New("upload: not in storage")

var keyRe = regexp.MustCompile(`^[0-9a-z]+(/[0-9a-z]+)*$`)

// Disk stores each upload as a file under a directory.
type Disk struct {
	dir string
}

// NewDisk uses dir, creating it if needed.
func NewDisk(dir string) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		if abs, aerr := filepath.Abs(dir); aerr == nil {
			dir = abs
		}
		return nil, fmt.Errorf("uploads directory %s cannot be created: %w", dir, err)
	}
	return &Disk{dir: dir}, nil
}

func (d *Disk) path(key string) (string, error) {
	if !keyRe.MatchString(key) {
		return "", fmt.Errorf("upload: bad storage key %q", key)
	}
	return filepath.Join(d.dir, filepath.FromSlash(key)), nil
}

// Put writes the file under a temporary name and renames it into place, so a crash never leaves
// half a file under a key.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader) (err error) {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = io.Copy(f, r); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = ctx.Err(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

// CheckWritable writes, syncs and removes a small file in the directory: what Put needs, short of
// the rename. On a full disk or a read-only mount the write or the create fails as Put would. The
// error names the directory (absolute), which is what an operator has to fix.
func (d *Disk) CheckWritable(ctx context.Context) error {
	if err := d.writeProbe(); err != nil {
		dir := d.dir
		if abs, aerr := filepath.Abs(dir); aerr == nil {
			dir = abs
		}
		return fmt.Errorf("uploads directory %s is not writable: %w", dir, err)
	}
	return ctx.Err()
}

func (d *Disk) writeProbe() error {
	f, err := os.CreateTemp(d.dir, ".check-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write([]byte("shiliu")); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (d *Disk) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotStored
	}
	return f, err
}

func (d *Disk) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Walk calls fn with every stored key and its size, in no particular order; temporaries and
// check files are not keys.
func (d *Disk) Walk(ctx context.Context, fn func(key string, size int64) error) error {
	return filepath.WalkDir(d.dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(d.dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !keyRe.MatchString(key) {
			return nil // .put-*, .check-*, anything not made by Put
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		return fn(key, fi.Size())
	})
}

// Size is the stored size of key, ErrNotStored when there is none.
func (d *Disk) Size(_ context.Context, key string) (int64, error) {
	p, err := d.path(key)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, ErrNotStored
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// String is the directory.
func (d *Disk) String() string { return d.dir }
