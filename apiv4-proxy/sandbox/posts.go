package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"

	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Posts live in one bucket keyed by channel id, create_at (8 bytes, big
// endian) and post id, so a channel's posts are one key range in time
// order; a second bucket finds a post's key by its id. Deleted posts stay,
// with delete_at set, as Mattermost soft-deletes them.
var (
	bucketPosts    = []byte("posts")
	bucketPostKeys = []byte("post_keys")
)

// Mattermost's paging bounds for GET /channels/{id}/posts.
const (
	defaultPerPage = 60
	maxPerPage     = 200
	maxSincePosts  = 1000 // Mattermost's limit on a since query
)

// MarshalJSON writes Mattermost's field set: participants (null, the
// sandbox has no collapsed threads) and metadata (empty: no embeds, files,
// emojis or reactions) follow the stored fields; props is never null.
func (p Post) MarshalJSON() ([]byte, error) {
	type plain Post
	if p.Props == nil {
		p.Props = map[string]any{}
	}
	return json.Marshal(struct {
		plain
		Participants []struct{} `json:"participants"`
		Metadata     struct{}   `json:"metadata"`
	}{plain: plain(p)})
}

// postError is a post that breaks one of Mattermost's rules, with the
// AppError id and message Mattermost answers with.
type postError struct {
	id, message, detail string
}

func (e *postError) Error() string {
	return fmt.Sprintf("%v: %s (%s %s)", ErrInvalidPost, e.message, e.id, e.detail)
}

func (e *postError) Unwrap() error { return ErrInvalidPost }

func postKey(channelID string, createAt int64, id string) []byte {
	k := make([]byte, 0, len(channelID)+8+len(id))
	k = append(k, channelID...)
	k = binary.BigEndian.AppendUint64(k, uint64(createAt))
	return append(k, id...)
}

// putPost stores p under its key. Thread counts are derived, and the
// pending_post_id only travels back to the client that created the post
// (its create reply and posted event), as in Mattermost: neither is stored.
func putPost(posts, keys *bolt.Bucket, p *Post) error {
	stored := *p
	stored.ReplyCount, stored.LastReplyAt, stored.PendingPostID = 0, 0, ""
	b, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	k := postKey(p.ChannelID, p.CreateAt, p.ID)
	if err := posts.Put(k, b); err != nil {
		return err
	}
	return keys.Put([]byte(p.ID), k)
}

// loadPost reads a post by id, deleted or not.
func loadPost(tx *bolt.Tx, id string) (Post, bool, error) {
	k := tx.Bucket(bucketPostKeys).Get([]byte(id))
	if k == nil {
		return Post{}, false, nil
	}
	var p Post
	if err := json.Unmarshal(tx.Bucket(bucketPosts).Get(k), &p); err != nil {
		return Post{}, false, fmt.Errorf("decode post %s: %w", id, err)
	}
	return p, true, nil
}

// loadPostStats rebuilds the channel counters and thread sizes from the
// store at Open.
func (s *Sandbox) loadPostStats() error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPosts).ForEach(func(k, v []byte) error {
			var p Post
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decode post %x: %w", k, err)
			}
			s.countPost(&p)
			return nil
		})
	})
}

// countPost adds a stored post to the aggregates. Callers hold postMu (or
// run before the Sandbox is shared).
func (s *Sandbox) countPost(p *Post) {
	st, ok := s.stats[p.ChannelID]
	if !ok {
		return // a channel that is no longer seeded
	}
	st.lastPostAt = max(st.lastPostAt, p.CreateAt)
	if !strings.HasPrefix(p.Type, "system_") {
		st.totalMsg++
		if p.RootID == "" {
			st.totalMsgRoot++
		}
	}
	if p.RootID != "" && p.DeleteAt == 0 {
		s.replies[p.RootID]++
	}
}

