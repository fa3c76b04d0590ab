package apiv4proxy

import (
	"container/list"
	"encoding/json"
	"errors"
	"sync"
)

// Sentinel errors of Socket.Inject.
var (
	// ErrSocketClosed is returned by Inject when the relayed websocket has
	// ended.
	ErrSocketClosed = errors.New("websocket closed")
	// ErrSocketBusy is returned by Inject when the socket's queue of added
	// events is full (its client reads too slowly): the socket is ended,
	// and the client reconnects and loads its plugins again, as Mattermost's
	// webapp does after every reconnect.
	ErrSocketBusy = errors.New("websocket too slow: closed")
	// ErrNotAnEvent is returned by Inject for bytes that are not one JSON
	// object without its "seq".
	ErrNotAnEvent = errors.New("not a websocket event")
)

// SocketObserver learns about the Mattermost websockets the proxy relays:
// the server uses it to know the team each session looks at and to add
// plugin_enabled / plugin_disabled events to a session's socket. Its
// methods are called from the relay's goroutines and must not block.
type SocketObserver interface {
	// SocketOpened is called once the socket's token is known (from the
	// handshake, or from the client's authentication_challenge). s may be
	// given events with Inject until SocketClosed.
	SocketOpened(s *Socket)
	// SocketAction is called for each action the client sends on an
	// opened socket ({"action":"presence","seq":3,"data":{"team_id":...}}),
	// before it is passed on.
	SocketAction(s *Socket, action string, data json.RawMessage)
	// SocketEvent is called for each of upstream's plugin events
	// (plugin_enabled, plugin_disabled) on an opened socket, with the
	// whole message as upstream sent it, after it was passed on (untouched
	// unless a SocketRewriter replaced it).
	SocketEvent(s *Socket, event string, msg []byte)
	// SocketClosed is called once when an opened socket ends.
	SocketClosed(s *Socket)
}

// SocketRewriter is implemented by an observer that replaces some of
// upstream's plugin events before the client sees them. RewriteEvent is
// called with each of upstream's plugin events on an opened socket, read
// whole, before it is passed on (and before SocketEvent): a non-nil
// result is sent in its place, renumbered as upstream's event would be
// (it must end with upstream's "seq" member). The server gives the webapp
// the team's copy of a plugin it keeps over Mattermost's
// (--plugin-conflict=mmtoolkit) instead of Mattermost's event followed by
// the team's: the webapp would load both bundles at once and keep the one
// that arrived last.
type SocketRewriter interface {
	RewriteEvent(s *Socket, event string, msg []byte) []byte
}

// SocketSource is implemented by the handler NewProxy returns: Sockets is
// its registry of relayed websockets.
type SocketSource interface {
	Sockets() *Sockets
}

// Sockets is the proxy's registry of relayed websockets: the observer to
// tell, and the numbering state of recent streams, kept after a socket
// ends so that a client reconnecting with Mattermost's connection_id and
// sequence_number resumes where it was.
type Sockets struct {
	mu       sync.Mutex
	observer SocketObserver
	streams  map[string]*list.Element // by upstream connection id; values *stream
	lru      list.List                // front: most recently used
	max      int
}

// DefaultMaxStreams bounds the numbering states Sockets keeps (about 100
// bytes each plus the sequence numbers of recent added events).
const DefaultMaxStreams = 10_000

func newSockets() *Sockets {
	return &Sockets{streams: map[string]*list.Element{}, max: DefaultMaxStreams}
}

// SetObserver sets who is told about relayed websockets; nil tells no one.
// Sockets opened before keep the observer they had.
func (ss *Sockets) SetObserver(o SocketObserver) {
	ss.mu.Lock()
	ss.observer = o
	ss.mu.Unlock()
}

func (ss *Sockets) getObserver() SocketObserver {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.observer
}

// Len is the number of numbering states kept.
func (ss *Sockets) Len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.streams)
}

// stream returns the numbering state of upstream connection id, or nil.
func (ss *Sockets) stream(connID string) *stream {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	e, ok := ss.streams[connID]
	if !ok {
		return nil
	}
	ss.lru.MoveToFront(e)
	return e.Value.(*stream)
}

