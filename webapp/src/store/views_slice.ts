// What the host shows around the plugins: the right-hand sidebar and the
// developer overlay. Serialisable data only.
import {createSlice, type PayloadAction} from '@reduxjs/toolkit';

export interface BuildDiagnostic {
    file: string;
    line: number;
    column: number;
    text: string;
}

export interface ViewsState {
    rhs: {open: boolean; pluggableId: string};
    /** The last failed push of a plugin the page shows (dev loop). */
    buildFailure: {pluginId: string; diagnostics: BuildDiagnostic[]; message: string; at: number} | null;
    mainMenuOpen: boolean;
    /** A notice for the user (a hook rejected a post, ...). */
    notice: string;
}

const initialState: ViewsState = {
    rhs: {open: false, pluggableId: ''},
    buildFailure: null,
    mainMenuOpen: false,
    notice: '',
};

export const viewsSlice = createSlice({
    name: 'views',
    initialState,
    reducers: {
        rhsPluginShown(state, action: PayloadAction<string>) {
            state.rhs = {open: true, pluggableId: action.payload};
        },
        rhsClosed(state) {
            state.rhs = {open: false, pluggableId: ''};
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
