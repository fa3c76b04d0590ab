package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/identity"

	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// maxPostBody bounds a post's JSON: a full message plus Mattermost's
// props limit fits.
const maxPostBody = 4 << 20

// serveCreatePost is POST /posts: 201 and the post. As Mattermost, an
// unknown channel and one the caller is not a member of are the same 403,
// and the rules (type, length, root) are checked after permissions.
func (s *Sandbox) serveCreatePost(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	var in PostInput
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPostBody)).Decode(&in); err != nil {
		invalidBodyParam(w, r, "post", err.Error())
		return
	}
	// Only system admins may back-date a post (Mattermost's manage_system).
	if !who.User.SystemAdmin() {
		in.CreateAt = 0
	}
	p, err := s.CreatePost(r.Context(), who.User.ID, in)
	if err != nil {
		s.writePostError(w, r, who, err, "create_post")
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

// serveGetPost is GET /posts/{post_id}: 404 for unknown or deleted posts,
// 403 for posts in channels the caller cannot read.
func (s *Sandbox) serveGetPost(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	id, ok := idParam(w, r, "post_id")
	if !ok {
		return
	}
	p, err := s.Post(r.Context(), who, id)
	if errors.Is(err, ErrPostNotFound) {
		writeMMError(w, r, http.StatusNotFound, "app.post.get.app_error", "Unable to get the post.",
			"resource: Post id: "+id)
		return
	}
	if err != nil {
		s.writePostError(w, r, who, err, "read_channel")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// servePatchPost is PUT /posts/{post_id}/patch. Mattermost answers an
// unknown post here with 403, not 404, and so does the sandbox.
func (s *Sandbox) servePatchPost(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	id, ok := idParam(w, r, "post_id")
	if !ok {
		return
	}
	var patch PostPatch
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPostBody)).Decode(&patch); err != nil {
		invalidBodyParam(w, r, "post", err.Error())
		return
	}
	p, err := s.PatchPost(r.Context(), who.User.ID, id, patch)
	if err != nil {
		s.writePostError(w, r, who, err, "edit_post")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// serveDeletePost is DELETE /posts/{post_id}: {"status":"OK"}; an unknown
// post is a 403, as in Mattermost.
func (s *Sandbox) serveDeletePost(w http.ResponseWriter, r *http.Request) {
	who, _ := identityFrom(r)
	id, ok := idParam(w, r, "post_id")
	if !ok {
		return
	}
	if _, err := s.DeletePost(r.Context(), who.User.ID, id); err != nil {
		s.writePostError(w, r, who, err, "delete_post")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "OK"})
}

// serveChannelPosts is GET /channels/{channel_id}/posts with page,
// per_page, since, before and after.
func (s *Sandbox) serveChannelPosts(w http.ResponseWriter, r *http.Request) {
	ch, ok := s.readableChannel(w, r)
	if !ok {
		return
	}
	q := postsQuery{}
	q.page, q.perPage = paging(r)
	query := r.URL.Query()
	if v := query.Get("since"); v != "" {
		since, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			invalidURLParam(w, r, "since")
			return
		}
		q.since = since
	}
	for name, dst := range map[string]*string{"before": &q.before, "after": &q.after} {
		if v := query.Get(name); v != "" {
			if !validID(v) {
				invalidURLParam(w, r, name)
				return
			}
			*dst = v
		}
	}
	if q.after != "" {
		q.before = "" // after wins, as in Mattermost
	}
	list, err := s.channelPosts(ch.ID, q)
	if err != nil {
		writeMMError(w, r, http.StatusInternalServerError, "app.post.get_root_posts.app_error",
			"Unable to get the posts for the channel.", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// writePostError is the one mapping of post errors to Mattermost's
// answers; permission names the permission a 403 reports.
func (s *Sandbox) writePostError(w http.ResponseWriter, r *http.Request, who *identity.Identity, err error, permission string) {
	if pe, ok := isPostErr(err); ok {
		writeMMError(w, r, http.StatusBadRequest, pe.id, pe.message, pe.detail)
		return
	}
	switch {
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrPostNotFound),
		errors.Is(err, apiv4proxy.ErrChannelNotFound), errors.Is(err, ErrUserNotFound):
		permissionError(w, r, who, permission)
	default:
		writeMMError(w, r, http.StatusInternalServerError, "app.post.save.app_error",
			"Unable to save the Post.", err.Error())
	}
}
