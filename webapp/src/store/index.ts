// The host store: mattermost-redux's own store (so state.entities has
// Mattermost's exact shape and plugins' mattermost-redux selectors work),
// with the host's feature slices added as app reducers. Plugin reducers
// join through mattermost-redux's reducer registry, as in Mattermost.
import configureMattermostStore from 'mattermost-redux/store';
import reducerRegistry from 'mattermost-redux/store/reducer_registry';
import type {GlobalState} from '@mattermost/types/store';
import {useDispatch, useSelector, type TypedUseSelectorHook} from 'react-redux';
import type {Reducer, Store} from 'redux';

import {pluginsSlice, type PluginsState} from './plugins_slice';
import {viewsSlice, type ViewsState} from './views_slice';

export interface HostState extends GlobalState {
    plugins: PluginsState;
    views: ViewsState;
}

// Thunks are how plugins dispatch Mattermost actions (toggleRHSPlugin is one).
export type HostThunk<R = unknown> = (dispatch: HostDispatch, getState: () => HostState) => R;
export type HostDispatch = (<R>(t: HostThunk<R>) => R) & ((action: {type: string; [k: string]: unknown}) => unknown);
export type HostStore = Store<HostState> & {dispatch: HostDispatch};

export function createHostStore(preloaded: Partial<GlobalState> = {}): HostStore {
    return configureMattermostStore({
        appReducers: {plugins: pluginsSlice.reducer, views: viewsSlice.reducer},
        getAppReducers: () => ({plugins: pluginsSlice.reducer, views: viewsSlice.reducer}),
        preloadedState: preloaded,
    }) as unknown as HostStore;
}

/** Mounts a plugin's reducer at state['plugins-<id>'] (Mattermost's key). */
export function registerPluginReducer(pluginId: string, reducer: Reducer) {
    reducerRegistry.register(`plugins-${pluginId}`, reducer);
}

export const useAppDispatch: () => HostDispatch = useDispatch as never;
export const useAppSelector: TypedUseSelectorHook<HostState> = useSelector;

export const selectPlugins = (s: HostState) => s.plugins;
export const selectRhs = (s: HostState) => s.views.rhs;
