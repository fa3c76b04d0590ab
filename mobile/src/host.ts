// PluginHost: fetch and verify a team's signed mobile manifest, fetch and
// verify every bundle, evaluate, and keep the registrations plugins make
// into the mobile slots. React components (react.tsx) render them.
import * as React from 'react';
import * as jsxRuntime from 'react/jsx-runtime';
import * as ReactNative from 'react-native';

import {fromBase64, toBase64, utf8Decode} from './bytes';
import {
  BytecodeEvaluator,
  factoryFromBytecode,
  factoryFromJS,
  hostRequireFor,
  ModuleFactory,
  runFactory,
} from './evaluate';
import type {CrashReportBody} from './generated/crash_report';
import {SIGNATURE_HEADER} from './generated/manifest';
import type {HostModuleName} from './generated/slots';
import {createRegistry, Registration} from './registry';
import {keys, MemoryStorage, PluginStorage} from './storage';
import {ManifestPlugin, MobileManifest, Platform, PluginProblem, SlotName} from './types';
import {parsePublicKeys, sha256Hex, verifySignature} from './verify';

/** The host runtime version this library implements; plugins' mobile.runtime ranges match it. */
export const HOST_RUNTIME_VERSION = '1.0.0';

/** The header of the manifest's signature (mobile.SignatureHeader, generated). */
export {SIGNATURE_HEADER};

export interface PluginHostOptions {
  /** The mmtoolkit server, e.g. https://plugins.example.com (no trailing slash needed). */
  serverURL: string;
  /** Team id or URL name. */
  team: string;
  platform: Platform;
  /** Pinned ed25519 public key(s), base64 (GET /api/v1/mobile/public-key; `mmtoolkit keygen`). */
  publicKey: string | readonly string[];
  /** The Mattermost token, or a function returning it. */
  token?: string | (() => string | Promise<string>);
  /** The host runtime version sent to the server; default HOST_RUNTIME_VERSION. */
  runtimeVersion?: string;
  /** Survives restarts: AsyncStorage through asyncStorageAdapter. Default: in memory. */
  storage?: PluginStorage;
  fetch?: typeof fetch;
  /** Host modules plugins may require; merged over the defaults (react, react/jsx-runtime, react-native, @mmtoolkit/mobile). */
  modules?: Record<string, unknown>;
  /** A native evaluator of Hermes bytecode; without it the host asks for JS bundles. */
  bytecode?: BytecodeEvaluator;
  /** Told about every refused manifest or bundle and every plugin crash. */
  onProblem?: (p: PluginProblem) => void;
  /** Report plugin crashes to the server (POST /api/v1/plugins/{id}/errors); default true. */
  reportCrashes?: boolean;
}

export type PluginState =
  | 'active' // the manifest's version runs
  | 'fallback' // the manifest's version is bad on this device; the last good version runs
  | 'failed'; // nothing runs: the version is bad (or refused) and there is no good one

export interface PluginStatus {
  id: string;
  /** The version the manifest names. */
  version: string;
  /** The version running, if any. */
  running?: string;
  state: PluginState;
}

export interface LoadResult {
  /** Where the manifest came from: the server, the cache (offline or refused), or nowhere. */
  source: 'network' | 'cache' | 'none';
  manifest?: MobileManifest;
  plugins: PluginStatus[];
  problems: PluginProblem[];
}

/** A plugin as Mattermost defines it: initialize(registry, host) and optionally uninitialize(). */
export interface MobilePlugin {
  initialize(registry: unknown, host: HostContext): void | Promise<void>;
  uninitialize?(): void;
}

