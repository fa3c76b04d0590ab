package apiv4proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// wsRelay is one relayed websocket: the two connections, the numbering of
// the upstream stream as the client sees it, and the Socket an observer
// adds events to.
type wsRelay struct {
	p                *proxy
	client, upstream *websocket.Conn
	// wmu is held while one data message is written to the client: by
	// the upstream direction for a whole relayed message, by injectLoop
	// for an added event. gorilla/websocket allows one writer at a time.
	wmu       sync.Mutex
	st        *stream
	started   chan struct{} // closed once the numbering is known
	startOnce sync.Once
	token     string
	sock      *Socket
	// opened: the token is known (set by the relay goroutine before the
	// pumps start, or by the client's direction alone). obs is the
	// observer told of it, read by both directions.
	opened bool
	obs    atomic.Pointer[SocketObserver]
}

// observer is the observer told the socket opened, nil if none.
func (rl *wsRelay) observer() SocketObserver {
	if p := rl.obs.Load(); p != nil {
		return *p
	}
	return nil
}

func (rl *wsRelay) start() { rl.startOnce.Do(func() { close(rl.started) }) }

// open tells the observer about the socket once its token is known.
func (rl *wsRelay) open(token string) {
	if rl.opened {
		return
	}
	rl.opened = true
	rl.sock.token = token
	if obs := rl.p.sockets.getObserver(); obs != nil {
		obs.SocketOpened(rl.sock)
		rl.obs.Store(&obs)
	}
}

// maxObservedBytes bounds the client messages the relay reads as actions;
// Mattermost's actions (presence, typing, authentication) are far smaller.
const maxObservedBytes = 4 << 10

// clientToUpstream passes the client's messages on, streaming each, after
// showing small text ones to the observer (the presence action says which
// team and channel the webapp shows).
func (rl *wsRelay) clientToUpstream(errc chan<- error) {
	p, src, dst := rl.p, rl.client, rl.upstream
	for {
		typ, rd, err := src.NextReader()
		if err != nil {
			p.passClose(dst, err)
			errc <- err
			return
		}
		src.SetReadDeadline(time.Now().Add(p.idleTimeout))
		err = rl.passClientMessage(typ, rd)
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) || errors.Is(err, websocket.ErrReadLimit) {
				p.passClose(dst, err)
			}
			errc <- err
			return
		}
	}
}

func (rl *wsRelay) passClientMessage(typ int, rd io.Reader) error {
	p, dst := rl.p, rl.upstream
	bp := p.bufs.Get().(*[]byte)
	defer p.bufs.Put(bp)
	buf := *bp
	var head []byte
	whole := false
	if typ == websocket.TextMessage {
		n, err := io.ReadFull(rd, buf[:maxObservedBytes+1])
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			whole = true
		case err != nil:
			return err
		}
		head = buf[:n]
		if whole {
			rl.observe(head)
		}
	}
	dst.SetWriteDeadline(time.Now().Add(p.writeTimeout))
	wr, err := dst.NextWriter(typ)
	if err != nil {
		return err
	}
	if _, err := wr.Write(head); err != nil {
		return err
	}
	if !whole {
		if _, err := io.CopyBuffer(wr, rd, buf); err != nil {
			// wr is left unfinished: closing it would hand dst a cut
			// message as if it were whole.
			return err
		}
	}
	return wr.Close()
}

// observe shows one client message to the observer when it is an action.
func (rl *wsRelay) observe(msg []byte) {
	if !bytes.Contains(msg, []byte(`"action"`)) {
		return
	}
	var a struct {
		Action string          `json:"action"`
		Data   json.RawMessage `json:"data"`
	}
	if json.Unmarshal(msg, &a) != nil || a.Action == "" {
		return
	}
	if a.Action == "authentication_challenge" {
		var d struct {
			Token string `json:"token"`
		}
		if !rl.opened && json.Unmarshal(a.Data, &d) == nil && d.Token != "" {
			rl.open(d.Token)
		}
		return
	}
	if obs := rl.observer(); obs != nil {
		obs.SocketAction(rl.sock, a.Action, a.Data)
	}
}

// upstreamToClient passes upstream's messages on, renumbering events
// (see relayMessage).
func (rl *wsRelay) upstreamToClient(errc chan<- error) {
	p, src, dst := rl.p, rl.upstream, rl.client
	for {
		typ, rd, err := src.NextReader()
		if err != nil {
			p.passClose(dst, err)
			errc <- err
			return
		}
		src.SetReadDeadline(time.Now().Add(p.idleTimeout))
		rl.wmu.Lock()
		dst.SetWriteDeadline(time.Now().Add(p.writeTimeout))
		err = rl.relayMessage(typ, rd)
		rl.wmu.Unlock()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) || errors.Is(err, websocket.ErrReadLimit) {
				p.passClose(dst, err)
			}
			errc <- err
			return
		}
	}
}

