// The host's own state about plugins: the team's manifest and each plugin's
// lifecycle. Serialisable data only; components live in the slot map.
import {createSlice, type PayloadAction} from '@reduxjs/toolkit';

import type {ManifestPlugin} from '../plugins/types';

export type PluginPhase = 'loading' | 'loaded' | 'failed' | 'crashed';

export interface PluginStatus {
    phase: PluginPhase;
    version: string;
    /** Why it failed or crashed, for the notice and the developer. */
    error?: string;
    /** Where a crash happened: initialize, render, handler, load. */
    where?: string;
}

export interface Crash {
    pluginId: string;
    message: string;
    where: string;
    slot?: string;
    registrationId?: string;
    at: number;
}

export interface PluginsState {
    /** Team whose manifest is loaded. */
    teamId: string;
    /** Manifest entries by plugin id (Mattermost keeps state.plugins.plugins too). */
    plugins: Record<string, ManifestPlugin>;
    status: Record<string, PluginStatus>;
    /** Registrations that crashed (render or handler), by registration id. */
    crashedRegistrations: Record<string, Crash>;
    /** Recent crashes, newest last, bounded. */
    crashes: Crash[];
    /** Set when every plugin of the current manifest settled (loaded or failed). */
    settledAt: number;
}

const initialState: PluginsState = {
    teamId: '',
    plugins: {},
    status: {},
    crashedRegistrations: {},
    crashes: [],
    settledAt: 0,
};

const maxCrashes = 50;

export const pluginsSlice = createSlice({
    name: 'plugins',
    initialState,
    reducers: {
        manifestLoaded(state, action: PayloadAction<{teamId: string; plugins: ManifestPlugin[]}>) {
            state.teamId = action.payload.teamId;
            state.plugins = {};
            for (const p of action.payload.plugins) {
                state.plugins[p.id] = p;
            }
            for (const id of Object.keys(state.status)) {
                if (!state.plugins[id]) {
                    delete state.status[id];
                }
            }
            state.settledAt = 0;
        },
        bundleRequested(state, action: PayloadAction<ManifestPlugin>) {
            const p = action.payload;
            state.plugins[p.id] = p;
            state.status[p.id] = {phase: 'loading', version: p.version};
        },
        /** The same bundle, now under another version or preview mark. */
        entryUpdated(state, action: PayloadAction<ManifestPlugin>) {
            const p = action.payload;
            state.plugins[p.id] = p;
            const s = state.status[p.id];
            if (s) {
                s.version = p.version;
            }
        },
        bundleLoaded(state, action: PayloadAction<{id: string; version: string}>) {
            state.status[action.payload.id] = {phase: 'loaded', version: action.payload.version};
        },
        bundleFailed(state, action: PayloadAction<{id: string; version: string; error: string}>) {
            const {id, version, error} = action.payload;
            state.status[id] = {phase: 'failed', version, error, where: 'load'};
        },
        crashed(state, action: PayloadAction<Crash>) {
            const c = action.payload;
            if (c.registrationId) {
                state.crashedRegistrations[c.registrationId] = c;
            } else if (c.where === 'event') {
                // An uncaught error or rejection of the plugin's own code
                // (a handler, a timer, a fetch whose server part is not
                // there) is reported and kept, but its registrations stay:
                // Mattermost leaves such a plugin running, and real plugins
                // rely on that (a failed status fetch must not blank them).
            } else {
                const s = state.status[c.pluginId];
                state.status[c.pluginId] = {phase: 'crashed', version: s?.version ?? '', error: c.message, where: c.where};
            }
            state.crashes.push(c);
            if (state.crashes.length > maxCrashes) {
                state.crashes.splice(0, state.crashes.length - maxCrashes);
            }
        },
        /** The user clicked "Refresh?" on a notice: try rendering again. */
        crashCleared(state, action: PayloadAction<string>) {
            delete state.crashedRegistrations[action.payload];
        },
        /** The user asked to try a crashed plugin again. */
        recovered(state, action: PayloadAction<string>) {
            const s = state.status[action.payload];
            if (s?.phase === 'crashed' && s.where !== 'initialize') {
                state.status[action.payload] = {phase: 'loaded', version: s.version};
            }
        },
        removed(state, action: PayloadAction<string>) {
            delete state.plugins[action.payload];
            delete state.status[action.payload];
            for (const [rid, c] of Object.entries(state.crashedRegistrations)) {
                if (c.pluginId === action.payload) {
                    delete state.crashedRegistrations[rid];
                }
            }
        },
        settled(state, action: PayloadAction<number>) {
            state.settledAt = action.payload;
        },
    },
});

export const pluginsActions = pluginsSlice.actions;
