package mattermosttest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
)

// This file adds Mattermost's plugin management API (server/channels/api4/
// plugin.go), what mmtoolkit calls to install a package's server part:
//
//	POST   /api/v4/plugins              multipart "plugin" (.tar.gz) and "force"; 201 the manifest
//	POST   /api/v4/plugins/{id}/enable  200 {"status":"OK"}
//	POST   /api/v4/plugins/{id}/disable 200 {"status":"OK"}
//	DELETE /api/v4/plugins/{id}         200 {"status":"OK"}
//	GET    /api/v4/plugins              {"active":[manifest...],"inactive":[...]}
//	GET    /api/v4/plugins/statuses     [{"plugin_id","state","error","version",...}]
//
// with Mattermost's rules and error bodies: a session is required (401);
// the caller needs manage_system, which the stand-in grants system admins
// (403 api.context.permissions.app_error); uploads may be turned off (501
// app.plugin.upload_disabled.app_error); an installed id without
// force=true is 400 app.plugin.install_id.app_error; an unknown id is 404
// app.plugin.not_installed.app_error. Uploading installs without changing
// whether the plugin is enabled (a new one starts disabled), as
// Mattermost's InstallPlugin does. The archive is unpacked as Mattermost
// does: plugin.json at the root or inside the single top-level directory.
//
// Tests turn it on with PluginAdmin(m) and inject faults through the
// *Plugins it returns: a call that fails (Fail), a connection dropped
// without an answer (Fail with status 0), a plugin that fails to start
// once enabled (FailToStart).

// maxPluginUpload is api4's MaximumPluginFileSize: the multipart form is
// held in memory up to it (Mattermost spills the rest to disk; the
// stand-in refuses it).
const maxPluginUpload = 50 << 20

// Plugins is the plugin management API of one stand-in.
type Plugins struct {
	m *Mattermost

	mu          sync.Mutex
	faults      map[string][]Fault // by operation
	failToStart map[string]string  // plugin id -> error
	uploadsOff  bool
	installed   map[string]*InstalledPlugin
	calls       []string
}

// Fault is an injected failure of one call: Status and Mattermost's error
// id and message, or Status 0 for a connection closed without an answer
// (Mattermost down or restarting).
type Fault struct {
	Status      int
	ID, Message string
	// After runs the operation first and fails only then: Mattermost did
	// the work but the answer was lost or wrong.
	After bool
	// Pass lets the call through: a place in the queue, so that a later
	// call of the same operation is the one that fails.
	Pass bool
}

// InstalledPlugin is what an upload put on the stand-in: the archive as
// uploaded and its files with their modes.
type InstalledPlugin struct {
	ID, Version string
	ArchiveSHA  string
	Files       map[string]InstalledFile
	PluginJSON  []byte

	data   map[string][]byte // by archive path
	prefix string            // the top-level directory, "" for the root
}

// webapp is the bundle at bundlePath, nil if the archive lacks it.
func (ip *InstalledPlugin) webapp(bundlePath string) []byte {
	return ip.data[ip.prefix+strings.TrimPrefix(path.Clean("/"+bundlePath), "/")]
}

// InstalledFile is one unpacked file.
type InstalledFile struct {
	Mode   int64
	SHA256 string
	Size   int64
}

type pluginsKey struct{}

// PluginAdmin turns on the plugin management API of m (once) and returns
// its controller.
func PluginAdmin(m *Mattermost) *Plugins {
	return m.Extension(pluginsKey{}, func() any {
		p := &Plugins{m: m, faults: map[string][]Fault{}, failToStart: map[string]string{}, installed: map[string]*InstalledPlugin{}}
		m.HandleFunc("POST /api/v4/plugins", p.op("upload", p.serveUpload))
		m.HandleFunc("GET /api/v4/plugins", p.op("list", p.serveList))
		m.HandleFunc("GET /api/v4/plugins/statuses", p.op("statuses", p.serveStatuses))
		m.HandleFunc("POST /api/v4/plugins/{id}/enable", p.op("enable", p.serveEnable))
		m.HandleFunc("POST /api/v4/plugins/{id}/disable", p.op("disable", p.serveDisable))
		m.HandleFunc("DELETE /api/v4/plugins/{id}", p.op("remove", p.serveRemove))
		return p
	}).(*Plugins)
}

// Fail makes the next call of op ("upload", "enable", "disable", "remove",
// "list", "statuses") fail with f; faults queue up in order.
func (p *Plugins) Fail(op string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[op] = append(p.faults[op], f)
}

// FailToStart makes version of plugin id fail to start whenever it is
// enabled, with msg as its status error ("" lets it start again).
func (p *Plugins) FailToStart(id, version, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if msg == "" {
		delete(p.failToStart, id+"@"+version)
		return
	}
	p.failToStart[id+"@"+version] = msg
}

