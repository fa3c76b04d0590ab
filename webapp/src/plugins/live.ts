// Live plugin changes: what the host does with mmtoolkit's events on
// /api/v1/websocket. Events about another team than the one on screen are
// ignored (the server scopes them to team members; a member of two teams
// sees only the current team's plugins).
import type {HostStore} from '../store';
import {viewsActions, type BuildDiagnostic} from '../store/views_slice';

import type {CrashReporter} from './crash';
import {dispatchToPlugins, type WebSocketMessage} from './events';
import type {PluginLoader} from './loader';
import type {SlotMap} from './slot_map';
import type {ManifestPlugin} from './types';

export interface LiveDeps {
    store: HostStore;
    loader: Pick<PluginLoader, 'load' | 'remove'>;
    slots: SlotMap;
    report: CrashReporter;
}

interface EventData {
    team_id?: string;
    plugin_id?: string;
    plugin?: ManifestPlugin;
    diagnostics?: BuildDiagnostic[];
    message?: string;
}

export function applyToolkitEvent(deps: LiveDeps, currentTeamId: string, msg: WebSocketMessage) {
    const d = (msg.data ?? {}) as EventData;
    const forThisTeam = !d.team_id || d.team_id === currentTeamId;
    const {store, loader} = deps;
    switch (msg.event) {
    case 'plugin_enabled':
    case 'plugin_updated':
        if (forThisTeam && d.plugin) {
            if (store.getState().views.buildFailure?.pluginId === d.plugin.id) {
                store.dispatch(viewsActions.buildFixed()); // a good push after a failed one
            }
            loader.load(d.plugin);
        }
        return;
    case 'plugin_disabled':
        if (forThisTeam && d.plugin_id) {
            loader.remove(d.plugin_id);
        }
        return;
    case 'plugin_build_failed':
        if (d.plugin_id) {
            store.dispatch(viewsActions.buildFailed({
                pluginId: d.plugin_id, diagnostics: d.diagnostics ?? [], message: d.message ?? '', at: Date.now(),
            }));
        }
        return;
    }
    // Everything else (custom_<pluginid>_<event>) is for plugins' handlers.
    dispatchToPlugins(deps.slots, deps.report, msg);
}
