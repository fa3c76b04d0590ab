import {describe, expect, it, vi} from 'vitest';

import {SlotMap} from '../src/plugins/slot_map';

describe('SlotMap', () => {
    it('lists a slot in registration order with a stable array', () => {
        const m = new SlotMap();
        m.add({id: '1', pluginId: 'a', slot: 'root', mattermostKey: 'Root'});
        m.add({id: '2', pluginId: 'b', slot: 'root', mattermostKey: 'Root'});
        m.add({id: '3', pluginId: 'a', slot: 'app_bar', mattermostKey: 'AppBar'});
        expect(m.list('root').map((r) => r.id)).toEqual(['1', '2']);
        expect(m.list('root')).toBe(m.list('root'));
    });

    it('notifies on change and bumps the version', () => {
        const m = new SlotMap();
        const l = vi.fn();
        const off = m.subscribe(l);
        const v = m.getVersion();
        m.add({id: '1', pluginId: 'a', slot: 'root', mattermostKey: 'Root'});
        expect(l).toHaveBeenCalledTimes(1);
        expect(m.getVersion()).toBe(v + 1);
        expect(m.remove('nope')).toBe(false);
        expect(l).toHaveBeenCalledTimes(1);
        off();
        m.remove('1');
        expect(l).toHaveBeenCalledTimes(1);
    });

    it('removes everything of one plugin', () => {
        const m = new SlotMap();
        m.add({id: '1', pluginId: 'a', slot: 'root', mattermostKey: 'Root'});
        m.add({id: '2', pluginId: 'b', slot: 'root', mattermostKey: 'Root'});
        m.add({id: '3', pluginId: 'a', slot: 'post_type', mattermostKey: 'postTypes', key: 'custom_a'});
        expect(m.removePlugin('a')).toBe(2);
        expect(m.list('root').map((r) => r.id)).toEqual(['2']);
        expect(m.postType('custom_a')).toBeUndefined();
        expect(m.pluginIds()).toEqual(new Set(['b']));
    });

    it('lets the last registration of a post type win, as Mattermost', () => {
        const m = new SlotMap();
        m.add({id: '1', pluginId: 'a', slot: 'post_type', mattermostKey: 'postTypes', key: 'custom_x'});
        m.add({id: '2', pluginId: 'b', slot: 'post_type', mattermostKey: 'postTypes', key: 'custom_x'});
        expect(m.postType('custom_x')?.id).toBe('2');
        m.remove('2');
        expect(m.postType('custom_x')?.id).toBe('1');
    });
});
