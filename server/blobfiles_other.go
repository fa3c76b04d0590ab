//go:build !linux

package server

import "os"

func openBlob(path string) (*os.File, error) { return os.Open(path) }
