package pluginpkg

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
)

// ReadArchive reads a plugin package from a .tar.gz stream. Limits are
// enforced while streaming, so a gzip bomb or an endless stream is stopped
// once it passes a limit, before it is buffered. Zero fields of lim take
// DefaultLimits' value; known checks slot names (nil accepts any).
//
// If the archive's top level holds exactly one directory, that directory is
// the plugin root (Mattermost's rule). Server executables (anything under
// server/dist/ and the files the manifest's server section names) are
// counted against the limits and kept apart, in Package.Server.
//
// Problems with the archive are *Error; a failure to read r is returned
// wrapped as is.
func ReadArchive(r io.Reader, lim Limits, known SlotCatalogue) (*Package, error) {
	lim = lim.withDefaults()
	ar := &archiveReader{
		src: &countingReader{r: r, max: lim.MaxArchiveBytes},
		c:   newCollector(lim),
	}
	ar.c.keepServer = true
	if err := ar.read(); err != nil {
		return nil, err
	}
	return ar.c.assemble(known)
}

// countingReader stops the stream once more than max bytes have been read,
// and remembers a failure of the underlying reader so that it is not
// mistaken for a malformed archive.
type countingReader struct {
	r    io.Reader
	n    int64
	max  int64
	over bool
	err  error // a read error of r other than io.EOF
}

var errArchiveTooLarge = errors.New("archive too large")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, errArchiveTooLarge
	}
	// Never ask for more than one byte past the limit: that byte is enough
	// to know the archive is too large.
	if left := c.max - c.n; int64(len(p)) > left {
		p = p[:left+1] // left < len(p), so this cannot overflow
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.over = true
		return 0, errArchiveTooLarge
	}
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// zeroTracker counts the zero bytes at the end of what the tar reader has
// consumed. archive/tar treats a stream that stops at an entry boundary as
// complete; the end-of-archive marker (zero blocks) is how a truncated tar is
// told from a whole one.
//
// It also stops the tar stream once it passes max: file bytes are counted
// entry by entry (collector.addFile), but headers, long names and PAX
// records are decompressed and parsed before any entry is returned.
type zeroTracker struct {
	r     io.Reader
	zeros int64
	total int64
	max   int64
	over  bool
}

var errTarTooLarge = errors.New("tar stream too large")

func (z *zeroTracker) Read(p []byte) (int, error) {
	if z.over {
		return 0, errTarTooLarge
	}
	if left := z.max - z.total; int64(len(p)) > left {
		p = p[:left+min(1, math.MaxInt64-left)]
	}
	n, err := z.r.Read(p)
	z.total += int64(n)
	if z.total > z.max {
		z.over = true
		return 0, errTarTooLarge
	}
	i := n
	for i > 0 && p[i-1] == 0 {
		i--
	}
	if i == 0 {
		z.zeros += int64(n)
	} else {
		z.zeros = int64(n - i)
	}
	return n, err
}

type archiveReader struct {
	src *countingReader
	zt  *zeroTracker
	c   *collector
}

// fail turns an error met while decoding into the *Error it stands for:
// the size limit and the source's own failures come first, because gzip and
// tar report them as whatever they were doing at the time.
func (ar *archiveReader) fail(err error, file, doing string) error {
	switch {
	case ar.src.over || errors.Is(err, errArchiveTooLarge):
		max := ar.src.max
		return &Error{Code: CodeArchiveTooLarge, Limit: max,
			Message: fmt.Sprintf("archive is over the %s limit; remove server executables and files the plugin does not use (mmtoolkit serves client plugins)", formatBytes(max))}
	case ar.src.err != nil:
		return fmt.Errorf("pluginpkg: read archive: %w", ar.src.err)
	case ar.zt != nil && ar.zt.over || errors.Is(err, errTarTooLarge):
		lim := ar.c.lim
		return &Error{Code: CodeUnpackedTooLarge, Limit: lim.MaxUnpackedBytes,
			Message: fmt.Sprintf("the tar stream unpacks to more than the files' %s limit plus %s of headers; rebuild the archive with tar or `mmtoolkit pack` (headers and PAX records count too)", formatBytes(lim.MaxUnpackedBytes), formatBytes(lim.maxHeaderBytes()))}
	}
	what := "is corrupt"
	if errors.Is(err, io.ErrUnexpectedEOF) {
		what = "is truncated"
	}
	return &Error{Code: CodeBadArchive, File: file,
		Message: fmt.Sprintf("archive %s (%s: %v); send a complete .tar.gz, such as one made by `mmtoolkit pack` or tar -czf", what, doing, err)}
}

