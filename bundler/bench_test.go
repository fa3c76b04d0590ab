package bundler

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// The benchmarks time Build on generated plugins: what a push costs before
// the bundle is stored (push-to-servable, bundling only). Each reports the
// median over its iterations and the share spent inside esbuild; see
// bench/compile/README.md for how to run them and RESULTS.md for figures.

// BenchmarkBuildSmall: a ~300-line TSX plugin importing CSS, host modules
// only, web target.
func BenchmarkBuildSmall(b *testing.B) {
	pkg := generatedPackage(smallPlugin())
	benchmarkBuild(b, pkg, Web)
}

// BenchmarkBuildTypical: a plugin the size of a typical Mattermost plugin
// webapp: ~300 KB of its own TSX in ~60 files, plus the npm code real
// plugins bundle (mattermost-redux, @mattermost/client, lodash, with
// moment-timezone and redux beneath). The npm code comes from
// bench/compile/node_modules (bench/compile/setup.sh installs it) and is
// pruned to the files the build reaches, as `mmtoolkit pack` would.
func BenchmarkBuildTypical(b *testing.B) {
	pkg := typicalPackage(b)
	benchmarkBuild(b, pkg, Web)
}

// BenchmarkRebuildTypical: the typical plugin re-pushed after an edit of
// one component, through a Cache (the server's dev loop): each iteration
// appends to one of its files and builds again with the context the
// previous iteration left. context-MB is the heap one cached context of
// the plugin holds (heap in use after GC with the context, minus after
// Close), and source-KB what its build loaded.
func BenchmarkRebuildTypical(b *testing.B) {
	pkg := typicalPackage(b)
	var file string
	for name := range pkg.Files {
		if strings.HasPrefix(name, "webapp/src/components/") && (file == "" || name < file) {
			file = name
		}
	}
	edit := func(i int) *pluginpkg.Package {
		cp := *pkg
		cp.Files = make(map[string][]byte, len(pkg.Files))
		for k, v := range pkg.Files {
			cp.Files[k] = v
		}
		cp.Files[file] = append(append([]byte(nil), pkg.Files[file]...), fmt.Sprintf("\nexport const edit%d = %d;\n", i, i)...)
		return &cp
	}
	heap := func() uint64 {
		// esbuild's goroutines let go of a build's memory a moment after
		// it returns.
		time.Sleep(2 * time.Second)
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	c := NewCache(1, 1<<30, 0)
	if _, err := c.Build(edit(1<<20), Web); err != nil { // the first push
		b.Fatal(err)
	}
	durations := make([]time.Duration, 0, b.N)
	var inEsbuild time.Duration
	b.ResetTimer()
	cpuStart := processCPU()
	for i := 0; i < b.N; i++ {
		p := edit(i)
		start := time.Now()
		res, err := c.Build(p, Web)
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		durations = append(durations, d)
		inEsbuild += res.Esbuild
	}
	cpu := processCPU() - cpuStart
	b.StopTimer()
	with := heap()
	loaded := c.bytes
	c.Close()
	after := heap()
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	var sum time.Duration
	for _, d := range durations {
		sum += d
	}
	b.ReportMetric(100*float64(inEsbuild)/float64(sum), "esbuild-%")
	b.ReportMetric(float64(int64(with)-int64(after))/(1<<20), "context-MB")
	b.ReportMetric(float64(loaded)/1024, "source-KB")
}

func benchmarkBuild(b *testing.B, pkg *pluginpkg.Package, t Target) {
	b.Helper()
	if _, err := Build(pkg, t); err != nil { // warm-up, and fail fast
		b.Fatal(err)
	}
	var own int
	for name, data := range pkg.Files {
		if !inNodeModules(name) {
			own += len(data)
		}
	}
	durations := make([]time.Duration, 0, b.N)
	var inEsbuild, total time.Duration
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	cpuStart := processCPU()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := Build(pkg, t)
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		durations = append(durations, d)
		total += d
		inEsbuild += res.Esbuild
		size = len(res.JS)
	}
	cpu := processCPU() - cpuStart
	b.StopTimer()
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	median := durations[len(durations)/2]
	b.ReportMetric(float64(median.Microseconds())/1000, "median-ms")
	b.ReportMetric(100*float64(inEsbuild)/float64(total), "esbuild-%")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
	b.ReportMetric(float64(size)/1024, "bundle-KB")
	b.ReportMetric(float64(own)/1024, "source-KB")
	b.ReportMetric(float64(len(pkg.Files)), "files")
}