// helloHeadBytes is how much of a message the relay reads before it
// decides whether it is upstream's hello or a plugin event;
// maxObservedEvent bounds those it reads whole (a hello for its
// connection_id, a plugin event for its observer): a plugin_enabled
// carries the plugin's settings schema.
const (
	helloHeadBytes   = 512
	maxObservedEvent = 1 << 20
)

// restOf is what is left of a message readRest did not read whole.
func restOf(whole bool, rd io.Reader) io.Reader {
	if whole {
		return nil
	}
	return rd
}

// relayMessage streams one upstream message to the client. An event's
// "seq" becomes the client's number for it (upstream's plus the events
// the relay added since hello); with nothing added, the bytes are passed
// on exactly. A hello (seq 0) starts a new numbering and names the
// connection for reconnects.
func (rl *wsRelay) relayMessage(typ int, rd io.Reader) error {
	p, dst := rl.p, rl.client
	bp := p.bufs.Get().(*[]byte)
	defer p.bufs.Put(bp)
	buf := *bp
	if typ != websocket.TextMessage {
		wr, err := dst.NextWriter(typ)
		if err != nil {
			return err
		}
		if _, err := io.CopyBuffer(wr, rd, buf); err != nil {
			return err
		}
		return wr.Close()
	}
	var head [helloHeadBytes]byte
	n, err := io.ReadFull(rd, head[:])
	whole := err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !whole {
		return err
	}
	if eventIs(head[:n], "hello") {
		msg, all, err := readRest(head[:n], whole, rd)
		if err != nil {
			return err
		}
		if all {
			rl.hello(msg)
		}
		defer rl.start()
		return rl.writeRenumbered(msg, restOf(all, rd), buf)
	}
	if obs := rl.observer(); obs != nil {
		for _, ev := range pluginEvents {
			if eventIs(head[:n], ev) {
				msg, all, err := readRest(head[:n], whole, rd)
				if err != nil {
					return err
				}
				out := msg
				if rw, ok := obs.(SocketRewriter); ok && all {
					if r := rw.RewriteEvent(rl.sock, ev, msg); r != nil {
						out = r
					}
				}
				if err := rl.writeRenumbered(out, restOf(all, rd), buf); err != nil {
					return err
				}
				if all {
					obs.SocketEvent(rl.sock, ev, msg)
				}
				return nil
			}
		}
	}
	if whole {
		rd = nil
	}
	return rl.writeRenumbered(head[:n], rd, buf)
}

// pluginEvents are upstream's events an observer is shown.
var pluginEvents = [...]string{"plugin_enabled", "plugin_disabled"}

// readRest reads the rest of a message after head, up to
// maxObservedEvent bytes in all, for the small events the relay looks
// into. whole is false when the message goes on: the caller streams the
// rest and does not look into it.
func readRest(head []byte, headWhole bool, rd io.Reader) (msg []byte, whole bool, err error) {
	msg = append([]byte(nil), head...)
	if headWhole {
		return msg, true, nil
	}
	rest, err := io.ReadAll(io.LimitReader(rd, maxObservedEvent-int64(len(head))+1))
	if err != nil {
		return nil, false, err
	}
	msg = append(msg, rest...)
	return msg, len(msg) <= maxObservedEvent, nil
}

// hello files the stream under the connection id upstream's hello names.
func (rl *wsRelay) hello(msg []byte) {
	var h struct {
		Data struct {
			ConnectionID string `json:"connection_id"`
		} `json:"data"`
	}
	if json.Unmarshal(msg, &h) != nil || h.Data.ConnectionID == "" {
		return
	}
	old := rl.st.setID(h.Data.ConnectionID)
	rl.p.sockets.keep(rl.st, old, h.Data.ConnectionID)
}

// writeRenumbered writes head and then rest (nil: none) to the client as
// one message, holding back its last seqTailBytes until the end to put
// the client's number in place of upstream's.
func (rl *wsRelay) writeRenumbered(head []byte, rest io.Reader, buf []byte) error {
	wr, err := rl.client.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	tw := tailWriter{w: wr}
	if _, err := tw.Write(head); err != nil {
		return err
	}
	if rest != nil {
		if _, err := io.CopyBuffer(&tw, rest, buf); err != nil {
			return err // wr unfinished: the client must not see a cut message as whole
		}
	}
	tail := tw.tail
	if u, start, end, ok := seqInTail(tail); ok {
		if c := rl.st.upstreamEvent(u); c != u {
			tail = withSeq(tail, start, end, c)
		}
	}
	if _, err := wr.Write(tail); err != nil {
		return err
	}
	return wr.Close()
}

