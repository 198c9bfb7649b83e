package upload

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 stores each upload as an object in a bucket of an S3-compatible object store (SeaweedFS,
// MinIO, Alibaba OSS, Tencent COS), so that several instances serve the same files. The bucket is
// private: the bytes are only ever served through the API's signed links.
type S3 struct {
	client *minio.Client
	core   minio.Core
	bucket string
	prefix string // "" or "some/prefix/"
	where  string // endpoint/bucket/prefix, for messages (no credentials)
}

// S3Location is a parsed storage URL:
// s3://ACCESS_KEY:SECRET_KEY@HOST[:PORT]/BUCKET[/PREFIX]?region=R&secure=false&lookup=path.
type S3Location struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	Prefix    string
	Region    string
	Secure    bool
	Lookup    minio.BucketLookupType
}

// ParseS3URL reads a storage URL (see S3Location). secure defaults to true (HTTPS); lookup is
// path (host/bucket/key, what SeaweedFS and MinIO answer), dns (bucket.host/key, what OSS and COS
// want) or auto (the default: the client library's guess from the host name).
func ParseS3URL(raw string) (S3Location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return S3Location{}, fmt.Errorf("storage URL: %w", errors.Unwrap(err))
	}
	if u.Scheme != "s3" {
		return S3Location{}, fmt.Errorf("storage URL must start with s3://, got %q", u.Scheme+"://")
	}
	if u.Host == "" {
		return S3Location{}, errors.New("storage URL has no host: s3://KEY:SECRET@HOST:PORT/BUCKET")
	}
	loc := S3Location{Endpoint: u.Host, Secure: true}
	if u.User != nil {
		loc.AccessKey = u.User.Username()
		loc.SecretKey, _ = u.User.Password()
	}
	parts := strings.SplitN(strings.Trim(u.Path, "/"), "/", 2)
	loc.Bucket = parts[0]
	if loc.Bucket == "" {
		return S3Location{}, errors.New("storage URL has no bucket: s3://KEY:SECRET@HOST:PORT/BUCKET")
	}
	if len(parts) == 2 && strings.Trim(parts[1], "/") != "" {
		loc.Prefix = strings.Trim(parts[1], "/") + "/"
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "region", "secure", "lookup":
		default:
			return S3Location{}, fmt.Errorf("storage URL: unknown parameter %q (region, secure, lookup)", k)
		}
	}
	loc.Region = q.Get("region")
	switch q.Get("secure") {
	case "", "true", "1":
	case "false", "0":
		loc.Secure = false
	default:
		return S3Location{}, fmt.Errorf("storage URL: secure must be true or false, got %q", q.Get("secure"))
	}
	switch q.Get("lookup") {
	case "", "auto":
		loc.Lookup = minio.BucketLookupAuto
	case "path":
		loc.Lookup = minio.BucketLookupPath
	case "dns":
		loc.Lookup = minio.BucketLookupDNS
	default:
		return S3Location{}, fmt.Errorf("storage URL: lookup must be path, dns or auto, got %q", q.Get("lookup"))
	}
	return loc, nil
}

// NewS3 connects to the bucket of a storage URL (see ParseS3URL). It makes no request: CheckWritable
// is the start-up check.
func NewS3(raw string) (*S3, error) {
	loc, err := ParseS3URL(raw)
	if err != nil {
		return nil, err
	}
	tr, err := minio.DefaultTransport(loc.Secure)
	if err != nil {
		return nil, err
	}
	// Many concurrent downloads go to the same store: keep their connections.
	tr.MaxIdleConnsPerHost = 64
	c, err := minio.New(loc.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(loc.AccessKey, loc.SecretKey, ""),
		Secure:       loc.Secure,
		Region:       loc.Region,
		BucketLookup: loc.Lookup,
		Transport:    tr,
	})
	if err != nil {
		return nil, fmt.Errorf("storage URL: %w", err)
	}
	scheme := "https"
	if !loc.Secure {
		scheme = "http"
	}
	return &S3{client: c, core: minio.Core{Client: c}, bucket: loc.Bucket, prefix: loc.Prefix,
		where: scheme + "://" + loc.Endpoint + "/" + loc.Bucket + "/" + loc.Prefix}, nil
}

// String is where the files are (no credentials).
func (s *S3) String() string { return s.where }

// CreateBucket makes the bucket if it does not exist yet (tests, and `shiliu uploads migrate
// --create-bucket`); a production bucket is made by its operator with its policy.
func (s *S3) CreateBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.fail("check bucket", err)
	}
	if ok {
		return nil
	}
	if err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
		if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
			return nil
		}
		return s.fail("create bucket", err)
	}
	return nil
}

func (s *S3) object(key string) (string, error) {
	if !keyRe.MatchString(key) {
		return "", fmt.Errorf("upload: bad storage key %q", key)
	}
	return s.prefix + key, nil
}

