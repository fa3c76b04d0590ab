package apiv4proxy

import "strconv"

// Mattermost's server numbers the events of one websocket 0, 1, 2, ... in
// a top-level "seq" member that model.WebSocketEvent always writes last
// (`..., "broadcast": {...}, "seq": 7}`, with or without spaces, with a
// trailing newline from json.Encoder). Replies to the client's own actions
// carry "seq_reply" instead and no "seq". The relay renumbers events it
// passes on after adding its own, so it only needs a message's tail: the
// functions here find and rewrite that number without parsing (or holding)
// the rest of a message, which may be megabytes.

// seqTailBytes is how much of a message's end the relay holds back while
// it streams the rest: enough for `"seq": <20 digits>}` and some spaces.
const seqTailBytes = 64

// seqInTail finds the top-level "seq" number at the end of tail, the last
// bytes of one JSON message: it returns the number and where its digits
// are. ok is false for a message that does not end with a "seq" member
// (a reply, or not an event), so it is passed on untouched.
//
// The number is the value of the top-level object's last member only:
// the message must end (after spaces) with '}' preceded directly (after
// spaces) by the digits, which rules out a nested object (its '}' would
// come first) and a string (it ends with '"'); the key must be exactly
// "seq" preceded by ',' or '{'.
func seqInTail(tail []byte) (seq int64, start, end int, ok bool) {
	i := len(tail) - 1
	for i >= 0 && isJSONSpace(tail[i]) {
		i--
	}
	if i < 0 || tail[i] != '}' {
		return 0, 0, 0, false
	}
	i--
	for i >= 0 && isJSONSpace(tail[i]) {
		i--
	}
	end = i + 1
	for i >= 0 && tail[i] >= '0' && tail[i] <= '9' {
		i--
	}
	start = i + 1
	if start == end || end-start > 18 || (tail[start] == '0' && end-start > 1) {
		return 0, 0, 0, false // no digits, too many for an int64 sum, or a leading zero
	}
	for i >= 0 && isJSONSpace(tail[i]) {
		i--
	}
	if i < 0 || tail[i] != ':' {
		return 0, 0, 0, false
	}
	i--
	for i >= 0 && isJSONSpace(tail[i]) {
		i--
	}
	const key = `"seq"`
	if i+1 < len(key) || string(tail[i+1-len(key):i+1]) != key {
		return 0, 0, 0, false
	}
	i -= len(key)
	for i >= 0 && isJSONSpace(tail[i]) {
		i--
	}
	if i < 0 || (tail[i] != ',' && tail[i] != '{') {
		return 0, 0, 0, false
	}
	n, err := strconv.ParseInt(string(tail[start:end]), 10, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	return n, start, end, true
}

// withSeq returns tail with the digits at [start, end) replaced by seq.
func withSeq(tail []byte, start, end int, seq int64) []byte {
	out := make([]byte, 0, len(tail)+20)
	out = append(out, tail[:start]...)
	out = strconv.AppendInt(out, seq, 10)
	return append(out, tail[end:]...)
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// eventIs reports whether head, the start of a JSON message, begins with
// the member "event" whose value is name, as every Mattermost event does
// (`{"event":"hello",...` or `{"event": "hello", ...`).
func eventIs(head []byte, name string) bool {
	i := skipSpace(head, 0)
	if i >= len(head) || head[i] != '{' {
		return false
	}
	i = skipSpace(head, i+1)
	const key = `"event"`
	if len(head)-i < len(key) || string(head[i:i+len(key)]) != key {
		return false
	}
	i = skipSpace(head, i+len(key))
	if i >= len(head) || head[i] != ':' {
		return false
	}
	i = skipSpace(head, i+1)
	want := `"` + name + `"`
	return len(head)-i >= len(want) && string(head[i:i+len(want)]) == want
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isJSONSpace(b[i]) {
		i++
	}
	return i
}
