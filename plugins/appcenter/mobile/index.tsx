// mmtoolkit.appcenter, mobile part: the App Center in the app_center slot,
// registered with Mattermost's registerProduct (mainComponent, switcherText).
// host.fetch is the app's authenticated fetch against the mmtoolkit server.
import type {ReactElement} from 'react';

import type {HostContext} from '@mmtoolkit/mobile';

import {messagesFor} from '../shared/i18n';

import {AppCenter, type AppCenterProps} from './app_center';

interface Registry {
    registerProduct(options: {mainComponent: (props: Omit<AppCenterProps, 'host'>) => ReactElement; switcherText: string}): string;
}

export default {
    initialize(registry: Registry, host: HostContext) {
        const Screen = (props: Omit<AppCenterProps, 'host'>) => <AppCenter {...props} host={host}/>;
        registry.registerProduct({mainComponent: Screen, switcherText: messagesFor('en')['appcenter.title']});
    },
};
