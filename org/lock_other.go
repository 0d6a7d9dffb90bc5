//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package org

import "context"

const flockSupported = false

func lockDir(ctx context.Context, path string) (func(), error) { return nil, errNoFlock }

func tryLockDir(path string) (func(), bool) { return nil, false }