/** The second argument of initialize. */
export interface HostContext {
  serverURL: string;
  team: string;
  platform: Platform;
  runtimeVersion: string;
  /**
   * fetch against the mmtoolkit server with the app's Mattermost token:
   * `path` is absolute (`/api/v1/plugins/<id>/kv/user/x`,
   * `/api/v1/plugins/<id>/proxy/api/v4/posts`). A plugin never sees the token.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

interface Active {
  entry: ManifestPlugin; // the version running
  manifestVersion: string;
  plugin: MobilePlugin;
  registrations: Registration[];
  rendered: boolean;
  fallback: boolean;
}

interface StoredManifest {
  body: string; // base64 of the exact bytes signed
  signature: string;
  etag?: string;
}

interface CrashReport {
  pluginId: string;
  body: CrashReportBody;
}

class IntegrityError extends Error {}

export class PluginHost {
  readonly options: Required<Pick<PluginHostOptions, 'serverURL' | 'team' | 'platform' | 'runtimeVersion'>>;
  private readonly keys: Uint8Array[];
  private readonly storage: PluginStorage;
  private readonly fetchImpl: typeof fetch;
  private readonly opts: PluginHostOptions;
  private readonly modules: Record<string, unknown>;

  private active = new Map<string, Active>();
  private statuses = new Map<string, PluginStatus>();
  private snapshot: Record<SlotName, Registration[]> = {post_type: [], call_button: [], app_center: []};
  private listeners = new Set<() => void>();
  private reported = new Set<string>();
  private manifest?: MobileManifest;
  private pendingRegister?: MobilePlugin;
  private loading?: Promise<LoadResult>;

  constructor(opts: PluginHostOptions) {
    this.opts = opts;
    this.options = {
      serverURL: opts.serverURL.replace(/\/+$/, ''),
      team: opts.team,
      platform: opts.platform,
      runtimeVersion: opts.runtimeVersion ?? HOST_RUNTIME_VERSION,
    };
    this.keys = parsePublicKeys(opts.publicKey);
    this.storage = opts.storage ?? new MemoryStorage();
    this.fetchImpl = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
    const sdk = {
      runtimeVersion: this.options.runtimeVersion,
      platform: this.options.platform,
      // Mattermost's window.registerPlugin, for bundles written that way.
      registerPlugin: (_id: string, plugin: MobilePlugin) => {
        this.pendingRegister = plugin;
      },
    };
    // Exactly the modules the bundler leaves to the host
    // (bundler.MobileHostModules, generated): one more there fails the
    // type check here until the host provides it.
    const provided: Record<HostModuleName, unknown> = {
      react: React,
      'react/jsx-runtime': jsxRuntime,
      'react/jsx-dev-runtime': jsxRuntime,
      'react-native': ReactNative,
      '@mmtoolkit/mobile': sdk,
    };
    this.modules = {...provided, ...opts.modules};
  }

  // ---- subscription (useSyncExternalStore) ----

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The registrations of every slot; a new object after each change. */
  getSnapshot = (): Record<SlotName, Registration[]> => this.snapshot;

  registrations(slot: SlotName): Registration[] {
    return this.snapshot[slot];
  }

  status(): PluginStatus[] {
    return [...this.statuses.values()];
  }

  private emit() {
    const next: Record<SlotName, Registration[]> = {post_type: [], call_button: [], app_center: []};
    for (const a of this.active.values()) {
      for (const r of a.registrations) next[r.slot].push(r);
    }
    this.snapshot = next;
    this.listeners.forEach((l) => l());
  }

  private problem(p: PluginProblem, into?: PluginProblem[]) {
    into?.push(p);
    try {
      this.opts.onProblem?.(p);
    } catch {
      // an app's handler must not break loading
    }
  }

  // ---- loading ----

  /**
   * Fetches the manifest (or uses the verified cache when offline or when
   * the server's answer does not verify), then loads every plugin. Calls
   * made while a load runs share it.
   */
  load(): Promise<LoadResult> {
    if (!this.loading) {
      this.loading = this.doLoad().finally(() => {
        this.loading = undefined;
      });
    }
    return this.loading;
  }