// SetUploadsDisabled is PluginSettings.EnableUploads=false.
func (p *Plugins) SetUploadsDisabled(off bool) {
	p.mu.Lock()
	p.uploadsOff = off
	p.mu.Unlock()
}

// Installed returns what the last upload of id installed.
func (p *Plugins) Installed(id string) (InstalledPlugin, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ip, ok := p.installed[id]
	if !ok {
		return InstalledPlugin{}, false
	}
	return *ip, true
}

// Calls lists the operations served so far, "upload com.example.x" style
// (the id when the call names one), in order; failed calls too.
func (p *Plugins) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// op wraps a handler with the session and permission checks and the
// injected faults.
func (p *Plugins) op(name string, h func(w http.ResponseWriter, r *http.Request) bool) http.HandlerFunc {
	return p.m.session(func(w http.ResponseWriter, r *http.Request, u User) {
		p.mu.Lock()
		call := name
		if id := r.PathValue("id"); id != "" {
			call += " " + id
		}
		p.calls = append(p.calls, call)
		var f *Fault
		if q := p.faults[name]; len(q) > 0 {
			f, p.faults[name] = &q[0], q[1:]
		}
		off := p.uploadsOff
		p.mu.Unlock()

		if p.m.pluginsDisabled.Load() || off && name == "upload" {
			id, msg := "app.plugin.disabled.app_error", "Plugins have been disabled. Please check your logs for details."
			if name == "upload" {
				id, msg = "app.plugin.upload_disabled.app_error", "Plugins and/or plugin uploads have been disabled."
			}
			p.m.WriteError(w, http.StatusNotImplemented, id, msg)
			return
		}
		if !u.SystemAdmin() {
			p.m.WriteError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
			return
		}
		if f != nil && f.Pass {
			f = nil
		}
		if f != nil && !f.After {
			p.fault(w, *f)
			return
		}
		if f == nil {
			h(w, r)
			return
		}
		// After: do the work, then fail the answer.
		rec := &discard{header: http.Header{}}
		if h(rec, r) {
			p.fault(w, *f)
			return
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())
	})
}

func (p *Plugins) fault(w http.ResponseWriter, f Fault) {
	if f.Status == 0 {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	p.m.WriteError(w, f.Status, f.ID, f.Message)
}

// discard records an answer a fault then replaces.
type discard struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (d *discard) Header() http.Header { return d.header }
func (d *discard) WriteHeader(s int)   { d.status = s }
func (d *discard) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return d.body.Write(b)
}

// Each handler reports whether it succeeded (for Fault.After).

func (p *Plugins) serveUpload(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxPluginUpload)
	if err := r.ParseMultipartForm(maxPluginUpload); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest) // api4 answers this one in plain text
		return false
	}
	files := r.MultipartForm.File["plugin"]
	if len(files) == 0 {
		p.m.WriteError(w, http.StatusBadRequest, "api.plugin.upload.no_file.app_error", "Missing file in multipart/form request.")
		return false
	}
	f, err := files[0].Open()
	if err != nil {
		p.m.WriteError(w, http.StatusBadRequest, "api.plugin.upload.file.app_error", "Unable to open file in multipart/form request.")
		return false
	}
	archive, _ := io.ReadAll(f)
	f.Close()
	force := len(r.MultipartForm.Value["force"]) > 0 && r.MultipartForm.Value["force"][0] == "true"

	ip, err := unpackPlugin(archive)
	if err != nil {
		p.m.WriteError(w, http.StatusBadRequest, "app.plugin.extract.app_error", "Encountered error extracting plugin.")
		return false
	}
	if ip == nil {
		p.m.WriteError(w, http.StatusBadRequest, "app.plugin.manifest.app_error", "Unable to find manifest for extracted plugin.")
		return false
	}
	var man Manifest
	if json.Unmarshal(ip.PluginJSON, &man) != nil || man.ID == "" || man.Version == "" {
		p.m.WriteError(w, http.StatusBadRequest, "app.plugin.manifest.app_error", "Unable to find manifest for extracted plugin.")
		return false
	}
	old, exists := p.m.Plugin(man.ID)
	if exists && !force {
		p.m.WriteError(w, http.StatusBadRequest, "app.plugin.install_id.app_error", "A plugin with the same ID is already installed.")
		return false
	}
	ip.ID, ip.Version = man.ID, man.Version
	var bundle []byte
	if man.Webapp != nil {
		bundle = ip.webapp(man.Webapp.BundlePath)
	}
	p.m.InstallPlugin(ip.PluginJSON, bundle) // enables it
	enabled := exists && old.Enabled         // Mattermost's install keeps PluginStates
	if !enabled {
		p.m.SetPluginEnabled(man.ID, false)
	}
	p.mu.Lock()
	p.installed[man.ID] = ip
	p.mu.Unlock()
	WriteJSON(w, http.StatusCreated, man)
	return true
}

