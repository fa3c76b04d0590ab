// The plugin's state in the host store (registerReducer puts it at
// state['plugins-mmtoolkit.map']): the place the RHS shows.
import type {Location} from '../shared/coords';

export const PLUGIN_ID = 'mmtoolkit.map';
export const STATE_KEY = `plugins-${PLUGIN_ID}`;

export interface Shown {
    location: Location;
    postId: string;
    /** The message the coordinates were found in. */
    message: string;
}

export interface MapState {
    shown: Shown | null;
}

const SHOW = `${PLUGIN_ID}/show`;

export function show(shown: Shown) {
    return {type: SHOW, shown};
}

export function reducer(state: MapState = {shown: null}, action: {type: string; shown?: Shown}): MapState {
    return action.type === SHOW && action.shown ? {shown: action.shown} : state;
}

export function selectShown(state: Record<string, unknown>): Shown | null {
    return (state[STATE_KEY] as MapState | undefined)?.shown ?? null;
}
