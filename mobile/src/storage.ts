// Where the host keeps what must survive a restart: the last verified
// manifest, bundle bytes, the versions marked bad and the last good one of
// each plugin, and crash reports not yet delivered.

/** The storage the host needs: AsyncStorage's shape, strings only. */
export interface PluginStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

/** Keeps everything in memory: tests, and apps that want no persistence. */
export class MemoryStorage implements PluginStorage {
  readonly items = new Map<string, string>();
  async getItem(key: string): Promise<string | null> {
    return this.items.has(key) ? (this.items.get(key) as string) : null;
  }
  async setItem(key: string, value: string): Promise<void> {
    this.items.set(key, value);
  }
  async removeItem(key: string): Promise<void> {
    this.items.delete(key);
  }
}

/** The subset of @react-native-async-storage/async-storage the adapter uses. */
export interface AsyncStorageLike {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

/**
 * Adapts AsyncStorage (or anything with its shape, e.g. an MMKV wrapper),
 * keeping the host's keys under a prefix so they do not mix with the app's.
 */
export function asyncStorageAdapter(store: AsyncStorageLike, prefix = '@mmtoolkit/'): PluginStorage {
  return {
    getItem: (key) => store.getItem(prefix + key),
    setItem: (key, value) => store.setItem(prefix + key, value),
    removeItem: (key) => store.removeItem(prefix + key),
  };
}

/** The keys the host writes. */
export const keys = {
  manifest: (team: string, platform: string) => `manifest/${team}/${platform}`,
  bundle: (sha256: string) => `bundle/${sha256}`,
  bad: (pluginId: string) => `bad/${pluginId}`,
  good: (pluginId: string) => `good/${pluginId}`,
  reports: 'reports',
};