func (ar *archiveReader) read() error {
	gz, err := gzip.NewReader(ar.src)
	if err != nil {
		if ar.src.over || ar.src.err != nil {
			return ar.fail(err, "", "reading the gzip header")
		}
		msg := "archive is not gzip-compressed; send a .tar.gz"
		if err == io.EOF {
			msg = "archive is empty; send a .tar.gz holding plugin.json"
		}
		return &Error{Code: CodeBadArchive, Message: msg}
	}
	c := ar.c
	zt := &zeroTracker{r: gz, max: c.lim.MaxUnpackedBytes + min(c.lim.maxHeaderBytes(), math.MaxInt64-c.lim.MaxUnpackedBytes)}
	ar.zt = zt
	tr := tar.NewReader(zt)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return ar.fail(err, "", "reading a tar header")
		}
		if err := ar.entry(tr, hdr); err != nil {
			return err
		}
	}
	if zt.total == 0 {
		return &Error{Code: CodeBadArchive, Message: "archive holds no tar stream; send a .tar.gz holding plugin.json"}
	}
	if zt.zeros < 512 {
		return &Error{Code: CodeBadArchive,
			Message: "archive ends without the tar end-of-archive marker, so it is probably truncated; send the complete file"}
	}
	// Read the rest of the gzip stream: the tar may be followed by record
	// padding, the gzip trailer holds the checksum, and the compressed size
	// limit covers the whole input. The padding counts against the unpacked
	// limit so that a bomb hidden after the tar is stopped too.
	budget := c.lim.MaxUnpackedBytes - c.size
	n, err := io.Copy(io.Discard, io.LimitReader(gz, budget+min(1, math.MaxInt64-budget)))
	if err != nil {
		return ar.fail(err, "", "reading the end of the gzip stream")
	}
	if n > budget {
		return &Error{Code: CodeUnpackedTooLarge, Limit: c.lim.MaxUnpackedBytes,
			Message: fmt.Sprintf("the data after the end of the tar stream takes the archive over the %s unpacked limit; rebuild the archive with tar or `mmtoolkit pack`", formatBytes(c.lim.MaxUnpackedBytes))}
	}
	return nil
}

// entry checks one tar entry and, for a regular file worth keeping, reads it.
func (ar *archiveReader) entry(tr *tar.Reader, hdr *tar.Header) error {
	c := ar.c
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		// PAX global header, e.g. git archive's commit id: metadata only,
		// but an entry read all the same.
		return c.count("(PAX global header)", 0)
	}
	p, err := c.clean(hdr.Name)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return c.addDir(p)
	case tar.TypeReg, tar.TypeGNUSparse:
		// archive/tar reports old-style regular files (TypeRegA) as TypeReg
		// and expands sparse files to their logical Size.
	case tar.TypeSymlink, tar.TypeLink:
		kind := "a symbolic link"
		if hdr.Typeflag == tar.TypeLink {
			kind = "a hard link"
		}
		return &Error{Code: CodeLinkEntry, File: hdr.Name,
			Message: fmt.Sprintf("%s is %s to %q; packages hold only regular files and directories, so replace the link with the file it points to", hdr.Name, kind, shorten(hdr.Linkname))}
	default:
		return &Error{Code: CodeDeviceEntry, File: hdr.Name,
			Message: fmt.Sprintf("%s is %s; packages hold only regular files and directories, so remove it", hdr.Name, entryKind(hdr.Typeflag))}
	}

	if err := c.addFile(p, hdr.Size); err != nil {
		return err
	}
	if !c.keepWhileStreaming(p) {
		c.skipped[p] = true
		return nil // tr.Next discards the bytes, still counting them against the archive limit
	}
	if err := c.reserve(hdr.Size); err != nil {
		return err
	}
	data, err := readEntry(tr, hdr.Size)
	if err != nil {
		return ar.fail(err, p, "reading "+p)
	}
	c.files[p] = data
	return nil
}

func entryKind(t byte) string {
	switch t {
	case tar.TypeChar:
		return "a character device"
	case tar.TypeBlock:
		return "a block device"
	case tar.TypeFifo:
		return "a named pipe (fifo)"
	default:
		return fmt.Sprintf("a special entry (tar type %q)", t)
	}
}

// readEntry reads exactly size bytes. The buffer grows with the data that
// actually arrives rather than trusting the header: a tiny archive claiming
// a huge file must not make us allocate the claimed size.
func readEntry(r io.Reader, size int64) ([]byte, error) {
	const first = 64 << 10
	buf := make([]byte, 0, min(size, first))
	for int64(len(buf)) < size {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(size, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF && int64(len(buf)) < size {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return buf, nil
}
