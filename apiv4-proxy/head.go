package apiv4proxy

import (
	"bufio"
	"bytes"
	"golang.org/x/net/http/httpguts"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// answerHead is what parseAnswerHead reuses from one answer to the next on
// a connection: the response, its header map and its body reader. The
// header values themselves are new for each answer, since the map's
// slices are handed to the client's ResponseWriter, which may write them
// after the exchange ended (net/http does, when the handler returns).
type answerHead struct {
	resp http.Response
	hdr  http.Header
	body lengthBody
}

// parseAnswerHead reads, when it is all in br's buffer and of the usual
// kind, the head of an answer to r: an HTTP/1.1 status line with a final
// status, CRLF line ends, valid header fields, one Content-Length, and no
// Transfer-Encoding, Trailer or Pragma (which http.ReadResponse rewrites).
// For such a head it gives what http.ReadResponse gives, with two
// allocations instead of about ten; for any other it reports false having
// consumed nothing, and the caller reads it with http.ReadResponse
// (TestParseAnswerHeadMatchesReadResponse compares the two).
func (a *answerHead) parse(br *bufio.Reader, r *http.Request) (*http.Response, bool) {
	if r.Method == http.MethodHead {
		return nil, false // the length describes a body that is not sent
	}
	buf, _ := br.Peek(br.Buffered())
	end := bytes.Index(buf, headEnd)
	if end < 0 {
		return nil, false
	}
	raw := buf[:end+2] // each line with its CRLF
	line, rest, _ := bytes.Cut(raw, crlf)
	if len(line) < 12 || string(line[:9]) != "HTTP/1.1 " || (len(line) > 12 && line[12] != ' ') ||
		!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) {
		return nil, false
	}
	status := int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if status < 200 || status > 599 || status == http.StatusNoContent || status == http.StatusNotModified {
		return nil, false
	}
	s := string(raw) // the one copy: names and values are its substrings
	if !httpguts.ValidHeaderFieldValue(s[12:len(line)]) {
		return nil, false
	}
	values := make([]string, bytes.Count(rest, crlf))
	if a.hdr == nil {
		a.hdr = make(http.Header, len(values))
	} else {
		clear(a.hdr)
	}
	h := a.hdr
	for i, fields := 0, s[len(line)+2:]; fields != ""; i++ {
		var l string
		l, fields, _ = strings.Cut(fields, "\r\n")
		name, value, ok := strings.Cut(l, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) { // also a line starting with a space (obs-fold)
			return nil, false
		}
		if value = strings.Trim(value, " \t"); !httpguts.ValidHeaderFieldValue(value) {
			return nil, false
		}
		key := textproto.CanonicalMIMEHeaderKey(name) // no copy when already canonical
		switch key {
		case "Transfer-Encoding", "Trailer", "Pragma":
			return nil, false
		}
		if vv, ok := h[key]; ok {
			if key == "Content-Length" {
				return nil, false
			}
			h[key] = append(vv, value)
			continue
		}
		values[i] = value
		h[key] = values[i : i+1 : i+1]
	}
	cl := h["Content-Length"]
	if len(cl) != 1 {
		return nil, false // the body ends when the connection does
	}
	length, err := strconv.ParseUint(cl[0], 10, 63)
	if err != nil {
		return nil, false
	}
	closeAfter := false
	if conn, ok := h["Connection"]; ok && httpguts.HeaderValuesContainsToken(conn, "close") {
		closeAfter = true
		delete(h, "Connection") // as http.ReadResponse
	}
	br.Discard(len(raw) + 2)

	a.resp = http.Response{
		Status: s[9:len(line)], StatusCode: status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, ContentLength: int64(length), Close: closeAfter, Request: r, Body: http.NoBody,
	}
	if length > 0 {
		a.body = lengthBody{br: br, left: int64(length)}
		a.resp.Body = &a.body
	}
	return &a.resp, true
}

var (
	crlf  = []byte("\r\n")
	colon = []byte(":")
)

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// lengthBody is an answer's body of known length, read as net/http reads
// it: io.EOF with the last bytes, io.ErrUnexpectedEOF when the connection
// ends before them.
type lengthBody struct {
	br   *bufio.Reader
	left int64
}

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	switch {
	case err == io.EOF && b.left > 0:
		err = io.ErrUnexpectedEOF
	case err == nil && b.left == 0:
		err = io.EOF
	}
	return n, err
}

func (b *lengthBody) Close() error { return nil }
