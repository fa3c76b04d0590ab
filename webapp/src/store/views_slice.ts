// What the host shows around the plugins: the right-hand sidebar and the
// developer overlay. Serialisable data only. views.rhs has the keys of
// Mattermost's RhsViewState (isSidebarOpen, isSidebarExpanded, rhsState,
// pluggableId, selectedPostId, selectedPostCardId), because plugins read
// them directly (Playbooks' RHS opener reads views.rhs.isSidebarOpen).
import {createSlice, type PayloadAction} from '@reduxjs/toolkit';

import type {BuildDiagnostic} from '../generated/events';

/** One diagnostic of a failed push (bundler.Diagnostic, generated). */
export type {BuildDiagnostic};

/** Mattermost's RHSStates values this host shows. */
export const RHSStates = {PLUGIN: 'plugin', POST_CARD: 'post_card', THREAD: 'thread'} as const;

export interface RhsViewState {
    isSidebarOpen: boolean;
    isSidebarExpanded: boolean;
    /** RHSStates.PLUGIN when a plugin's RHS is shown, null when closed. */
    rhsState: string | null;
    /** The registration id of the plugin RHS shown ('' otherwise). */
    pluggableId: string;
    selectedPostId: string;
    /** registerPostCardTypeComponent: the post whose card the RHS shows. */
    selectedPostCardId: string;
}

export interface ViewsState {
    rhs: RhsViewState;
    /** The last failed push of a plugin the page shows (dev loop). */
    buildFailure: {pluginId: string; diagnostics: BuildDiagnostic[]; message: string; at: number} | null;
    mainMenuOpen: boolean;
    /** A notice for the user (a hook rejected a post, ...). */
    notice: string;
}

const closedRhs: RhsViewState = {
    isSidebarOpen: false, isSidebarExpanded: false, rhsState: null, pluggableId: '', selectedPostId: '', selectedPostCardId: '',
};

const initialState: ViewsState = {
    rhs: closedRhs,
    buildFailure: null,
    mainMenuOpen: false,
    notice: '',
};

export const viewsSlice = createSlice({
    name: 'views',
    initialState,
    reducers: {
        rhsPluginShown(state, action: PayloadAction<string>) {
            state.rhs = {...closedRhs, isSidebarExpanded: state.rhs.isSidebarExpanded, isSidebarOpen: true,
                rhsState: RHSStates.PLUGIN, pluggableId: action.payload};
        },
        rhsClosed(state) {
            state.rhs = closedRhs;
        },
        /** Mattermost's selectPostCard: the RHS shows a post's card. */
        rhsPostCardShown(state, action: PayloadAction<string>) {
            state.rhs = {...closedRhs, isSidebarExpanded: state.rhs.isSidebarExpanded, isSidebarOpen: true,
                rhsState: RHSStates.POST_CARD, selectedPostCardId: action.payload};
        },
        /** Mattermost's selectPost (ProductApi.selectRhsPost): the RHS shows a post. */
        rhsPostSelected(state, action: PayloadAction<string>) {
            state.rhs = action.payload ?
                {...closedRhs, isSidebarExpanded: state.rhs.isSidebarExpanded, isSidebarOpen: true, rhsState: RHSStates.THREAD, selectedPostId: action.payload} :
                closedRhs;
        },
        rhsExpanded(state, action: PayloadAction<boolean | undefined>) {
            state.rhs.isSidebarExpanded = action.payload ?? !state.rhs.isSidebarExpanded;
        },
        buildFailed(state, action: PayloadAction<NonNullable<ViewsState['buildFailure']>>) {
            state.buildFailure = action.payload;
        },
        buildFixed(state) {
            state.buildFailure = null;
        },
        mainMenuToggled(state, action: PayloadAction<boolean | undefined>) {
            state.mainMenuOpen = action.payload ?? !state.mainMenuOpen;
        },
        noticeShown(state, action: PayloadAction<string>) {
            state.notice = action.payload;
        },
    },
});

export const viewsActions = viewsSlice.actions;

type WithViews = {views: ViewsState};

/** Mattermost's getIsRhsOpen. */
export const getIsRhsOpen = (s: WithViews) => s.views.rhs.isSidebarOpen;
/** Mattermost's getIsRhsExpanded. */
export const getIsRhsExpanded = (s: WithViews) => s.views.rhs.isSidebarExpanded;
/** Mattermost's getSelectedPostId. */
export const getRhsSelectedPostId = (s: WithViews) => s.views.rhs.selectedPostId;
/** Mattermost's getPluggableId. */
export const getPluggableId = (s: WithViews) => s.views.rhs.pluggableId;
