// The slot map: every registration of every plugin, by slot. It sits beside
// the Redux store rather than in it because it holds component references
// and callbacks, which are not serialisable (STYLE.md: this is where we
// differ from Mattermost, whose state.plugins.components holds them).
// React reads it with useSyncExternalStore through subscribe/getVersion.
import type {Registration, SlotName} from './types';

type Listener = () => void;

export class SlotMap {
    private byId = new Map<string, Registration>();
    private listeners = new Set<Listener>();
    private version = 0;
    // Cached per-slot lists, so selectors return stable arrays between changes.
    private cache = new Map<string, Registration[]>();

    add(r: Registration): string {
        this.byId.set(r.id, r);
        this.changed();
        return r.id;
    }

    /** Removes one registration; reports whether it existed. */
    remove(id: string): boolean {
        const ok = this.byId.delete(id);
        if (ok) {
            this.changed();
        }
        return ok;
    }

    /** Removes every registration of a plugin (disable, upgrade). */
    removePlugin(pluginId: string): number {
        let n = 0;
        for (const [id, r] of this.byId) {
            if (r.pluginId === pluginId) {
                this.byId.delete(id);
                n++;
            }
        }
        if (n > 0) {
            this.changed();
        }
        return n;
    }

    get(id: string): Registration | undefined {
        return this.byId.get(id);
    }

    /** Registrations of a slot, in registration order. */
    list(slot: SlotName): Registration[] {
        let l = this.cache.get(slot);
        if (!l) {
            l = [...this.byId.values()].filter((r) => r.slot === slot);
            this.cache.set(slot, l);
        }
        return l;
    }

    /** The component registered last for a custom post type, as Mattermost's postTypes[type]. */
    postType(type: string): Registration | undefined {
        const l = this.list('post_type');
        for (let i = l.length - 1; i >= 0; i--) {
            if (l[i].key === type) {
                return l[i];
            }
        }
        return undefined;
    }

    pluginIds(): Set<string> {
        return new Set([...this.byId.values()].map((r) => r.pluginId));
    }

    subscribe = (l: Listener): (() => void) => {
        this.listeners.add(l);
        return () => this.listeners.delete(l);
    };

    getVersion = (): number => this.version;

    private changed() {
        this.version++;
        this.cache.clear();
        for (const l of [...this.listeners]) {
            l();
        }
    }
}