func generatedPackage(files map[string]string) *pluginpkg.Package {
	pkg := &pluginpkg.Package{
		Manifest: pluginpkg.Manifest{ID: "com.example.bench", Name: "Bench", Version: "1.0.0",
			Webapp: &pluginpkg.Webapp{Entry: "webapp/src/index.tsx"}},
		Files: map[string][]byte{},
	}
	for k, v := range files {
		pkg.Files[k] = []byte(v)
	}
	pkg.RawManifest, _ = json.Marshal(pkg.Manifest)
	pkg.Files["plugin.json"] = pkg.RawManifest
	return pkg
}

var (
	typicalOnce sync.Once
	typicalPkg  *pluginpkg.Package
	typicalErr  error
)

func typicalPackage(b *testing.B) *pluginpkg.Package {
	b.Helper()
	typicalOnce.Do(func() { typicalPkg, typicalErr = loadTypical() })
	if typicalErr == errNoBenchModules {
		b.Skip("bench/compile/node_modules is not installed: run bench/compile/setup.sh first")
	}
	if typicalErr != nil {
		b.Fatal(typicalErr)
	}
	return typicalPkg
}

var errNoBenchModules = fmt.Errorf("bench/compile/node_modules missing")

// loadTypical generates the typical plugin, adds the runtime dependencies
// installed in bench/compile (the closure of its package.json
// "dependencies"), then keeps only what the build reaches: a pushed
// package carries what `mmtoolkit pack` puts in it, not a whole
// node_modules/ with webpack and Babel inside.
func loadTypical() (*pluginpkg.Package, error) {
	root := filepath.Join("..", "bench", "compile")
	nm := filepath.Join(root, "node_modules")
	if _, err := os.Stat(filepath.Join(nm, "mattermost-redux", "package.json")); err != nil {
		return nil, errNoBenchModules
	}
	full := generatedPackage(typicalPlugin())
	deps, err := dependencyClosure(root)
	if err != nil {
		return nil, err
	}
	for _, dep := range deps {
		dir := filepath.Join(nm, filepath.FromSlash(dep))
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch filepath.Ext(p) {
			case ".js", ".mjs", ".cjs", ".json", ".css":
			default:
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			full.Files[filepath.ToSlash(rel)] = data
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	inputs, err := Inputs(full)
	if err != nil {
		return nil, err
	}
	pruned := generatedPackage(nil)
	for _, f := range inputs {
		pruned.Files[f] = full.Files[f]
	}
	return pruned, nil
}

// dependencyClosure lists the packages (node_modules/-relative names) that
// root's "dependencies" need, recursively, as npm installs them (flat).
func dependencyClosure(root string) ([]string, error) {
	seen := map[string]bool{}
	var visit func(pj string) error
	visit = func(pj string) error {
		data, err := os.ReadFile(pj)
		if err != nil {
			return err
		}
		var p struct {
			Dependencies map[string]string `json:"dependencies"`
		}
		if err := json.Unmarshal(data, &p); err != nil {
			return fmt.Errorf("%s: %w", pj, err)
		}
		names := make([]string, 0, len(p.Dependencies))
		for name := range p.Dependencies {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			dep := filepath.Join(root, "node_modules", filepath.FromSlash(name), "package.json")
			if _, err := os.Stat(dep); err != nil {
				continue // an optional or peer dependency npm did not install
			}
			if err := visit(dep); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(filepath.Join(root, "package.json")); err != nil {
		return nil, err
	}
	return sortedKeys(seen), nil
}

// smallPlugin is ~300 lines of TSX and a stylesheet, host modules only.
func smallPlugin() map[string]string {
	return genPlugin(1, false)
}

// typicalPlugin is ~300 KB of TSX in ~60 files using mattermost-redux,
// @mattermost/client and lodash the way real plugins do.
func typicalPlugin() map[string]string {
	return genPlugin(47, true)
}

// genPlugin writes a plugin in the shape of Mattermost's starter template:
// classic JSX, baseUrl "src", a Plugin class registering components,
// components with props interfaces, hooks, connect(), a reducer, actions
// and utils. The output depends only on the arguments.
func genPlugin(components int, npm bool) map[string]string {
	files := map[string]string{
		"webapp/tsconfig.json": `{
    "compilerOptions": {
        "target": "es2019",
        "module": "esnext",
        "moduleResolution": "node",
        "jsx": "react",
        "strict": true,
        "esModuleInterop": true,
        "baseUrl": "src",
        "skipLibCheck": true,
    },
    "include": ["src"],
}
`,
		"webapp/package.json": `{"name": "bench-plugin", "private": true}`,
	}
	utils := components/8 + 1
	for u := 0; u < utils; u++ {
		files[fmt.Sprintf("webapp/src/utils/format_%d.ts", u)] = genUtil(u)
	}
	for a := 0; a < utils; a++ {
		files[fmt.Sprintf("webapp/src/actions/actions_%d.ts", a)] = genActions(a, npm)
	}
	var css strings.Builder
	for c := 0; c < components; c++ {
		files[fmt.Sprintf("webapp/src/components/component_%d.tsx", c)] = genComponent(c, utils, npm)
		fmt.Fprintf(&css, ".plugin-component-%d {\n    display: flex;\n    padding: 8px;\n    color: var(--center-channel-color);\n}\n.plugin-component-%d table td { border-bottom: 1px solid rgba(var(--center-channel-color-rgb), 0.16); }\n", c, c)
	}
	files["webapp/src/styles.css"] = css.String()
	files["webapp/src/reducer.ts"] = genReducer(utils)
	files["webapp/src/index.tsx"] = genIndex(components, npm)
	return files
}

func genIndex(components int, npm bool) string {
	var b strings.Builder
	b.WriteString("import React from 'react';\nimport {Store, Action} from 'redux';\n\n")
	if npm {
		b.WriteString("import {getConfig} from 'mattermost-redux/selectors/entities/general';\nimport type {GlobalState} from '@mattermost/types/store';\n\n")
	} else {
		b.WriteString("type GlobalState = {entities: {general: {config: {SiteURL?: string}}}};\nconst getConfig = (s: GlobalState) => s.entities.general.config;\n\n")
	}
	b.WriteString("import manifest from '../../plugin.json';\nimport reducer from './reducer';\nimport './styles.css';\n\n")
	for c := 0; c < components; c++ {
		fmt.Fprintf(&b, "import Component%d from 'components/component_%d';\n", c, c)
	}
	b.WriteString(`
export default class Plugin {
    private registered: string[] = [];

    public async initialize(registry: any, store: Store<GlobalState, Action<Record<string, unknown>>>) {
        const siteURL = getConfig(store.getState()).SiteURL || '';
        registry.registerReducer(reducer);
`)
	for c := 0; c < components; c++ {
		switch c % 4 {
		case 0:
			fmt.Fprintf(&b, "        this.registered.push(registry.registerPostTypeComponent('custom_bench_%d', Component%d));\n", c, c)
		case 1:
			fmt.Fprintf(&b, "        this.registered.push(registry.registerRightHandSidebarComponent(Component%d, 'Panel %d'));\n", c, c)
		case 2:
			fmt.Fprintf(&b, "        this.registered.push(registry.registerRootComponent(Component%d));\n", c)
		default:
			fmt.Fprintf(&b, "        this.registered.push(registry.registerChannelHeaderButtonAction(<Component%d title='%d' count={%d}/>, () => siteURL, 'Action %d'));\n", c, c, c, c)
		}
	}
	b.WriteString(`    }

    public uninitialize() {
        this.registered = [];
    }
}

declare global {
    interface Window {
        registerPlugin(id: string, plugin: Plugin): void;
    }
}

window.registerPlugin(manifest.id, new Plugin());
`)
	return b.String()
}

func genUtil(u int) string {
	return fmt.Sprintf(`export type Format%[1]dOptions = {
    prefix?: string;
    maxLength?: number;
    uppercase?: boolean;
};

export function formatLabel%[1]d(label: string, options: Format%[1]dOptions = {}): string {
    const {prefix = '', maxLength = 64, uppercase = false} = options;
    let out = prefix + label.trim();
    if (out.length > maxLength) {
        out = out.slice(0, maxLength - 1) + '…';
    }
    return uppercase ? out.toUpperCase() : out;
}

export function formatCount%[1]d(n: number): string {
    if (n >= 1_000_000) {
        return (n / 1_000_000).toFixed(1) + 'M';
    }
    if (n >= 1000) {
        return (n / 1000).toFixed(1) + 'k';
    }
    return String(n);
}

export function byKey%[1]d<T extends Record<string, unknown>>(rows: T[], key: keyof T, desc = false): T[] {
    return [...rows].sort((a, b) => {
        const x = a[key] as unknown as string | number;
        const y = b[key] as unknown as string | number;
        if (x === y) {
            return 0;
        }
        return (x < y ? -1 : 1) * (desc ? -1 : 1);
    });
}
`, u)
}

func genActions(a int, npm bool) string {
	var b strings.Builder
	if npm {
		b.WriteString("import {Client4} from 'mattermost-redux/client';\nimport {createPost} from 'mattermost-redux/actions/posts';\nimport {getProfilesByIds} from 'mattermost-redux/actions/users';\nimport type {Post} from '@mattermost/types/posts';\n\n")
	} else {
		b.WriteString("type Post = {id: string; message: string; channel_id: string};\nconst Client4 = {getUrl: () => '', doFetch: (url: string, opts: RequestInit) => fetch(url, opts).then((r) => r.json())};\nconst createPost = (p: Partial<Post>) => ({type: 'CREATE_POST', data: p});\nconst getProfilesByIds = (ids: string[]) => ({type: 'GET_PROFILES', data: ids});\n\n")
	}
	fmt.Fprintf(&b, `export const RECEIVED_ITEMS_%[1]d = 'bench/received_items_%[1]d';
export const SELECT_ITEM_%[1]d = 'bench/select_item_%[1]d';

export function fetchItems%[1]d(channelId: string) {
    return async (dispatch: (a: unknown) => unknown) => {
        const url = Client4.getUrl() + '/plugins/com.example.bench/api/v1/items/%[1]d?channel_id=' + encodeURIComponent(channelId);
        const data = await Client4.doFetch<{items: Array<{id: string; user_id: string}>}>(url, {method: 'get'});
        await dispatch(getProfilesByIds(data.items.map((i) => i.user_id)));
        dispatch({type: RECEIVED_ITEMS_%[1]d, data: data.items});
        return data.items;
    };
}

export function announce%[1]d(channelId: string, message: string) {
    const post: Partial<Post> = {channel_id: channelId, message: '[%[1]d] ' + message};
    return createPost(post as Post);
}

export function selectItem%[1]d(id: string) {
    return {type: SELECT_ITEM_%[1]d, id};
}
`, a)
	s := b.String()
	if !npm {
		s = strings.Replace(s, "Client4.doFetch<{items: Array<{id: string; user_id: string}>}>", "Client4.doFetch", 1)
	}
	return s
}

func genReducer(n int) string {
	var b strings.Builder
	b.WriteString("import {combineReducers} from 'redux';\n\n")
	for a := 0; a < n; a++ {
		fmt.Fprintf(&b, "import {RECEIVED_ITEMS_%[1]d, SELECT_ITEM_%[1]d} from 'actions/actions_%[1]d';\n", a)
	}
	b.WriteString("\ntype Item = {id: string; user_id: string};\n\n")
	for a := 0; a < n; a++ {
		fmt.Fprintf(&b, `function items%[1]d(state: Item[] = [], action: {type: string; data?: Item[]}) {
    switch (action.type) {
    case RECEIVED_ITEMS_%[1]d:
        return action.data || [];
    default:
        return state;
    }
}

function selected%[1]d(state = '', action: {type: string; id?: string}) {
    return action.type === SELECT_ITEM_%[1]d ? action.id || '' : state;
}

`, a)
	}
	b.WriteString("export default combineReducers({\n")
	for a := 0; a < n; a++ {
		fmt.Fprintf(&b, "    items%[1]d,\n    selected%[1]d,\n", a)
	}
	b.WriteString("});\n")
	return b.String()
}

func genComponent(c, utils int, npm bool) string {
	u := c % utils
	var b strings.Builder
	b.WriteString("import React, {useCallback, useMemo, useState} from 'react';\nimport {connect, useDispatch, useSelector} from 'react-redux';\n")
	if npm {
		if c%3 == 0 {
			b.WriteString("import {debounce, groupBy} from 'lodash';\n")
		} else {
			b.WriteString("import debounce from 'lodash/debounce';\nimport groupBy from 'lodash/groupBy';\n")
		}
		b.WriteString(`
import {getCurrentUser} from 'mattermost-redux/selectors/entities/users';
import {getCurrentChannel} from 'mattermost-redux/selectors/entities/channels';
import {getCurrentTeam} from 'mattermost-redux/selectors/entities/teams';
import {getTheme} from 'mattermost-redux/selectors/entities/preferences';
import {isSystemMessage} from 'mattermost-redux/utils/post_utils';
import type {GlobalState} from '@mattermost/types/store';
import type {Post} from '@mattermost/types/posts';
`)
	} else {
		b.WriteString(`
type Post = {id: string; message: string; type: string; user_id: string};
type GlobalState = {entities: {users: {currentUserId: string}}};
const debounce = <T extends (...args: any[]) => void>(f: T) => f;
const groupBy = <T, >(xs: T[], f: (x: T) => string) => xs.reduce<Record<string, T[]>>((acc, x) => {
    (acc[f(x)] ||= []).push(x);
    return acc;
}, {});
const getCurrentUser = (s: GlobalState) => ({username: s.entities.users.currentUserId});
const getCurrentChannel = (s: GlobalState) => ({display_name: 'town-square'});
const getCurrentTeam = (s: GlobalState) => ({display_name: 'team'});
const getTheme = (s: GlobalState) => ({centerChannelColor: '#3f4350'});
const isSystemMessage = (p: Post) => p.type.startsWith('system_');
`)
	}
	fmt.Fprintf(&b, `
import {byKey%[2]d, formatCount%[2]d, formatLabel%[2]d} from 'utils/format_%[2]d';
import {announce%[2]d, fetchItems%[2]d, selectItem%[2]d} from 'actions/actions_%[2]d';

export interface Component%[1]dProps {
    post?: Post;
    title?: string;
    count?: number;
    compact?: boolean;
    onSelect?: (id: string) => void;
}

type Row%[1]d = {
    id: string;
    label: string;
    value: number;
    group: 'alpha' | 'beta' | 'gamma';
    tags: string[];
};

const ROWS_%[1]d: Row%[1]d[] = [
    {id: 'r%[1]d-1', label: 'Deployments', value: %[1]d * 3 + 1, group: 'alpha', tags: ['ops', 'release']},
    {id: 'r%[1]d-2', label: 'Incidents', value: %[1]d * 5 + 2, group: 'beta', tags: ['ops']},
    {id: 'r%[1]d-3', label: 'Pull requests', value: %[1]d * 7 + 3, group: 'gamma', tags: ['dev', 'review']},
    {id: 'r%[1]d-4', label: 'Open issues', value: %[1]d * 11 + 4, group: 'alpha', tags: ['dev']},
    {id: 'r%[1]d-5', label: 'Releases', value: %[1]d * 13 + 5, group: 'beta', tags: ['release']},
];

enum Sort%[1]d {
    Label = 'label',
    Value = 'value',
}

function Header%[1]d({title, total, compact}: {title: string; total: number; compact?: boolean}) {
    return (
        <header className={compact ? 'plugin-header plugin-header--compact' : 'plugin-header'}>
            <h4 className='plugin-header__title'>{formatLabel%[2]d(title, {maxLength: 40})}</h4>
            <span className='plugin-header__count' title={String(total)}>{formatCount%[2]d(total)}</span>
        </header>
    );
}

function Component%[1]d({post, title = 'Component %[1]d', count = 0, compact, onSelect}: Component%[1]dProps) {
    const dispatch = useDispatch();
    const user = useSelector((state: GlobalState) => getCurrentUser(state));
    const channel = useSelector((state: GlobalState) => getCurrentChannel(state));
    const team = useSelector((state: GlobalState) => getCurrentTeam(state));
    const theme = useSelector((state: GlobalState) => getTheme(state));
    const [filter, setFilter] = useState('');
    const [sort, setSort] = useState<Sort%[1]d>(Sort%[1]d.Label);
    const [desc, setDesc] = useState(false);

    const rows = useMemo(() => {
        const needle = filter.trim().toLowerCase();
        const visible = ROWS_%[1]d.filter((r) => !needle || r.label.toLowerCase().includes(needle) || r.tags.some((t) => t.includes(needle)));
        return byKey%[2]d(visible, sort, desc);
    }, [filter, sort, desc]);
    const groups = useMemo(() => groupBy(rows, (r: Row%[1]d) => r.group), [rows]);
    const total = rows.reduce((sum, r) => sum + r.value, count);

    const onFilter = useCallback(debounce((e: React.ChangeEvent<HTMLInputElement>) => setFilter(e.target.value), 150), []);
    const onSort = useCallback((next: Sort%[1]d) => {
        if (next === sort) {
            setDesc((d) => !d);
        } else {
            setSort(next);
            setDesc(false);
        }
    }, [sort]);
    const onRow = useCallback((row: Row%[1]d) => {
        dispatch(selectItem%[2]d(row.id) as any);
        onSelect?.(row.id);
    }, [dispatch, onSelect]);

    if (post && isSystemMessage(post as any)) {
        return null;
    }

    return (
        <div className={'plugin-component-%[1]d' + (compact ? ' compact' : '')} style={{color: theme.centerChannelColor}}>
            <Header%[1]d title={title} total={total} compact={compact}/>
            <input
                className='form-control'
                placeholder={'Filter in ' + (channel?.display_name ?? 'channel')}
                onChange={onFilter}
                aria-label='filter'
            />
            <table className='table table-striped'>
                <thead>
                    <tr>
                        {[Sort%[1]d.Label, Sort%[1]d.Value].map((key) => (
                            <th key={key} onClick={() => onSort(key)}>
                                {key}{sort === key ? (desc ? ' ▼' : ' ▲') : ''}
                            </th>
                        ))}
                        <th>{'tags'}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.map((row) => (
                        <tr key={row.id} onClick={() => onRow(row)}>
                            <td>{row.label}</td>
                            <td>{formatCount%[2]d(row.value)}</td>
                            <td>{row.tags.map((t) => <span key={t} className='badge'>{t}</span>)}</td>
                        </tr>
                    ))}
                </tbody>
            </table>
            <ul className='plugin-groups'>
                {Object.keys(groups).map((g) => <li key={g}>{g + ': ' + groups[g].length}</li>)}
            </ul>
            {post && <blockquote className='plugin-post'>{post.message}</blockquote>}
            <footer>
                <button className='btn btn-link' onClick={() => dispatch(fetchItems%[2]d(post?.id ?? '') as any)}>{'Refresh'}</button>
                <button className='btn btn-primary' onClick={() => dispatch(announce%[2]d(post?.id ?? '', title) as any)}>{'Share'}</button>
                <small>{(user?.username ?? 'someone') + ' · ' + (team?.display_name ?? '')}</small>
            </footer>
        </div>
    );
}

function mapStateToProps%[1]d(state: GlobalState, own: Component%[1]dProps) {
    return {compact: Boolean(own.compact) || getCurrentUser(state) === undefined};
}

export default connect(mapStateToProps%[1]d)(Component%[1]d);
`, c, u)
	return b.String()
}

// TestGeneratedPlugins keeps the benchmark inputs honest: they compile,
// the small one is about 300 lines, the typical one about 300 KB, and the
// small one runs.
func TestGeneratedPlugins(t *testing.T) {
	small := smallPlugin()
	lines := 0
	for name, src := range small {
		if strings.HasSuffix(name, ".tsx") || strings.HasSuffix(name, ".ts") {
			lines += strings.Count(src, "\n")
		}
	}
	if lines < 250 || lines > 450 {
		t.Errorf("small plugin has %d lines of TS/TSX, want about 300", lines)
	}
	typical := typicalPlugin()
	size := 0
	for name, src := range typical {
		if strings.HasSuffix(name, ".tsx") || strings.HasSuffix(name, ".ts") {
			size += len(src)
		}
	}
	if size < 280<<10 || size > 340<<10 {
		t.Errorf("typical plugin has %d KB of TS/TSX, want about 300", size>>10)
	}
	mustBuild(t, generatedPackage(small), Web)
	if _, err := Build(generatedPackage(typical), Web); err == nil {
		t.Error("the typical plugin built without its node_modules")
	}
}

// TestWriteTypicalPlugin writes the typical benchmark plugin, pruned
// node_modules included, to $MMTOOLKIT_WRITE_TYPICAL: the input of
// bench/compile/compare.sh, so webpack compiles the very same files.
// Without the variable it checks that a written plugin reads back as the
// same package (the npm part left out, so it needs no install).
func TestWriteTypicalPlugin(t *testing.T) {
	dir := os.Getenv("MMTOOLKIT_WRITE_TYPICAL")
	var pkg *pluginpkg.Package
	if dir != "" {
		var err error
		if pkg, err = loadTypical(); err != nil {
			t.Fatal(err)
		}
	} else {
		dir, pkg = t.TempDir(), generatedPackage(typicalPlugin())
	}
	for name, data := range pkg.Files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	back, err := readDirPackage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Files) != len(pkg.Files) {
		t.Fatalf("wrote %d files, read back %d", len(pkg.Files), len(back.Files))
	}
	for name, data := range pkg.Files {
		if string(back.Files[name]) != string(data) {
			t.Fatalf("%s differs after writing and reading back", name)
		}
	}
}

// TestCompileDir builds the plugin directory $MMTOOLKIT_COMPILE_DIR (a
// fixture without it) for the web and writes mmtoolkit.js and its map to
// $MMTOOLKIT_COMPILE_OUT: the mmtoolkit side of bench/compile/compare.sh,
// run as a fresh process each time (cold).
func TestCompileDir(t *testing.T) {
	dir := os.Getenv("MMTOOLKIT_COMPILE_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "plugins", "deps") // a plugin on disk, as compare.sh gives
	}
	// Without garbage collection, as esbuild's command, `mmtoolkit pack`
	// and the server's compiles run.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	start := time.Now()
	pkg, err := readDirPackage(dir)
	if err != nil {
		t.Fatal(err)
	}
	read := time.Since(start)
	res, err := Build(pkg, Web)
	if err != nil {
		t.Fatal(err)
	}
	total := time.Since(start)
	out := os.Getenv("MMTOOLKIT_COMPILE_OUT")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "mmtoolkit.js"), res.JS, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "mmtoolkit.js.map"), res.SourceMap, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("read %d files in %v, read+build %v (esbuild %v), %d KB", len(pkg.Files), read, total, res.Esbuild, len(res.JS)>>10)
}