// withThread fills the derived reply_count: Mattermost counts the live
// replies of the post's thread, on the root and on every reply alike.
func (s *Sandbox) withThread(p Post) Post {
	s.postMu.RLock()
	p.ReplyCount = s.replies[threadOf(p)]
	s.postMu.RUnlock()
	return p
}

// validatePost applies model.Post.IsValid's rules that a client can break.
func validatePost(p *Post) error {
	if p.Type != "" && !strings.HasPrefix(p.Type, "custom_") {
		// Mattermost's detail really says id= with the type.
		return &postError{"model.post.is_valid.type.app_error", "Invalid type.", "id=" + p.Type}
	}
	if utf8.RuneCountInString(p.Message) > MaxMessageRunes {
		return &postError{"model.post.is_valid.message_length.app_error",
			"Post Message property is longer than the maximum permitted length.", "id=" + p.ID}
	}
	if p.RootID != "" && !validID(p.RootID) {
		return &postError{"model.post.is_valid.root_id.app_error", "Invalid root id.", ""}
	}
	props, err := json.Marshal(p.Props)
	if err != nil || utf8.RuneCount(props) > maxPropsRunes {
		return &postError{"model.post.is_valid.props.app_error", "Invalid props.", "id=" + p.ID}
	}
	return nil
}

// validID is model.IsValidId: 26 ASCII letters and digits.
func validID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// CreatePost creates a post as userID, who must be a member of the channel
// (or a system admin), and tells the channel's websocket clients with a
// posted event. Errors wrap ErrUserNotFound, apiv4proxy.ErrChannelNotFound,
// ErrForbidden or ErrInvalidPost.
func (s *Sandbox) CreatePost(ctx context.Context, userID string, in PostInput) (Post, error) {
	if err := ctx.Err(); err != nil {
		return Post{}, fmt.Errorf("sandbox: create post: %w", err)
	}
	p, err := s.createPost(userID, in)
	if err != nil {
		return Post{}, fmt.Errorf("sandbox: create post in %s: %w", in.ChannelID, err)
	}
	return p, nil
}

func (s *Sandbox) createPost(userID string, in PostInput) (Post, error) {
	u, ok := s.users[userID]
	if !ok {
		return Post{}, fmt.Errorf("user %q: %w", userID, ErrUserNotFound)
	}
	ch, ok := s.channels[in.ChannelID]
	if !ok {
		return Post{}, apiv4proxy.ErrChannelNotFound
	}
	if !u.SystemAdmin() && !s.isChannelMember(userID, ch) {
		return Post{}, fmt.Errorf("%s is not a member: %w", u.Username, ErrForbidden)
	}
	p := Post{
		ID: apiv4proxy.NewID(), CreateAt: in.CreateAt, UserID: userID, ChannelID: ch.ID,
		RootID: in.RootID, Message: in.Message, Type: in.Type, Props: in.Props,
		Hashtags: parseHashtags(in.Message), PendingPostID: in.PendingPostID,
	}
	if p.CreateAt <= 0 {
		p.CreateAt = time.Now().UnixMilli()
	}
	p.UpdateAt = p.CreateAt
	if p.Props == nil {
		p.Props = map[string]any{}
	}
	if err := validatePost(&p); err != nil {
		return Post{}, err
	}

	s.postMu.Lock()
	defer s.postMu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if p.RootID != "" {
			root, ok, err := loadPost(tx, p.RootID)
			if err != nil {
				return err
			}
			// As app.CreatePost: the root must exist, be live and be a root.
			if !ok || root.DeleteAt != 0 || root.RootID != "" {
				return &postError{"api.post.create_post.root_id.app_error", "Invalid RootId parameter.", ""}
			}
			if root.ChannelID != p.ChannelID {
				return &postError{"api.post.create_post.channel_root_id.app_error",
					"Invalid ChannelId for RootId parameter.", ""}
			}
		}
		return putPost(tx.Bucket(bucketPosts), tx.Bucket(bucketPostKeys), &p)
	})
	if err != nil {
		return Post{}, err
	}
	s.countPost(&p)
	p.ReplyCount = s.replies[threadOf(p)]
	s.publishPost(eventPosted, p, ch, map[string]any{
		"sender_name": "@" + u.Username,
		"set_online":  true,
	})
	return p, nil
}

