// Modals plugins open. In Mattermost, WebappUtils.modals.openModal is an
// action creator: plugins write dispatch(openModal({modalId, dialogType,
// dialogProps})), often from inside a thunk. So opening is an action,
// {type: 'MODAL_OPEN', ...} as Mattermost's, and the open modals are the
// state of a reducer every action reaches, thunks' included (a wrapper
// around store.dispatch would miss what thunks dispatch). The reducer joins
// mattermost-redux's reducer registry once the store exists
// (attachModalStore); before that, and in tests without a store, a local
// list stands in. Entries hold component references, as Mattermost's
// views.modals does.
import type {ComponentType} from 'react';
import reducerRegistry from 'mattermost-redux/store/reducer_registry';

export interface ModalEntry {
    modalId: string;
    dialogType: ComponentType<any>;
    dialogProps?: Record<string, unknown>;
}

/** Mattermost's ActionTypes.MODAL_OPEN / MODAL_CLOSE. */
export const MODAL_OPEN = 'MODAL_OPEN';
export const MODAL_CLOSE = 'MODAL_CLOSE';

export type ModalAction = ({type: typeof MODAL_OPEN} & ModalEntry) | {type: typeof MODAL_CLOSE; modalId: string};

/** Mattermost's openModal: the action, for plugins to dispatch. */
export function openModal(m: ModalEntry): ModalAction {
    return {type: MODAL_OPEN, modalId: m.modalId, dialogType: m.dialogType, dialogProps: m.dialogProps};
}

/** Mattermost's closeModal. */
export function closeModal(modalId: string): ModalAction {
    return {type: MODAL_CLOSE, modalId};
}

/** The state key the reducer has in the host store. */
export const MODALS_KEY = 'mmtoolkit_modals';

const none: ModalEntry[] = [];

export function modalsReducer(state: ModalEntry[] = none, action: {type: string; [k: string]: unknown}): ModalEntry[] {
    switch (action.type) {
    case MODAL_OPEN: {
        const a = action as unknown as ModalEntry;
        if (typeof a.modalId !== 'string' || !a.dialogType) {
            return state;
        }
        return [...state.filter((x) => x.modalId !== a.modalId), {modalId: a.modalId, dialogType: a.dialogType, dialogProps: a.dialogProps}];
    }
    case MODAL_CLOSE:
        return state.some((x) => x.modalId === action.modalId) ? state.filter((x) => x.modalId !== action.modalId) : state;
    default:
        return state;
    }
}

interface StoreLike {
    dispatch: (a: ModalAction) => unknown;
    getState: () => unknown;
    subscribe: (l: () => void) => () => void;
}

type Listener = () => void;
let store: StoreLike | null = null;
let local: ModalEntry[] = none;
const listeners = new Set<Listener>();

function current(): ModalEntry[] {
    if (store) {
        return ((store.getState() as Record<string, ModalEntry[] | undefined>)[MODALS_KEY]) ?? none;
    }
    return local;
}

let last = current();
function emitIfChanged() {
    const now = current();
    if (now !== last) {
        last = now;
        listeners.forEach((l) => l());
    }
}

/** Puts the modals in the host store's state: call once the store exists. */
export function attachModalStore(s: StoreLike) {
    reducerRegistry.register(MODALS_KEY, modalsReducer as never);
    store = s;
    for (const m of local) {
        s.dispatch(openModal(m)); // opened before the store existed
    }
    local = none;
    s.subscribe(emitIfChanged);
    emitIfChanged();
}

/** What ModalHost renders, and how host code opens and closes modals. */
export const modalStore = {
    subscribe(l: Listener) {
        listeners.add(l);
        return () => listeners.delete(l);
    },
    get: () => last,
    open(m: ModalEntry) {
        if (store) {
            store.dispatch(openModal(m));
        } else {
            local = modalsReducer(local, openModal(m) as never);
            emitIfChanged();
        }
    },
    close(modalId: string) {
        if (store) {
            store.dispatch(closeModal(modalId));
        } else {
            local = modalsReducer(local, closeModal(modalId) as never);
            emitIfChanged();
        }
    },
};
