// The mobile manifest as GET /api/v1/mobile/manifest serves it (Go:
// slots.MobileManifest). docs/mobile.md describes every field.

export type Platform = 'ios' | 'android';
export type BundleFormat = 'js' | 'hbc';

export interface SlotFill {
  slot: string;
  post_type?: string;
}

export interface ManifestPlugin {
  id: string;
  name: string;
  version: string;
  format: BundleFormat;
  url: string;
  /** SHA-256 (hex) of the bytes at url. */
  sha256: string;
  size: number;
  bytecode_version?: number;
  runtime?: string;
  slots: SlotFill[];
}

export interface MobileManifest {
  team: string;
  platform: Platform;
  runtime: string;
  bytecode?: number;
  plugins: ManifestPlugin[];
  skipped: {id: string; version: string; reason: string; runtime: string}[];
}

/** The mobile slots (slots catalogue: platforms ios and android). */
export type SlotName = 'post_type' | 'call_button' | 'app_center';
export const SLOT_NAMES: readonly SlotName[] = ['post_type', 'call_button', 'app_center'];

/** Why something a plugin needs was refused or failed. */
export type PluginProblemKind =
  | 'manifest_signature' // the manifest's signature does not verify against a pinned key
  | 'manifest_fetch' // the manifest could not be fetched (offline: the cache is used)
  | 'bundle_integrity' // a bundle's bytes do not match the manifest's SHA-256
  | 'bundle_fetch' // a bundle could not be fetched
  | 'bytecode_unsupported' // an hbc entry without a bytecode evaluator
  | 'crash'; // the plugin threw (evaluation, initialize or render)

export interface PluginProblem {
  kind: PluginProblemKind;
  message: string;
  pluginId?: string;
  version?: string;
  slot?: string;
  error?: unknown;
}
