package upload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
)

// Sized is a store that tells the size of a stored key (ErrNotStored when none): what Migrate
// compares to skip what is already there.
type Sized interface {
	Storage
	Size(ctx context.Context, key string) (int64, error)
}

// MigrateResult counts what Migrate did.
type MigrateResult struct {
	Copied  int   // files stored in the destination by this run
	Skipped int   // files the destination had already, with the same size
	Bytes   int64 // bytes copied
	Failed  int   // files that could not be copied (the error says which); run again
	Removed int   // local files deleted after their copy was checked (removeLocal)
}

// Migrate copies every file of the directory store into dst under the same key, so that the
// upload rows point at them unchanged. A file dst already holds with the same size is skipped,
// which makes Migrate resumable: after an interruption (or with uploads still arriving on disk)
// it is run again and copies only what is missing. A Put is whole or nothing, so an interrupted
// copy leaves no half object that a rerun would take for done. With removeLocal, each local file
// is deleted once dst reports it with the same size. workers copies run at once; progress (may
// be nil) is called after each file.
func Migrate(ctx context.Context, src *Disk, dst Sized, workers int, removeLocal bool, progress func(MigrateResult)) (MigrateResult, error) {
	if workers < 1 {
		workers = 1
	}
	type job struct {
		key  string
		size int64
	}
	jobs := make(chan job)
	var (
		mu   sync.Mutex
		res  MigrateResult
		errs []error
		wg   sync.WaitGroup
	)
	done := func(update func(*MigrateResult), err error) {
		mu.Lock()
		defer mu.Unlock()
		update(&res)
		if err != nil && len(errs) < 20 {
			errs = append(errs, err)
		}
		if progress != nil {
			progress(res)
		}
	}
	copyOne := func(j job) {
		have, err := dst.Size(ctx, j.key)
		switch {
		case err == nil && have == j.size:
			if removeLocal {
				if err := src.Delete(ctx, j.key); err != nil {
					done(func(r *MigrateResult) { r.Skipped++; r.Failed++ }, fmt.Errorf("%s: %w", j.key, err))
					return
				}
				done(func(r *MigrateResult) { r.Skipped++; r.Removed++ }, nil)
				return
			}
			done(func(r *MigrateResult) { r.Skipped++ }, nil)
			return
		case err != nil && !errors.Is(err, ErrNotStored):
			done(func(r *MigrateResult) { r.Failed++ }, fmt.Errorf("%s: %w", j.key, err))
			return
		}
		p, err := src.path(j.key)
		if err != nil {
			done(func(r *MigrateResult) { r.Failed++ }, err)
			return
		}
		f, err := os.Open(p)
		if err != nil {
			done(func(r *MigrateResult) { r.Failed++ }, fmt.Errorf("%s: %w", j.key, err))
			return
		}
		err = dst.Put(ctx, j.key, f)
		f.Close()
		if err == nil {
			var got int64
			if got, err = dst.Size(ctx, j.key); err == nil && got != j.size {
				err = fmt.Errorf("stored %d bytes of %d", got, j.size)
			}
		}
		if err != nil {
			done(func(r *MigrateResult) { r.Failed++ }, fmt.Errorf("%s: %w", j.key, err))
			return
		}
		removed := 0
		if removeLocal {
			if err := src.Delete(ctx, j.key); err != nil {
				done(func(r *MigrateResult) { r.Copied++; r.Bytes += j.size; r.Failed++ }, fmt.Errorf("%s: %w", j.key, err))
				return
			}
			removed = 1
		}
		done(func(r *MigrateResult) { r.Copied++; r.Bytes += j.size; r.Removed += removed }, nil)
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				copyOne(j)
			}
		}()
	}
	walkErr := src.Walk(ctx, func(key string, size int64) error {
		select {
		case jobs <- job{key, size}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(jobs)
	wg.Wait()
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	if res.Failed > len(errs) {
		errs = append(errs, fmt.Errorf("… %d files failed in all", res.Failed))
	}
	return res, errors.Join(errs...)
}
