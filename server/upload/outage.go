package upload

import (
	"context"
	"errors"
	"io/fs"
	"syscall"
	"time"

	"github.com/shiliu/shiliu/server/apperr"
)

// A store that refuses writes is an outage the operator ends (free space, remount), not a fault
// of the upload: the phone keeps the file and sends it again later.
var (
	ErrStorageFull = apperr.Unavailable("服务器存储空间暂时已满,附件暂时无法保存,请稍后重试").WithRetryAfter(time.Minute)
	// ErrStorageReadOnly is also a store the process may not write to (permissions).
	ErrStorageReadOnly = apperr.Unavailable("服务器存储暂时无法写入,附件暂时无法保存,请稍后重试").WithRetryAfter(time.Minute)
	// ErrStorageDown is an object store that does not answer.
	ErrStorageDown = apperr.Unavailable("服务器存储暂时无法连接,附件暂时无法保存,请稍后重试").WithRetryAfter(time.Minute)
)

// storageError turns the operating system's refusals to write into the outage errors above;
// other errors pass unchanged.
func storageError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		return ErrStorageFull.Wrap(err)
	case errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission):
		return ErrStorageReadOnly.Wrap(err)
	case errors.Is(err, ErrStoreUnreachable):
		return ErrStorageDown.Wrap(err)
	}
	return err
}

// CheckStorage answers nil when uploads can be stored now, ErrStorageFull, ErrStorageReadOnly or
// ErrStorageDown (wrapping the cause) when the store refuses writes, or the store's own error.
func (s *Service) CheckStorage(ctx context.Context) error {
	return storageError(s.store.CheckWritable(ctx))
}
