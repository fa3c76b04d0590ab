// mmtoolkit.map, mobile part: the custom_map_location post renderer. The
// /location command and "Show on map" are web-only slots (the mobile host
// has post_type, call_button and app_center).
import type {HostContext} from '@mmtoolkit/mobile';
import type {ComponentType} from 'react';

import {LocationPost} from './location_post';

interface MobileRegistry {
    registerPostTypeComponent(type: string, component: ComponentType<any>): string;
}

export function initialize(registry: MobileRegistry, _host?: HostContext) {
    registry.registerPostTypeComponent('custom_map_location', LocationPost);
}
