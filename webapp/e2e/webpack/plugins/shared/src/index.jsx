// A plugin importing @mattermost/shared components as Playbooks does: with
// Mattermost's webpack-web-app-externals.cjs they become `promise
// globalThis.loadSharedDependency(request)` externals (e2e/webpack/
// run_webpack.cjs does the same for webpack 5), so the bundle waits for the
// host's modules before it runs, then registers.
import React from 'react';
import {WithTooltip} from '@mattermost/shared/components/tooltip';
import {Button} from '@mattermost/shared/components/button';

function Shared() {
    return (
        <WithTooltip title='Shared tooltip'>
            <Button emphasis='tertiary' className='shared-button'>{'Shared'}</Button>
        </WithTooltip>
    );
}

window.registerPlugin('e2e.shared', {
    initialize(registry) {
        registry.registerChannelHeaderButtonAction(<Shared/>, () => undefined, 'Shared', 'Shared');
    },
});