// Put sends the object in one request (or, above 16 MiB, in parts completed at once): the store
// shows an object whole or not at all, so a broken upload never leaves half a file. The size the
// store reports back is checked against what was sent.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	size := int64(-1)
	switch v := r.(type) {
	case interface{ Len() int }:
		size = int64(v.Len())
	case *os.File:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			if off, err := v.Seek(0, io.SeekCurrent); err == nil {
				size = fi.Size() - off
			}
		}
	}
	counted := &countingReader{r: r}
	info, err := s.client.PutObject(ctx, s.bucket, name, counted, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
	})
	if err != nil {
		return s.fail("store "+key, err)
	}
	if info.Size != counted.n || (size >= 0 && info.Size != size) {
		// Cannot happen with a conforming store; never keep what does not match.
		_ = s.client.RemoveObject(context.WithoutCancel(ctx), s.bucket, name, minio.RemoveObjectOptions{})
		return fmt.Errorf("upload: object store kept %d bytes of %s, %d were sent", info.Size, key, counted.n)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Size is the stored size of key, ErrNotStored when there is none.
func (s *S3) Size(ctx context.Context, key string) (int64, error) {
	name, err := s.object(key)
	if err != nil {
		return 0, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return 0, ErrNotStored
		}
		return 0, s.fail("stat "+key, err)
	}
	return info.Size, nil
}

// Open asks the store for the object's size, then returns a reader that fetches the bytes on the
// first Read, from where it was sought: a download with a Range header costs one HEAD and one
// ranged GET, and the bytes stream through without being held.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return nil, ErrNotStored
		}
		return nil, s.fail("open "+key, err)
	}
	return &s3Object{ctx: ctx, s: s, name: name, etag: info.ETag, size: info.Size}, nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	// S3 answers a delete of a missing object with success, as Disk does.
	if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return s.fail("delete "+key, err)
	}
	return nil
}

// CheckWritable stores and deletes a small object under the prefix's ".check/": the store is up,
// the credentials may write, the bucket exists and is not full.
func (s *S3) CheckWritable(ctx context.Context) error {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := s.prefix + ".check/" + hex.EncodeToString(b)
	probe := []byte("shiliu")
	if _, err := s.client.PutObject(ctx, s.bucket, name, bytes.NewReader(probe), int64(len(probe)), minio.PutObjectOptions{}); err != nil {
		return fmt.Errorf("object store %s is not writable: %w", s.where, s.classify(err))
	}
	if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("object store %s: the check object cannot be deleted: %w", s.where, s.classify(err))
	}
	return nil
}

// ErrStoreUnreachable marks an object store that did not answer: an outage, like a full disk.
var ErrStoreUnreachable = errors.New("object store unreachable")

func (s *S3) fail(what string, err error) error {
	return fmt.Errorf("object store %s: %s: %w", s.where, what, s.classify(err))
}

// classify gives the store's refusals the meaning the operating system's have for Disk, so
// storageError turns them into the same outage errors: full, not writable, unreachable.
func (s *S3) classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "XMinioStorageFull" || resp.Code == "QuotaExceeded" || resp.StatusCode == http.StatusInsufficientStorage:
		return fmt.Errorf("%w (%w)", err, syscall.ENOSPC)
	case resp.Code == "AccessDenied" || resp.Code == "InvalidAccessKeyId" || resp.Code == "SignatureDoesNotMatch" ||
		resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w (%w)", err, fs.ErrPermission)
	case resp.Code == "NoSuchBucket":
		return fmt.Errorf("%w: create the bucket %q (see docs/deploy.md) or correct uploads.storage_url", err, s.bucket)
	}
	var ne net.Error
	if errors.As(err, &ne) || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusBadGateway ||
		resp.StatusCode == http.StatusGatewayTimeout {
		return fmt.Errorf("%w (%w)", err, ErrStoreUnreachable)
	}
	return err
}

func notFound(err error) bool {
	resp := minio.ToErrorResponse(err)
	if resp.Code == "NoSuchBucket" {
		return false
	}
	return resp.Code == "NoSuchKey" || resp.Code == "NotFound" || resp.StatusCode == http.StatusNotFound
}

// s3Object is a stored object as an io.ReadSeeker: http.ServeContent seeks to answer a range,
// and the next Read fetches from there to the end (the ETag pins the version that was sized).
type s3Object struct {
	ctx  context.Context
	s    *S3
	name string
	etag string
	size int64
	off  int64
	body io.ReadCloser
}

func (o *s3Object) Read(p []byte) (int, error) {
	if o.off >= o.size {
		return 0, io.EOF
	}
	if o.body == nil {
		opts := minio.GetObjectOptions{}
		if o.etag != "" {
			_ = opts.SetMatchETag(o.etag)
		}
		if o.off > 0 {
			if err := opts.SetRange(o.off, 0); err != nil {
				return 0, err
			}
		}
		body, _, _, err := o.s.core.GetObject(o.ctx, o.s.bucket, o.name, opts)
		if err != nil {
			return 0, o.s.fail("read "+o.name, err)
		}
		o.body = body
	}
	n, err := o.body.Read(p)
	o.off += int64(n)
	if err == io.EOF && o.off < o.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (o *s3Object) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = o.off + offset
	case io.SeekEnd:
		abs = o.size + offset
	default:
		return 0, errors.New("upload: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("upload: seek before the start")
	}
	if abs != o.off && o.body != nil {
		o.body.Close()
		o.body = nil
	}
	o.off = abs
	return abs, nil
}

func (o *s3Object) Close() error {
	if o.body != nil {
		err := o.body.Close()
		o.body = nil
		return err
	}
	return nil
}

// Walk calls fn with every stored key under the prefix and its size (the check objects are not
// keys).
func (s *S3) Walk(ctx context.Context, fn func(key string, size int64) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			return s.fail("list", obj.Err)
		}
		key := strings.TrimPrefix(obj.Key, s.prefix)
		if !keyRe.MatchString(key) {
			continue
		}
		if err := fn(key, obj.Size); err != nil {
			return err
		}
	}
	return ctx.Err()
}
