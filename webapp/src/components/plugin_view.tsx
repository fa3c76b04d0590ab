// Plugin views in the center: registerNeedsTeamRoute (/:team/:pluginId/route),
// registerCustomRoute (/plug/:pluginId/route) and registerProduct (/baseURL).
import {useHost} from '../host';
import type {Registration} from '../plugins/types';
import {useAppSelector} from '../store';

import {Boundary, PluginNotice, useSlot, useTheme} from './slot';

function matches(r: Registration, pluginId: string, rest: string): boolean {
    const route = r.route ?? '';
    return r.pluginId === pluginId && (route === '' || rest === route || rest.startsWith(route + '/'));
}

export function PluginView({pluginId, rest, custom = false}: {pluginId: string; rest: string; custom?: boolean}) {
    const host = useHost();
    const theme = useTheme();
    const regs = useSlot('app_center');
    const status = useAppSelector((s) => s.plugins.status[pluginId]);
    const settled = useAppSelector((s) => s.plugins.settledAt > 0);
    const kind = custom ? 'custom' : 'needs_team';
    // The most specific route wins.
    const reg = regs.filter((r) => r.extra?.kind === kind && matches(r, pluginId, rest)).
        sort((a, b) => (b.route ?? '').length - (a.route ?? '').length)[0];
    if (status?.phase === 'crashed') {
        return <div className='plugin-view'><PluginNotice pluginId={pluginId}/></div>;
    }
    if (!reg?.component) {
        return (
            <div className='plugin-view empty'>
                {settled && !status ? `No plugin ${pluginId} is enabled for this team.` : 'Loading…'}
            </div>
        );
    }
    const C = reg.component;
    return (
        <div className='plugin-view app-center' data-plugin-view={pluginId}>
            <Boundary registration={reg}>
                <C theme={theme} webSocketClient={host.mmSocket}/>
            </Boundary>
        </div>
    );
}

export function ProductView({base}: {base: string}) {
    const theme = useTheme();
    const host = useHost();
    const reg = useSlot('product').find((r) => r.route === base);
    if (!reg?.component) {
        return <div className='plugin-view empty'>{'Loading…'}</div>;
    }
    const C = reg.component;
    return (
        <div className='plugin-view product' data-plugin-view={reg.pluginId}>
            <Boundary registration={reg}>
                <C theme={theme} webSocketClient={host.mmSocket}/>
            </Boundary>
        </div>
    );
}