func threadOf(p Post) string {
	if p.RootID != "" {
		return p.RootID
	}
	return p.ID
}

// Post returns a live post by id for a caller who can read its channel.
// Errors wrap ErrPostNotFound or ErrForbidden.
func (s *Sandbox) Post(ctx context.Context, who *identity.Identity, postID string) (Post, error) {
	var p Post
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		p, ok, err = loadPost(tx, postID)
		return err
	})
	switch {
	case err != nil:
		return Post{}, fmt.Errorf("sandbox: get post %s: %w", postID, err)
	case !ok || p.DeleteAt != 0:
		return Post{}, fmt.Errorf("sandbox: get post %s: %w", postID, ErrPostNotFound)
	}
	ch, ok := s.channels[p.ChannelID]
	if !ok || who == nil || !s.canReadChannel(who, ch) {
		return Post{}, fmt.Errorf("sandbox: get post %s: %w", postID, ErrForbidden)
	}
	return s.withThread(p), nil
}

// loadLivePost loads a post that exists and is not deleted, else
// ErrPostNotFound.
func loadLivePost(tx *bolt.Tx, id string) (Post, error) {
	p, ok, err := loadPost(tx, id)
	if err != nil {
		return Post{}, err
	}
	if !ok || p.DeleteAt != 0 {
		return Post{}, ErrPostNotFound
	}
	return p, nil
}

// PatchPost changes a post's message, props or pin as userID: the post's
// author while a member of its channel, or a system admin (Mattermost's
// edit_post and edit_others_posts). A changed message sets edit_at; the
// channel hears post_edited. Errors wrap ErrUserNotFound, ErrPostNotFound,
// ErrForbidden or ErrInvalidPost.
func (s *Sandbox) PatchPost(ctx context.Context, userID, postID string, patch PostPatch) (Post, error) {
	u, ok := s.users[userID]
	if !ok {
		return Post{}, fmt.Errorf("sandbox: patch post %s: user %q: %w", postID, userID, ErrUserNotFound)
	}
	var p Post
	var ch *channel
	s.postMu.Lock()
	defer s.postMu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if p, err = loadLivePost(tx, postID); err != nil {
			return err
		}
		ch = s.channels[p.ChannelID]
		if ch == nil || !u.SystemAdmin() && (p.UserID != userID || !s.isChannelMember(userID, ch)) {
			return ErrForbidden
		}
		now := max(time.Now().UnixMilli(), p.UpdateAt+1)
		if patch.Message != nil && *patch.Message != p.Message {
			p.Message, p.EditAt = *patch.Message, now
			p.Hashtags = parseHashtags(p.Message)
		}
		if patch.Props != nil {
			p.Props = *patch.Props
			if p.Props == nil {
				p.Props = map[string]any{}
			}
		}
		if patch.IsPinned != nil {
			p.IsPinned = *patch.IsPinned
		}
		p.UpdateAt = now
		if err := validatePost(&p); err != nil {
			return err
		}
		return putPost(tx.Bucket(bucketPosts), tx.Bucket(bucketPostKeys), &p)
	})
	if err != nil {
		return Post{}, fmt.Errorf("sandbox: patch post %s: %w", postID, err)
	}
	p.ReplyCount = s.replies[threadOf(p)]
	s.publishPost(eventPostEdited, p, ch, nil)
	return p, nil
}