// tailWriter writes through to w all but the last seqTailBytes written.
type tailWriter struct {
	w    io.Writer
	tail []byte
	arr  [2 * seqTailBytes]byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	if t.tail == nil {
		t.tail = t.arr[:0]
	}
	n := len(p)
	if len(t.tail)+len(p) <= seqTailBytes {
		t.tail = append(t.tail, p...)
		return n, nil
	}
	flush := len(t.tail) + len(p) - seqTailBytes
	if flush <= len(t.tail) {
		if _, err := t.w.Write(t.tail[:flush]); err != nil {
			return 0, err
		}
		kept := copy(t.tail, t.tail[flush:])
		t.tail = append(t.tail[:kept], p...)
		return n, nil
	}
	if _, err := t.w.Write(t.tail); err != nil {
		return 0, err
	}
	cut := flush - len(t.tail)
	if _, err := t.w.Write(p[:cut]); err != nil {
		return 0, err
	}
	t.tail = append(t.tail[:0], p[cut:]...)
	return n, nil
}

// injectLoop writes the events the observer adds, once the numbering is
// known (a fresh stream's first event must be upstream's hello, numbered
// 0), each between two of upstream's messages.
func (rl *wsRelay) injectLoop(done <-chan struct{}) {
	select {
	case <-done:
		return
	case <-rl.started:
	}
	for {
		select {
		case <-done:
			return
		case batch := <-rl.sock.inject:
			for _, ev := range batch {
				if err := rl.writeAdded(ev); err != nil {
					rl.sock.kill() // the pumps see it and end the relay
					return
				}
			}
		}
	}
}

// Sockets is the proxy's registry of relayed websockets (SocketSource).
func (p *proxy) Sockets() *Sockets { return p.sockets }

// writeAdded numbers one added event and writes it to the client, between
// two of upstream's messages.
func (rl *wsRelay) writeAdded(ev []byte) error {
	rl.wmu.Lock()
	defer rl.wmu.Unlock()
	c := rl.st.addEvent()
	msg := make([]byte, 0, len(ev)+28)
	msg = append(msg, ev[:len(ev)-1]...)
	msg = append(msg, `,"seq":`...)
	msg = strconv.AppendInt(msg, c, 10)
	msg = append(msg, '}')
	rl.client.SetWriteDeadline(time.Now().Add(rl.p.writeTimeout))
	return rl.client.WriteMessage(websocket.TextMessage, msg)
}

// resumeQuery rewrites the query of a reconnect: Mattermost's webapp sends
// connection_id (upstream's, from its hello) and sequence_number (the next
// event it expects, in its own numbering). sequence_number becomes
// upstream's number, and the stream's numbering is returned. A connection
// the relay has no numbering for, or a number it cannot place, loses both
// parameters: upstream then starts a fresh stream with a new hello, which
// makes the webapp resynchronise, as Mattermost itself does for a
// connection id it no longer has.
func (p *proxy) resumeQuery(raw string) (string, *stream) {
	connID, hasID := queryValue(raw, "connection_id")
	if !hasID || connID == "" {
		return raw, nil
	}
	if st := p.sockets.stream(connID); st != nil {
		seq, _ := queryValue(raw, "sequence_number")
		if n, err := strconv.ParseInt(seq, 10, 64); err == nil {
			if u, ok := st.resume(n); ok {
				return setQueryValue(raw, "sequence_number", strconv.FormatInt(u, 10)), st
			}
		}
	}
	return setQueryValue(setQueryValue(raw, "connection_id", ""), "sequence_number", ""), nil
}

// queryValue is the first value of key in a raw query.
func queryValue(raw, key string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == key {
			v, err := url.QueryUnescape(v)
			return v, err == nil
		}
	}
	return "", false
}

// setQueryValue replaces every key=... of a raw query by key=value, or
// drops them for an empty value, keeping the other parameters as they
// were, in their order.
func setQueryValue(raw, key, value string) string {
	var b strings.Builder
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, _, _ := strings.Cut(kv, "=")
		if k == key {
			if value == "" {
				continue
			}
			kv = key + "=" + url.QueryEscape(value)
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv)
	}
	return b.String()
}
