// Live plugin changes: what the host does with mmtoolkit's events on
// /api/v1/websocket. Events about another team than the one on screen are
// ignored (the server scopes them to team members; a member of two teams
// sees only the current team's plugins).
import type {HostStore} from '../store';
import {ToolkitEvents, type BuildFailedData, type PluginEventData} from '../generated/events';
import {viewsActions} from '../store/views_slice';

import type {CrashReporter} from './crash';
import {dispatchToPlugins, type WebSocketMessage} from './events';
import type {PluginLoader} from './loader';
import type {SlotMap} from './slot_map';

export interface LiveDeps {
    store: HostStore;
    loader: Pick<PluginLoader, 'load' | 'remove'>;
    slots: SlotMap;
    report: CrashReporter;
}

/** The data of mmtoolkit's events (server/events.go, server/push.go; generated). */
type EventData = Partial<PluginEventData & BuildFailedData>;

export function applyToolkitEvent(deps: LiveDeps, currentTeamId: string, msg: WebSocketMessage) {
    const d = (msg.data ?? {}) as EventData;
    const forThisTeam = !d.team_id || d.team_id === currentTeamId;
    const {store, loader} = deps;
    switch (msg.event) {
    case ToolkitEvents.PluginEnabled:
    case ToolkitEvents.PluginUpdated:
        if (forThisTeam && d.plugin) {
            if (store.getState().views.buildFailure?.pluginId === d.plugin.id) {
                store.dispatch(viewsActions.buildFixed()); // a good push after a failed one
            }
            loader.load(d.plugin);
        }
        return;
    case ToolkitEvents.PluginDisabled:
        if (forThisTeam && d.plugin_id) {
            loader.remove(d.plugin_id);
        }
        return;
    case ToolkitEvents.PluginBuildFailed:
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