// DeletePost soft-deletes a post (and, for a root post, its replies, as
// Mattermost does) as userID: its author while a member, a team admin of
// the channel's team or a system admin (delete_post, delete_others_posts).
// The channel hears post_deleted. Errors wrap ErrUserNotFound,
// ErrPostNotFound or ErrForbidden.
func (s *Sandbox) DeletePost(ctx context.Context, userID, postID string) (Post, error) {
	u, ok := s.users[userID]
	if !ok {
		return Post{}, fmt.Errorf("sandbox: delete post %s: user %q: %w", postID, userID, ErrUserNotFound)
	}
	var p Post
	var ch *channel
	s.postMu.Lock()
	defer s.postMu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if p, err = loadLivePost(tx, postID); err != nil {
			return err
		}
		ch = s.channels[p.ChannelID]
		if ch == nil {
			return ErrForbidden
		}
		own := p.UserID == userID && s.isChannelMember(userID, ch)
		teamAdmin := s.members[userID][ch.TeamID].TeamAdmin()
		if !own && !teamAdmin && !u.SystemAdmin() {
			return ErrForbidden
		}
		now := max(time.Now().UnixMilli(), p.UpdateAt+1)
		posts, keys := tx.Bucket(bucketPosts), tx.Bucket(bucketPostKeys)
		p.DeleteAt, p.UpdateAt = now, now
		if err := putPost(posts, keys, &p); err != nil {
			return err
		}
		if p.RootID != "" {
			return nil
		}
		// The thread goes with its root. Collect first: a cursor must not
		// walk a bucket that is being written.
		var thread []Post
		prefix := []byte(p.ChannelID)
		c := posts.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r Post
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode post %x: %w", k, err)
			}
			if r.RootID == p.ID && r.DeleteAt == 0 {
				thread = append(thread, r)
			}
		}
		for _, r := range thread {
			r.DeleteAt, r.UpdateAt = now, now
			if err := putPost(posts, keys, &r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Post{}, fmt.Errorf("sandbox: delete post %s: %w", postID, err)
	}
	if p.RootID != "" {
		s.replies[p.RootID]--
	} else {
		delete(s.replies, p.ID)
	}
	s.publishPost(eventPostDeleted, p, ch, map[string]any{"delete_by": userID})
	return p, nil
}

// postList is model.PostList: order newest first, the posts by id, and
// the ids just outside the page (next is newer, prev is older). HasNext is
// a field newer Mattermost versions send: true when more posts lie beyond
// the page in the direction of the query (older, or newer for after=).
type postList struct {
	Order      []string        `json:"order"`
	Posts      map[string]Post `json:"posts"`
	NextPostID string          `json:"next_post_id"`
	PrevPostID string          `json:"prev_post_id"`
	HasNext    bool            `json:"has_next"`
}

// postsQuery is GET /channels/{id}/posts's query: since wins over after,
// after over before, as in Mattermost's getPostsForChannel.
type postsQuery struct {
	page, perPage int
	since         int64
	before, after string
}

