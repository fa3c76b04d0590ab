package server

import (
	"encoding/json"
	"strconv"
	"sync/atomic"
)

// hub delivers events to websocket clients. One goroutine (run) owns the
// client set; publishers hand it a message and never wait on a client. A
// client whose send buffer is full is dropped, not waited for, so one slow
// connection cannot delay everyone else's events.
type hub struct {
	register   chan *wsClient
	unregister chan *wsClient
	revoke     chan string // a token whose session ended
	retarget   chan wsTeams
	broadcast  chan outbound
	stop       chan struct{}
	done       chan struct{}

	// pluginChanged, when set, hears of every plugin event published for
	// a team (pluginsockets.go passes it on to Mattermost's webapp).
	pluginChanged func(teamID string)

	connected atomic.Int64
	dropped   atomic.Uint64
	delivered atomic.Uint64
}

// outbound is one event and who gets it: members of TeamID, or the users in
// UserIDs, or both (intersection). OmitConn skips one connection.
type outbound struct {
	TeamID   string
	UserIDs  map[string]bool
	OmitConn string
	// Except are users left out (developers who get their own version of
	// a team's plugin event: preview.go).
	Except map[string]bool
	// body is the event without its per-connection seq: `{...` lacking the
	// closing brace, so each client's seq is appended cheaply.
	body []byte
	// count, when set, receives how many clients got the event.
	count chan<- int
}

// wsEvent is the wire shape, Mattermost's: {event, data, broadcast, seq}.
type wsEvent struct {
	Event     string      `json:"event"`
	Data      any         `json:"data"`
	Broadcast wsBroadcast `json:"broadcast"`
}

type wsBroadcast struct {
	TeamID    string `json:"team_id,omitempty"`
	ChannelID string `json:"channel_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	SenderID  string `json:"sender_id,omitempty"`
}

func newHub() *hub {
	h := &hub{
		register:   make(chan *wsClient),
		unregister: make(chan *wsClient, 64),
		revoke:     make(chan string),
		retarget:   make(chan wsTeams),
		broadcast:  make(chan outbound, 1024),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	go h.run()
	return h
}

func (h *hub) run() {
	defer close(h.done)
	clients := map[*wsClient]struct{}{}
	drop := func(c *wsClient) {
		if _, ok := clients[c]; ok {
			delete(clients, c)
			close(c.send)
			h.connected.Add(-1)
		}
	}
	for {
		select {
		case c := <-h.register:
			clients[c] = struct{}{}
			h.connected.Add(1)
		case c := <-h.unregister:
			drop(c)
		case u := <-h.retarget:
			if _, ok := clients[u.c]; ok {
				u.c.teams = u.teams
			}
		case token := <-h.revoke:
			for c := range clients {
				if c.token == token {
					c.revoked = true // read by its write pump after send is closed
					drop(c)
				}
			}
		case m := <-h.broadcast:
			n := 0
			for c := range clients {
				if !c.wants(m) {
					continue
				}
				c.seq++
				msg := make([]byte, 0, len(m.body)+16)
				msg = append(msg, m.body...)
				msg = append(msg, `,"seq":`...)
				msg = strconv.AppendUint(msg, c.seq, 10)
				msg = append(msg, '}')
				select {
				case c.send <- msg:
					n++
				default:
					h.dropped.Add(1)
					drop(c) // too slow: its write pump closes the connection
				}
			}
			h.delivered.Add(uint64(n))
			if m.count != nil {
				m.count <- n
			}
		case <-h.stop:
			for c := range clients {
				drop(c)
			}
			return
		}
	}
}

// publish queues an event. It returns at once; if count is non-nil it later
// receives the number of clients the event reached.
func (h *hub) publish(to outbound, ev wsEvent, count chan<- int) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	to.body = body[:len(body)-1]
	to.count = count
	if h.pluginChanged != nil && to.TeamID != "" {
		switch ev.Event {
		case eventPluginEnabled, eventPluginDisabled, eventPluginUpdated:
			h.pluginChanged(to.TeamID)
		}
	}
	select {
	case h.broadcast <- to:
	case <-h.done:
		if count != nil {
			count <- 0
		}
	}
	return nil
}

// wsTeams is a client's new team set.
type wsTeams struct {
	c     *wsClient
	teams map[string]bool
}

// retargetClient gives c the teams its user is in now.
func (h *hub) retargetClient(c *wsClient, teams map[string]bool) {
	select {
	case h.retarget <- wsTeams{c, teams}:
	case <-h.done:
	}
}

// revokeToken closes the sockets token opened (its session ended).
func (h *hub) revokeToken(token string) {
	select {
	case h.revoke <- token:
	case <-h.done:
	}
}

func (h *hub) close() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
}