  private async doLoad(): Promise<LoadResult> {
    const problems: PluginProblem[] = [];
    await this.flushReports();
    const {manifest, source} = await this.fetchManifest(problems);
    if (!manifest) {
      return {source: 'none', plugins: [], problems};
    }
    this.manifest = manifest;
    const wanted = new Set(manifest.plugins.map((p) => p.id));
    for (const id of [...this.active.keys()]) {
      if (!wanted.has(id)) this.deactivate(id);
    }
    for (const id of [...this.statuses.keys()]) {
      if (!wanted.has(id)) this.statuses.delete(id);
    }
    for (const entry of manifest.plugins) {
      await this.loadPlugin(entry, problems);
    }
    this.emit();
    return {source, manifest, plugins: this.status(), problems};
  }

  /** HostContext.fetch: same-server paths only, with the token and Mattermost's CSRF header. */
  private async pluginFetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
      throw new Error(`fetch: ${String(path)} is not an absolute path on the mmtoolkit server`);
    }
    const headers = new Headers(init.headers);
    const token = await this.token();
    if (token) headers.set('Authorization', `Bearer ${token}`);
    headers.set('X-Requested-With', 'XMLHttpRequest');
    return this.fetchImpl(this.options.serverURL.replace(/\/+$/, '') + path, {...init, headers});
  }

  private async token(): Promise<string | undefined> {
    const t = this.opts.token;
    return typeof t === 'function' ? await t() : t;
  }

  private manifestURL(): string {
    const o = this.options;
    const q = [`team=${encodeURIComponent(o.team)}`, `platform=${o.platform}`, `runtime=${encodeURIComponent(o.runtimeVersion)}`];
    if (this.opts.bytecode) q.push(`bytecode=${this.opts.bytecode.version}`);
    return `${o.serverURL}/api/v1/mobile/manifest?${q.join('&')}`;
  }

  private async cachedManifest(problems: PluginProblem[]): Promise<{manifest?: MobileManifest; stored?: StoredManifest}> {
    const raw = await this.storage.getItem(keys.manifest(this.options.team, this.options.platform));
    if (!raw) return {};
    try {
      const stored = JSON.parse(raw) as StoredManifest;
      const body = fromBase64(stored.body);
      // Storage is outside the app's code: check it again on every load.
      if (!verifySignature(this.keys, body, stored.signature)) {
        this.problem({kind: 'manifest_signature', message: 'the cached manifest does not verify against the pinned key; ignoring it'}, problems);
        return {};
      }
      const manifest = JSON.parse(utf8Decode(body)) as MobileManifest;
      if (!this.fits(manifest)) return {};
      return {manifest, stored};
    } catch {
      return {};
    }
  }

  /** Whether a manifest was made for this app (platform, runtime, bytecode). */
  private fits(m: MobileManifest): boolean {
    const o = this.options;
    return (
      m.platform === o.platform &&
      m.runtime === o.runtimeVersion.replace(/^v/, '') &&
      (m.bytecode ?? 0) === (this.opts.bytecode?.version ?? 0)
    );
  }

  private async fetchManifest(problems: PluginProblem[]): Promise<{manifest?: MobileManifest; source: LoadResult['source']}> {
    const cached = await this.cachedManifest(problems);
    const fromCache = () => ({manifest: cached.manifest, source: cached.manifest ? ('cache' as const) : ('none' as const)});
    const headers: Record<string, string> = {Accept: 'application/json'};
    const token = await this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (cached.stored?.etag) headers['If-None-Match'] = cached.stored.etag;
    let res: Response;
    try {
      res = await this.fetchImpl(this.manifestURL(), {headers});
    } catch (error) {
      this.problem({kind: 'manifest_fetch', message: `the manifest could not be fetched (${String(error)}); using the cache`, error}, problems);
      return fromCache();
    }
    if (res.status === 304 && cached.manifest) {
      return {manifest: cached.manifest, source: 'network'};
    }
    if (res.status !== 200) {
      let detail = '';
      try {
        detail = (await res.text()).slice(0, 300);
      } catch {
        // the body is only for the message
      }
      this.problem({kind: 'manifest_fetch', message: `the server answered ${res.status} ${detail}; using the cache`}, problems);
      return fromCache();
    }
    const body = new Uint8Array(await res.arrayBuffer());
    const signature = res.headers.get(SIGNATURE_HEADER);
    if (!verifySignature(this.keys, body, signature)) {
      this.problem(
        {kind: 'manifest_signature', message: 'the manifest is not signed by a pinned key: refused (nothing from it is loaded); using the cache'},
        problems,
      );
      return fromCache();
    }
    let manifest: MobileManifest;
    try {
      manifest = JSON.parse(utf8Decode(body)) as MobileManifest;
    } catch (error) {
      this.problem({kind: 'manifest_fetch', message: 'the signed manifest is not JSON', error}, problems);
      return fromCache();
    }
    if (!this.fits(manifest)) {
      this.problem({kind: 'manifest_signature', message: 'the signed manifest was made for another platform, runtime or bytecode version: refused'}, problems);
      return fromCache();
    }
    const stored: StoredManifest = {body: toBase64(body), signature: signature as string, etag: res.headers.get('ETag') ?? undefined};
    await this.storage.setItem(keys.manifest(this.options.team, this.options.platform), JSON.stringify(stored));
    return {manifest, source: 'network'};
  }

  /** Bytes of a bundle, from the cache when they still match, else from the server; always checked. */
  private async bundleBytes(entry: ManifestPlugin): Promise<Uint8Array> {
    const key = keys.bundle(entry.sha256);
    const cached = await this.storage.getItem(key);
    if (cached) {
      try {
        const bytes = fromBase64(cached);
        if (sha256Hex(bytes) === entry.sha256) return bytes;
      } catch {
        // fall through: refetch
      }
      await this.storage.removeItem(key);
    }
    const url = /^https?:\/\//.test(entry.url) ? entry.url : this.options.serverURL + entry.url;
    let res: Response;
    try {
      res = await this.fetchImpl(url);
    } catch (error) {
      throw new FetchError(`GET ${url}: ${errorMessage(error)}`);
    }
    if (res.status !== 200) throw new FetchError(`GET ${url}: ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const got = sha256Hex(bytes);
    if (got !== entry.sha256 || bytes.length !== entry.size) {
      throw new IntegrityError(`bundle ${url} has SHA-256 ${got} (${bytes.length} bytes); the signed manifest says ${entry.sha256} (${entry.size} bytes): refused`);
    }
    await this.storage.setItem(key, toBase64(bytes));
    return bytes;
  }

  private async readJSON<T>(key: string, def: T): Promise<T> {
    try {
      const raw = await this.storage.getItem(key);
      return raw ? (JSON.parse(raw) as T) : def;
    } catch {
      return def;
    }
  }

  private async isBad(entry: ManifestPlugin): Promise<boolean> {
    const bad = await this.readJSON<string[]>(keys.bad(entry.id), []);
    return bad.includes(entry.sha256);
  }

  private async markBad(entry: ManifestPlugin) {
    const bad = await this.readJSON<string[]>(keys.bad(entry.id), []);
    if (!bad.includes(entry.sha256)) {
      bad.push(entry.sha256);
      await this.storage.setItem(keys.bad(entry.id), JSON.stringify(bad.slice(-20)));
    }
  }

  private async loadPlugin(entry: ManifestPlugin, problems: PluginProblem[]) {
    const current = this.active.get(entry.id);
    if (current && current.manifestVersion === entry.version) {
      if (!current.fallback && current.entry.sha256 === entry.sha256) return; // already running it
      if (current.fallback && (await this.isBad(entry))) return; // still bad: keep the fallback
    }
    if (!(await this.isBad(entry))) {
      try {
        const bytes = await this.bundleBytes(entry);
        await this.activate(entry, entry.version, bytes, false);
        return;
      } catch (error) {
        await this.handleLoadFailure(entry, error, problems);
      }
    }
    await this.useLastGood(entry, problems);
  }

  private async handleLoadFailure(entry: ManifestPlugin, error: unknown, problems: PluginProblem[]) {
    const message = errorMessage(error);
    if (error instanceof IntegrityError) {
      this.problem({kind: 'bundle_integrity', message, pluginId: entry.id, version: entry.version, error}, problems);
    } else if (error instanceof FetchError) {
      this.problem({kind: 'bundle_fetch', message, pluginId: entry.id, version: entry.version, error}, problems);
    } else if (error instanceof BytecodeUnsupported) {
      this.problem({kind: 'bytecode_unsupported', message, pluginId: entry.id, version: entry.version, error}, problems);
    } else {
      // It threw while evaluating or in initialize: before its first render.
      this.problem({kind: 'crash', message, pluginId: entry.id, version: entry.version, slot: 'initialize', error}, problems);
      await this.markBad(entry);
      this.report(entry, error, 'initialize');
    }
  }

  /** Runs the last version of the plugin that rendered on this device, if any. */
  private async useLastGood(entry: ManifestPlugin, problems: PluginProblem[]) {
    this.deactivate(entry.id);
    const good = await this.readJSON<ManifestPlugin | null>(keys.good(entry.id), null);
    if (good && good.sha256 !== entry.sha256 && !(await this.isBad(good))) {
      try {
        const bytes = await this.bundleBytes(good);
        await this.activate(good, entry.version, bytes, true);
        return;
      } catch (error) {
        await this.handleLoadFailure(good, error, problems);
      }
    }
    this.statuses.set(entry.id, {id: entry.id, version: entry.version, state: 'failed'});
  }

  private factory(entry: ManifestPlugin, bytes: Uint8Array): ModuleFactory {
    const url = this.options.serverURL + entry.url;
    if (entry.format === 'hbc') {
      if (!this.opts.bytecode) throw new BytecodeUnsupported(`${entry.id}@${entry.version} is bytecode and the app has no bytecode evaluator`);
      return factoryFromBytecode(this.opts.bytecode, bytes, url);
    }
    return factoryFromJS(utf8Decode(bytes), url);
  }

  private async activate(entry: ManifestPlugin, manifestVersion: string, bytes: Uint8Array, fallback: boolean) {
    this.pendingRegister = undefined;
    const exports = runFactory(this.factory(entry, bytes), hostRequireFor(this.modules));
    const registered = this.pendingRegister as MobilePlugin | undefined;
    this.pendingRegister = undefined;
    const plugin: MobilePlugin = registered ?? exports?.default ?? exports;
    if (!plugin || typeof plugin.initialize !== 'function') {
      throw new Error(`${entry.id}@${entry.version} exports no initialize(registry) (export default {initialize} or call registerPlugin)`);
    }
    const registrations: Registration[] = [];
    const registry = createRegistry(entry.id, entry.version, registrations, () => {
      if (this.active.get(entry.id)?.registrations === registrations) this.emit();
    });
    // Registrations count only if initialize succeeds: a plugin that throws
    // halfway leaves nothing behind.
    await plugin.initialize(registry, {
      serverURL: this.options.serverURL,
      team: this.manifest?.team ?? this.options.team,
      platform: this.options.platform,
      runtimeVersion: this.options.runtimeVersion,
      fetch: (path, init) => this.pluginFetch(path, init),
    });
    this.deactivate(entry.id);
    this.active.set(entry.id, {entry, manifestVersion, plugin, registrations, rendered: false, fallback});
    this.statuses.set(entry.id, {id: entry.id, version: manifestVersion, running: entry.version, state: fallback ? 'fallback' : 'active'});
  }

  private deactivate(id: string) {
    const a = this.active.get(id);
    if (!a) return;
    this.active.delete(id);
    try {
      a.plugin.uninitialize?.();
    } catch {
      // a plugin's clean-up must not stop the host
    }
  }

  /** Unloads every plugin. */
  unload() {
    for (const id of [...this.active.keys()]) this.deactivate(id);
    this.statuses.clear();
    this.emit();
  }

  // ---- called by the error boundaries (react.tsx) ----

  /** A registration rendered: its version is good on this device. */
  rendered(reg: Registration) {
    const a = this.active.get(reg.pluginId);
    if (!a || a.entry.version !== reg.version || a.rendered) return;
    a.rendered = true;
    this.storage.setItem(keys.good(reg.pluginId), JSON.stringify(a.entry)).catch(() => {});
  }

  /**
   * A registration threw while rendering. A version that never rendered is
   * marked bad and replaced by the last good one; one that rendered before
   * stays (only this registration is hidden). Either way it is reported.
   */
  renderCrashed(reg: Registration, error: unknown, slot: SlotName) {
    const a = this.active.get(reg.pluginId);
    this.problem({kind: 'crash', message: errorMessage(error), pluginId: reg.pluginId, version: reg.version, slot, error});
    if (!a || a.entry.version !== reg.version) return;
    this.report(a.entry, error, slot);
    if (a.rendered) return;
    const entry = a.entry;
    const manifestEntry = this.manifest?.plugins.find((p) => p.id === reg.pluginId) ?? entry;
    this.deactivate(reg.pluginId);
    this.statuses.set(reg.pluginId, {id: reg.pluginId, version: manifestEntry.version, state: 'failed'});
    this.emit();
    void (async () => {
      await this.markBad(entry);
      if (manifestEntry.sha256 !== entry.sha256) {
        // The crashing one was already a fallback; try the manifest's again only after a restart.
        return;
      }
      await this.useLastGood(manifestEntry, []);
      this.emit();
    })();
  }

  // ---- crash reports ----

  private report(entry: ManifestPlugin, error: unknown, slot: string) {
    if (this.opts.reportCrashes === false) return;
    const k = `${entry.id}@${entry.version}/${slot}`;
    if (this.reported.has(k)) return; // once per session: the server counts devices, not renders
    this.reported.add(k);
    const r: CrashReport = {
      pluginId: entry.id,
      body: {
        version: entry.version,
        message: errorMessage(error).slice(0, 2000),
        stack: error instanceof Error && error.stack ? error.stack.slice(0, 8000) : undefined,
        slot,
        platform: this.options.platform,
        team_id: this.manifest?.team,
      },
    };
    void this.send(r).then(async (ok) => {
      if (ok) return;
      const queued = await this.readJSON<CrashReport[]>(keys.reports, []);
      queued.push(r);
      await this.storage.setItem(keys.reports, JSON.stringify(queued.slice(-50)));
    });
  }

  private async send(r: CrashReport): Promise<boolean> {
    try {
      const headers: Record<string, string> = {'Content-Type': 'application/json'};
      const token = await this.token();
      if (token) headers.Authorization = `Bearer ${token}`;
      const res = await this.fetchImpl(`${this.options.serverURL}/api/v1/plugins/${encodeURIComponent(r.pluginId)}/errors`, {
        method: 'POST',
        headers,
        body: JSON.stringify(r.body),
      });
      // A 4xx (unknown plugin, rate limited) will not get better by retrying.
      return res.status < 500;
    } catch {
      return false;
    }
  }

  /** Sends crash reports queued while offline. */
  private async flushReports() {
    const queued = await this.readJSON<CrashReport[]>(keys.reports, []);
    if (queued.length === 0) return;
    const left: CrashReport[] = [];
    for (const r of queued) {
      if (!(await this.send(r))) left.push(r);
    }
    if (left.length) await this.storage.setItem(keys.reports, JSON.stringify(left));
    else await this.storage.removeItem(keys.reports);
  }
}

class FetchError extends Error {}
class BytecodeUnsupported extends Error {}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