// channelPosts answers a postsQuery. A page is cut from the channel's live
// posts, newest first; with since, every post changed after it comes back,
// deleted ones included so a client can drop them, without cursors. Like
// Mattermost, the root of a reply on the page comes along in posts (not in
// order).
func (s *Sandbox) channelPosts(channelID string, q postsQuery) (postList, error) {
	var all []Post // oldest first, deleted included
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(channelID)
		c := tx.Bucket(bucketPosts).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var p Post
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decode post %x: %w", k, err)
			}
			all = append(all, p)
		}
		return nil
	})
	if err != nil {
		return postList{}, err
	}
	list := postList{Order: []string{}, Posts: map[string]Post{}}
	add := func(p Post) {
		list.Order = append(list.Order, p.ID)
		list.Posts[p.ID] = p
	}
	if q.since > 0 {
		for i := len(all) - 1; i >= 0 && len(list.Order) < maxSincePosts; i-- {
			if all[i].UpdateAt > q.since {
				add(all[i])
			}
		}
		s.fillThreads(&list)
		return list, nil
	}

	var live []Post // newest first
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].DeleteAt == 0 {
			live = append(live, all[i])
		}
	}
	// The anchor of before/after may be deleted or unknown: Mattermost
	// compares create_at with whatever post has the id, if any.
	anchorAt, anchored := int64(0), false
	if anchor := q.before + q.after; anchor != "" {
		for _, p := range all {
			if p.ID == anchor {
				anchorAt, anchored = p.CreateAt, true
			}
		}
	}
	// lo..hi is the page, as positions in live.
	lo, hi := 0, 0
	skip := min(q.page, len(live)) * q.perPage
	switch {
	case q.after != "":
		// The posts just newer than the anchor, oldest first, then turned
		// round: live is newest first, so they end at the anchor.
		end := 0
		for end < len(live) && anchored && live[end].CreateAt > anchorAt {
			end++
		}
		hi = max(end-skip, 0)
		lo = max(hi-q.perPage, 0)
		list.HasNext = lo > 0
	case q.before != "":
		start := len(live)
		if anchored {
			start = 0
			for start < len(live) && live[start].CreateAt >= anchorAt {
				start++
			}
		}
		lo = min(start+skip, len(live))
		hi = min(lo+q.perPage, len(live))
		list.HasNext = hi < len(live)
	default:
		lo = min(skip, len(live))
		hi = min(lo+q.perPage, len(live))
		list.HasNext = hi < len(live)
	}
	for _, p := range live[lo:hi] {
		add(p)
	}

	// Cursor ids as app.AddCursorIdsForPostList: the first page of a plain
	// query has no next, the first page after/before an anchor points back
	// at it, an empty page has no neighbours.
	next, prev := "", ""
	if lo > 0 && lo < hi {
		next = live[lo-1].ID
	}
	if hi < len(live) && lo < hi {
		prev = live[hi].ID
	}
	switch {
	case q.after != "" && q.page == 0:
		prev = q.after
	case q.before != "" && q.page == 0:
		next = q.before
	case q.after == "" && q.before == "" && q.page == 0:
		next = ""
	}
	list.NextPostID, list.PrevPostID = next, prev
	addRoots(&list, all)
	s.fillThreads(&list)
	return list, nil
}

// addRoots puts the live root of every reply on the page into posts.
func addRoots(list *postList, all []Post) {
	byID := make(map[string]Post, len(all))
	for _, p := range all {
		byID[p.ID] = p
	}
	for _, id := range list.Order {
		root := list.Posts[id].RootID
		if root == "" {
			continue
		}
		if p, ok := byID[root]; ok && p.DeleteAt == 0 {
			list.Posts[root] = p
		}
	}
}

func (s *Sandbox) fillThreads(list *postList) {
	s.postMu.RLock()
	defer s.postMu.RUnlock()
	for id, p := range list.Posts {
		p.ReplyCount = s.replies[threadOf(p)]
		list.Posts[id] = p
	}
}

// Mattermost's hashtag rules (model.ParseHashtags): words that start with
// # and a letter, surrounding punctuation trimmed, at most 1000 bytes.
var (
	validHashtag = regexp.MustCompile(`^(#\pL[\pL\d\-_.]*[\pL\d])$`)
	puncStart    = regexp.MustCompile(`^[^\pL\d\s#]+`)
	hashtagStart = regexp.MustCompile(`^#{2,}`)
	puncEnd      = regexp.MustCompile(`[^\pL\d\s]+$`)
)

func parseHashtags(text string) string {
	var tags []string
	for _, word := range strings.Fields(text) {
		word = puncStart.ReplaceAllString(word, "")
		word = puncEnd.ReplaceAllString(word, "")
		word = hashtagStart.ReplaceAllString(word, "#")
		if validHashtag.MatchString(word) {
			tags = append(tags, word)
		}
	}
	out := strings.Join(tags, " ")
	if len(out) > 1000 {
		out = out[:999]
		if i := strings.LastIndex(out, " "); i >= 0 {
			out = out[:i]
		} else {
			out = ""
		}
	}
	return out
}

// isPostErr unwraps a rule violation for the HTTP layer.
func isPostErr(err error) (*postError, bool) {
	var pe *postError
	ok := errors.As(err, &pe)
	return pe, ok
}
