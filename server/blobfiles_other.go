//go:build !linux

package server

import (
	"errors"
	"os"
)

func openBlob(path string) (*os.File, error) { return os.Open(path) }

// openFiles keeps no descriptors open outside Linux: the fast lane's
// sendfile at an offset is Linux's.
type openFiles struct{}

type openFile struct{}

var errNoOpenFiles = errors.New("server: open blob files are kept on Linux only")

func (o *openFiles) acquire(path, sha string) (*openFile, error) { return nil, errNoOpenFiles }
func (o *openFiles) release(of *openFile)                        {}
func (o *openFiles) forget(sha string)                           {}
func (o *openFiles) closeAll()                                   {}
func (of *openFile) descriptor() int                             { return -1 }
