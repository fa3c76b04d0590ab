import {PluginRegistry} from '../src/plugins/registry';
import {SlotMap} from '../src/plugins/slot_map';
import {createHostStore} from '../src/store';

export function setup(pluginId = 'com.example.test') {
    const store = createHostStore();
    const slots = new SlotMap();
    const registry = new PluginRegistry(pluginId, {slots, store}) as PluginRegistry & Record<string, (...a: any[]) => any>;
    return {store, slots, registry};
}
