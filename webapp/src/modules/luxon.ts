// Lazy host module: window.Luxon for plugins that use it (Calls and
// Playbooks take luxon as the webpack external `Luxon`, as Mattermost's
// webpack-web-app-externals.cjs lists it).
import * as Luxon from 'luxon';

(window as unknown as {Luxon: unknown}).Luxon = Luxon;