// keep files st under its connection id (replacing the one under old, if
// any), dropping the least recently used states past the bound.
func (ss *Sockets) keep(st *stream, old, connID string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if e, ok := ss.streams[old]; ok && old != "" && e.Value == st {
		ss.lru.Remove(e)
		delete(ss.streams, old)
	}
	if e, ok := ss.streams[connID]; ok {
		e.Value = st
		ss.lru.MoveToFront(e)
	} else {
		ss.streams[connID] = ss.lru.PushFront(st)
	}
	for len(ss.streams) > ss.max {
		e := ss.lru.Back()
		ss.lru.Remove(e)
		delete(ss.streams, e.Value.(*stream).id())
	}
}

// maxInjectedKept bounds the sequence numbers of added events a stream
// remembers for reconnects; a client that missed more than this many
// starts a fresh stream (Mattermost's own dead queue holds 128 events).
const maxInjectedKept = 128

// stream is the numbering of one upstream websocket connection as the
// client sees it. Upstream numbers its events u = 0, 1, 2, ...; the relay
// adds events of its own, so the client sees upstream event u as
// u + injected, injected counting the events added since upstream's hello.
type stream struct {
	mu       sync.Mutex
	connID   string
	injected int64   // events added since hello
	added    []int64 // client numbers of the last maxInjectedKept added events, ascending
	// forgotten is the highest client number of an added event no longer
	// in added, -1 if none.
	forgotten int64
	next      int64 // the client's next number
}

func (st *stream) id() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.connID
}

// upstreamEvent returns the number the client sees for upstream event u.
// u == 0 is a hello: a new stream, numbered from 0 again.
func (st *stream) upstreamEvent(u int64) int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	if u == 0 {
		st.injected, st.added, st.forgotten = 0, st.added[:0], -1
	}
	c := u + st.injected
	st.next = c + 1
	return c
}

// addEvent returns the number of an event the relay adds.
func (st *stream) addEvent() int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.next
	st.next++
	st.injected++
	if len(st.added) == maxInjectedKept {
		st.forgotten = st.added[0]
		copy(st.added, st.added[1:])
		st.added = st.added[:maxInjectedKept-1]
	}
	st.added = append(st.added, c)
	return c
}

// resume turns the sequence_number of a reconnecting client (n, the next
// number it expects) into upstream's: n less the events the relay added
// before it. The added events at n and after were lost with the old
// connection and are forgotten (the webapp reloads its plugins after a
// reconnect). ok is false when n cannot be placed: past the stream's end,
// or before the added events remembered.
func (st *stream) resume(n int64) (u int64, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if n < 0 || n > st.next {
		return 0, false
	}
	lost := 0
	for lost < len(st.added) && st.added[len(st.added)-1-lost] >= n {
		lost++
	}
	if st.forgotten >= n {
		return 0, false // an added event at n or after was forgotten
	}
	before := st.injected - int64(lost)
	if n < before {
		return 0, false
	}
	st.added = st.added[:len(st.added)-lost]
	st.injected = before
	st.next = n
	return n - before, true
}

func newStream() *stream { return &stream{forgotten: -1} }

// setID renames the stream after upstream's hello named its connection.
func (st *stream) setID(connID string) (old string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	old, st.connID = st.connID, connID
	return old
}

// socketQueue bounds the Inject calls waiting on one socket (each a batch
// of events: a team switch is one, however many plugins it changes).
const socketQueue = 64

// Socket is one relayed Mattermost websocket as a SocketObserver sees it.
type Socket struct {
	token  string
	inject chan [][]byte
	done   <-chan struct{} // closed when the relay ends
	kill   func()          // ends the relay
}

// Token is the Mattermost token the socket was opened with.
func (s *Socket) Token() string { return s.token }

// Inject adds events to the socket, in order: each is one JSON object in
// Mattermost's shape without its "seq" ({"event":...,"data":...,
// "broadcast":...}); the relay numbers them in the client's sequence and
// writes them between upstream's events, never inside one. It never waits:
// the events are queued as one batch, and a socket whose queue is full
// (socketQueue batches: a client that stopped reading) is ended
// (ErrSocketBusy), so a slow client cannot hold its caller up.
func (s *Socket) Inject(events ...[]byte) error {
	for _, event := range events {
		if len(event) < 2 || event[0] != '{' || event[len(event)-1] != '}' {
			return ErrNotAnEvent
		}
	}
	if len(events) == 0 {
		return nil
	}
	select {
	case <-s.done:
		return ErrSocketClosed
	default:
	}
	select {
	case s.inject <- events:
		return nil
	case <-s.done:
		return ErrSocketClosed
	default:
		s.kill()
		return ErrSocketBusy
	}
}
