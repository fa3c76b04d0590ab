// The registry a mobile plugin's initialize(registry) receives: Mattermost's
// PluginRegistry method names and argument orders, for the slots that exist
// on mobile. Other methods (web-only slots) are accepted and ignored with a
// warning, so plugins that share code with their web part still load.
import type {ComponentType, ReactNode} from 'react';

import type {SlotName} from './types';

export interface Registration {
  /** Unique id, returned to the plugin (unregisterComponent takes it). */
  id: string;
  pluginId: string;
  version: string;
  slot: SlotName;
  /** post_type: the custom_ post type it renders. */
  postType?: string;
  /** A component rendered with the slot's props. */
  component?: ComponentType<any>;
  /** call_button in Mattermost's element form: an element pressed to run action. */
  element?: ReactNode;
  action?: (...args: any[]) => void;
  /** A label: call_button tooltip, app_center title. */
  text?: string;
  icon?: ReactNode;
}

let seq = 0;

const isComponent = (c: unknown): c is ComponentType<any> =>
  typeof c === 'function' || (typeof c === 'object' && c !== null && '$$typeof' in (c as object) && !('props' in (c as object)));

export function createRegistry(pluginId: string, version: string, into: Registration[], changed: () => void): Record<string, any> {
  const add = (r: Omit<Registration, 'id' | 'pluginId' | 'version'>): string => {
    const id = `${pluginId}:${r.slot}:${++seq}`;
    into.push({...r, id, pluginId, version});
    changed();
    return id;
  };
  const remove = (id: string) => {
    const i = into.findIndex((r) => r.id === id);
    if (i >= 0) {
      into.splice(i, 1);
      changed();
    }
  };
  const methods: Record<string, (...args: any[]) => unknown> = {
    registerPostTypeComponent(type: string, component: ComponentType<any>) {
      if (typeof type !== 'string' || !type.startsWith('custom_')) {
        throw new Error(`registerPostTypeComponent: post type ${String(type)} must start with custom_`);
      }
      if (!isComponent(component)) throw new Error('registerPostTypeComponent: the second argument must be a component');
      return add({slot: 'post_type', postType: type, component});
    },
    // Mattermost: (button, dropdownButton, action, tooltipText) or one object
    // {button, dropdownButton, action, tooltipText, icon}; mobile also takes
    // a component, rendered with {channel, channelMember, theme}.
    registerCallButtonAction(...args: any[]) {
      const first = args[0];
      if (isComponent(first)) return add({slot: 'call_button', component: first, text: args[1]});
      if (first && typeof first === 'object' && !('props' in first) && ('action' in first || 'component' in first || 'button' in first)) {
        if (first.component) return add({slot: 'call_button', component: first.component, text: first.tooltipText});
        return add({slot: 'call_button', element: first.button, action: first.action, text: first.tooltipText, icon: first.icon});
      }
      return add({slot: 'call_button', element: first, action: args[2], text: args[3]});
    },
    // Mattermost: registerProduct(baseURL, switcherIcon, switcherText,
    // switcherLinkURL, mainComponent, ...) or one object with those names.
    registerProduct(...args: any[]) {
      const o = args[0] && typeof args[0] === 'object' ? args[0] : {switcherIcon: args[1], switcherText: args[2], mainComponent: args[4]};
      if (!isComponent(o.mainComponent)) throw new Error('registerProduct: mainComponent must be a component');
      return add({slot: 'app_center', component: o.mainComponent, text: o.switcherText, icon: o.switcherIcon});
    },
    registerNeedsTeamRoute(route: string, component: ComponentType<any>) {
      if (!isComponent(component)) throw new Error('registerNeedsTeamRoute: the second argument must be a component');
      return add({slot: 'app_center', component, text: route});
    },
    registerAppCenterComponent(component: ComponentType<any>, title?: string) {
      if (!isComponent(component)) throw new Error('registerAppCenterComponent: the argument must be a component');
      return add({slot: 'app_center', component, text: title});
    },
    unregisterComponent(id: string) {
      remove(id);
    },
    unregisterPostTypeComponent(id: string) {
      remove(id);
    },
  };
  return new Proxy(methods, {
    get(target, name) {
      if (typeof name !== 'string') return undefined;
      if (name in target) return target[name];
      if (name.startsWith('register')) {
        return () => {
          console.warn(`[mmtoolkit] ${pluginId}: ${name} has no slot on mobile; ignored`);
          return `${pluginId}:ignored:${++seq}`;
        };
      }
      return undefined;
    },
  });
}