func (p *Plugins) serveEnable(w http.ResponseWriter, r *http.Request) bool {
	return p.setEnabled(w, r, true)
}

func (p *Plugins) serveDisable(w http.ResponseWriter, r *http.Request) bool {
	return p.setEnabled(w, r, false)
}

func (p *Plugins) setEnabled(w http.ResponseWriter, r *http.Request, on bool) bool {
	id := strings.ToLower(r.PathValue("id"))
	if !p.m.SetPluginEnabled(id, on) {
		p.m.WriteError(w, http.StatusNotFound, "app.plugin.not_installed.app_error", "Plugin is not installed.")
		return false
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "OK"})
	return true
}

func (p *Plugins) serveRemove(w http.ResponseWriter, r *http.Request) bool {
	id := r.PathValue("id")
	if !p.m.RemovePlugin(id) {
		p.m.WriteError(w, http.StatusNotFound, "app.plugin.not_installed.app_error", "Plugin is not installed.")
		return false
	}
	p.mu.Lock()
	delete(p.installed, id)
	p.mu.Unlock()
	WriteJSON(w, http.StatusOK, map[string]string{"status": "OK"})
	return true
}

// running reports whether an installed plugin runs: enabled and not made
// to fail.
func (p *Plugins) running(pl Plugin) (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !pl.Enabled {
		return false, ""
	}
	if msg, ok := p.failToStart[pl.Manifest.ID+"@"+pl.Manifest.Version]; ok {
		return false, msg
	}
	return true, ""
}

func (p *Plugins) serveList(w http.ResponseWriter, r *http.Request) bool {
	out := struct {
		Active   []Manifest `json:"active"`
		Inactive []Manifest `json:"inactive"`
	}{Active: []Manifest{}, Inactive: []Manifest{}}
	for _, pl := range p.m.Plugins() {
		if ok, _ := p.running(pl); ok {
			out.Active = append(out.Active, pl.Manifest)
		} else {
			out.Inactive = append(out.Inactive, pl.Manifest)
		}
	}
	WriteJSON(w, http.StatusOK, out)
	return true
}

func (p *Plugins) serveStatuses(w http.ResponseWriter, r *http.Request) bool {
	type status struct {
		PluginID    string `json:"plugin_id"`
		ClusterID   string `json:"cluster_id"`
		PluginPath  string `json:"plugin_path"`
		State       int    `json:"state"`
		Error       string `json:"error"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Version     string `json:"version"`
	}
	out := []status{}
	for _, pl := range p.m.Plugins() {
		st := status{PluginID: pl.Manifest.ID, PluginPath: "/mattermost/plugins/" + pl.Manifest.ID,
			Name: pl.Manifest.Name, Description: pl.Manifest.Description, Version: pl.Manifest.Version}
		ok, msg := p.running(pl)
		switch {
		case ok:
			st.State = 2 // PluginStateRunning
		case msg != "":
			st.State, st.Error = 3, msg // PluginStateFailedToStart
		}
		out = append(out, st)
	}
	WriteJSON(w, http.StatusOK, out)
	return true
}

// unpackPlugin reads a plugin archive as Mattermost's extractPlugin does;
// nil, nil when it has no plugin.json where Mattermost looks.
func unpackPlugin(archive []byte) (*InstalledPlugin, error) {
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	files := map[string]InstalledFile{}
	data := map[string][]byte{}
	tops := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if name == "" || hdr.Typeflag == tar.TypeDir {
			if name != "" {
				tops[strings.SplitN(name, "/", 2)[0]+"/"] = true
			}
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		if i := strings.IndexByte(name, '/'); i >= 0 {
			tops[name[:i+1]] = true
		} else {
			tops[name] = true
		}
		sum := sha256.Sum256(b)
		files[name] = InstalledFile{Mode: hdr.Mode, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))}
		data[name] = b
	}
	prefix := ""
	if len(tops) == 1 {
		for t := range tops {
			if strings.HasSuffix(t, "/") {
				prefix = t
			}
		}
	}
	ip := &InstalledPlugin{Files: map[string]InstalledFile{}}
	sum := sha256.Sum256(archive)
	ip.ArchiveSHA = hex.EncodeToString(sum[:])
	for name, f := range files {
		if rel, ok := strings.CutPrefix(name, prefix); ok {
			ip.Files[rel] = f
		}
	}
	raw, ok := data[prefix+"plugin.json"]
	if !ok {
		return nil, nil
	}
	ip.PluginJSON = raw
	ip.data = data
	ip.prefix = prefix
	return ip, nil
}
