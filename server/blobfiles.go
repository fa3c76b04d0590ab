package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
)

// sendfileMin is the smallest blob served from a file. Below it, one write
// from memory costs less than opening, sending and closing a file; above
// it, sendfile(2) saves copying the body into the socket, which is most of
// the CPU a large bundle costs (bench/serving: _copy_from_iter alone was 15
// % of the server's time on a 90 KB gzip body).
const sendfileMin = 32 << 10

// blobFiles keeps copies of served blobs as files named by their SHA-256,
// so that large bundles go to the socket with sendfile(2), as nginx's
// static files do. The files are derived data: the registry stays the
// truth, a missing or foreign file is simply not used, and deleting the
// directory is always safe. A blob gets its file in the background after
// it is first served from memory.
type blobFiles struct {
	dir   string
	log   *slog.Logger
	sched *scheduler.Scheduler // writes the files, kind scheduler.BlobFile

	mu   sync.RWMutex
	have map[string]blobFile
	open openFiles // descriptors kept for the fast lane

	sent atomic.Uint64 // responses whose body came from a file
}

type blobFile struct {
	size int64
	clen []string // Content-Length header value, made once
}

type blobJob struct {
	sha  string
	body []byte
}

const blobTempPrefix = ".tmp-"

// openBlobFiles prepares dir and learns the files already in it. sizes
// holds the length of every blob the registry has: a file for an unknown
// blob, or of the wrong length (a write a crash cut short), is removed.
func openBlobFiles(dir string, log *slog.Logger, sizes map[string]int64, sched *scheduler.Scheduler) (*blobFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("server: blob file cache: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("server: blob file cache: %w", err)
	}
	f := &blobFiles{dir: dir, log: log, sched: sched, have: map[string]blobFile{}}
	for _, e := range entries {
		name := e.Name()
		want, known := sizes[name]
		if known && !strings.HasPrefix(name, blobTempPrefix) && e.Type().IsRegular() {
			if info, err := e.Info(); err == nil && info.Size() == want {
				f.have[name] = newBlobFile(want)
				continue
			}
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			log.Warn("blob file cache: cannot remove a stale file", "file", name, "err", err)
		}
	}
	return f, nil
}

func newBlobFile(size int64) blobFile {
	return blobFile{size: size, clen: []string{strconv.FormatInt(size, 10)}}
}

func (f *blobFiles) lookup(sha string) (blobFile, bool) {
	f.mu.RLock()
	b, ok := f.have[sha]
	f.mu.RUnlock()
	return b, ok
}

// want asks for sha's file, with its bytes; it returns at once.
func (f *blobFiles) want(sha string, body []byte) {
	j := blobJob{sha, body}
	f.sched.Enqueue(scheduler.BlobFile, sha, func(ctx context.Context) error { return f.write(ctx, j) })
}

// write stores one blob's file: a temporary file renamed into place, so a
// reader never opens a partial one. No fsync: after a crash, a cut file
// has the wrong length and openBlobFiles removes it.
func (f *blobFiles) write(_ context.Context, j blobJob) error {
	if _, ok := f.lookup(j.sha); ok {
		return nil
	}
	tmp, err := os.CreateTemp(f.dir, blobTempPrefix)
	if err != nil {
		return err
	}
	_, err = tmp.Write(j.body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(f.dir, j.sha))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	f.mu.Lock()
	f.have[j.sha] = newBlobFile(int64(len(j.body)))
	f.mu.Unlock()
	return nil
}

// forget drops sha's file from the index (it went missing).
func (f *blobFiles) forget(sha string) {
	f.mu.Lock()
	delete(f.have, sha)
	f.mu.Unlock()
	f.open.forget(sha)
}

// close lets the kept descriptors go; the scheduler, which writes the
// files, is closed first.
func (f *blobFiles) close() { f.open.closeAll() }

// send writes the headers already set on w, then sha's file as the body:
// on the Edge's fast lane from a descriptor kept open, elsewhere with the
// connection's ReadFrom (sendfile(2) on TCP). It reports false, having
// written nothing, when the file cannot be opened: the caller serves the
// blob from memory instead.
func (f *blobFiles) send(w http.ResponseWriter, r *http.Request, sha string, b blobFile) bool {
	inner := unwrapStatus(w)
	if r.Method == http.MethodHead { // the length is known: nothing to open
		f.sent.Add(1)
		w.Header()["Content-Length"] = b.clen
		w.WriteHeader(http.StatusOK)
		return true
	}
	path := filepath.Join(f.dir, sha)
	if fw, ok := inner.(*fastWriter); ok {
		// The headers and the file in one go (see fastWriter.sendFileAt).
		if of, err := f.open.acquire(path, sha); err == nil {
			defer f.open.release(of)
			w.Header()["Content-Length"] = b.clen
			w.WriteHeader(http.StatusOK)
			// Counted before the bytes leave, so a client that has them
			// finds them counted.
			f.sent.Add(1)
			if fw.sendFileAt(of.descriptor(), b.size) {
				return true
			}
			f.sent.Add(^uint64(0))
			// Not a TCP connection: the headers are set but not sent;
			// the copy below sends them with the body.
		} else if errors.Is(err, fs.ErrNotExist) {
			f.forget(sha)
			f.log.Warn("blob file cache: a file went missing; serving from memory", "blob", sha)
			return false
		}
	}
	file, err := openBlob(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			f.forget(sha)
		}
		f.log.Warn("blob file cache: cannot open a file; serving from memory", "blob", sha, "err", err)
		return false
	}
	defer file.Close()
	f.sent.Add(1)
	w.Header()["Content-Length"] = b.clen
	w.WriteHeader(http.StatusOK)
	body := &io.LimitedReader{R: file, N: b.size}
	if rf, ok := inner.(io.ReaderFrom); ok {
		// net/http: with the headers flushed first, its ReadFrom hands the
		// body straight to the connection's sendfile instead of copying
		// its first 512 bytes through its buffer.
		if fl, ok := inner.(http.Flusher); ok {
			fl.Flush()
		}
		rf.ReadFrom(body)
	} else {
		io.Copy(w, body)
	}
	return true
}

// unwrapStatus returns the writer under the metrics middleware's
// statusWriters (which do not implement io.ReaderFrom themselves, so that
// ordinary copies keep net/http's buffering), counting the answer as a 200.
func unwrapStatus(w http.ResponseWriter) http.ResponseWriter {
	for {
		sw, ok := w.(*statusWriter)
		if !ok {
			return w
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		w = sw.ResponseWriter
	}
}
