//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package org

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

const flockSupported = true

// lockDir takes an exclusive flock on path, waiting (and honouring ctx)
// while another process holds it. The returned function releases it.
func lockDir(ctx context.Context, path string) (unlock func(), err error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	wait := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("org: lock %s: %w", path, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("org: waiting for the store lock %s: %w", path, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// tryLockDir is lockDir without waiting; ok is false when the lock is held.
func tryLockDir(path string) (unlock func(), ok bool) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, false
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		f.Close()
		return nil, false
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, true
}

// openLockFile opens (creating) the lock file without following a symbolic
// link: a link planted in the store directory would make the store lock,
// and create, a file elsewhere.
func openLockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("org: the store's lock file %s is a symbolic link; remove it", path)
	}
	if err != nil {
		return nil, fmt.Errorf("org: open lock file: %w", err)
	}
	return f, nil
}
