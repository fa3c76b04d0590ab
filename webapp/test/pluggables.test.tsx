// The host's places for registry methods that are menus and collapsing
// buttons, rendered in jsdom: the channel header (menu with shouldRender,
// one button vs. a dropdown), the sidebar's icon overrides and labels, the
// post box's placeholder and banner.
import {act} from 'react';
import {createRoot} from 'react-dom/client';
import {Provider} from 'react-redux';
import {afterEach, describe, expect, it, vi} from 'vitest';

import {ChannelHeader} from '../src/components/channel_header';
import {ChannelSidebar} from '../src/components/sidebars';
import {HostContext, type Host} from '../src/host';
import * as mm from '../src/mattermost/actions';

import {setup} from './helpers';

(globalThis as {IS_REACT_ACT_ENVIRONMENT?: boolean}).IS_REACT_ACT_ENVIRONMENT = true;

const channel = (id: string, name: string) => ({id, name, display_name: name.toUpperCase(), team_id: 't1', type: 'O', delete_at: 0, purpose: ''});

function mount(ui: React.ReactNode, h: ReturnType<typeof setup>) {
    const host = {slots: h.slots, store: h.store, mmSocket: {}, report: vi.fn()} as unknown as Host;
    const el = document.createElement('div');
    document.body.appendChild(el);
    const root = createRoot(el);
    act(() => root.render(<Provider store={h.store}><HostContext.Provider value={host}>{ui}</HostContext.Provider></Provider>));
    return el;
}

function withChannels() {
    const h = setup('p');
    mm.selectTeam(h.store.dispatch, 't1');
    h.store.dispatch({type: 'RECEIVED_CHANNELS', teamId: 't1', data: [channel('c1', 'town'), channel('c2', 'dev')]});
    h.store.dispatch({type: 'RECEIVED_MY_CHANNEL_MEMBERS', data: [{channel_id: 'c1', user_id: 'u', roles: 'channel_user'}]});
    mm.selectChannel(h.store.dispatch, 'c1');
    return h;
}

const click = (el: Element | null) => act(() => (el as HTMLElement).click());

afterEach(() => {
    document.body.innerHTML = '';
});

describe('host places of the registry', () => {
    it('channel header: one call button alone, two in one dropdown; the menu shows what shouldRender(state) allows', () => {
        const h = withChannels();
        const a = vi.fn();
        const b = vi.fn();
        h.registry.registerCallButtonAction('Call A', 'A in menu', a);
        h.registry.registerChannelHeaderMenuAction('Shown', (id: string) => a(id), (s: {entities: {channels: {currentChannelId: string}}}) => s.entities.channels.currentChannelId === 'c1');
        h.registry.registerChannelHeaderMenuAction('Hidden', vi.fn(), () => false);
        const el = mount(<ChannelHeader/>, h);
        expect(el.querySelector('.call-button')?.textContent).toBe('Call A');
        expect(el.querySelector('[aria-label="Start call"]')).toBeNull();
        click(el.querySelector('[aria-label="Channel menu"]'));
        expect([...el.querySelectorAll('[role=menuitem]')].map((e) => e.textContent)).toEqual(['Shown']);
        click(el.querySelector('[role=menuitem]'));
        expect(a).toHaveBeenCalledWith('c1');
        // A second call button: both collapse into one dropdown of their dropdown buttons.
        act(() => {
            h.registry.registerCallButtonAction('Call B', 'B in menu', b);
        });
        expect(el.querySelector('.call-button')).toBeNull();
        click(el.querySelector('[aria-label="Start call"]'));
        const items = [...el.querySelectorAll('[role=menuitem]')];
        expect(items.map((e) => e.textContent)).toEqual(['A in menu', 'B in menu']);
        click(items[1]);
        expect(b).toHaveBeenCalledWith(expect.objectContaining({id: 'c1'}), expect.objectContaining({channel_id: 'c1'}));
        // shouldRender follows the store: another channel hides the item, and the menu with it.
        act(() => mm.selectChannel(h.store.dispatch, 'c2'));
        expect(el.querySelector('[aria-label="Channel menu"]')).toBeNull();
    });

    it('channel header buttons: side by side up to 15, one dropdown beyond (maxComponentsBeforeDropdown)', () => {
        const h = withChannels();
        for (let i = 0; i < 15; i++) {
            h.registry.registerChannelHeaderButtonAction(`i${i}`, vi.fn(), `Button ${i}`, `Tip ${i}`);
        }
        const el = mount(<ChannelHeader/>, h);
        expect(el.querySelectorAll('.channel-header-actions button[title^="Tip"]')).toHaveLength(15);
        expect(el.querySelector('[aria-label="Channel header plugins"]')).toBeNull();
        act(() => {
            h.registry.registerChannelHeaderButtonAction('i15', vi.fn(), 'Button 15', 'Tip 15');
        });
        expect(el.querySelectorAll('.channel-header-actions button[title^="Tip"]')).toHaveLength(0);
        click(el.querySelector('[aria-label="Channel header plugins"]'));
        expect(el.querySelectorAll('[role=menuitem]')).toHaveLength(16);
    });

    it('sidebar: icon overrides by matcher, a label per channel link, header and browse-or-add entries', () => {
        const h = withChannels();
        const add = vi.fn();
        h.registry.registerChannelIconOverride((c: {name: string}) => c.name === 'dev', 'robot');
        h.registry.registerSidebarChannelLinkLabelComponent(({channel: c}: {channel: {name: string}}) => <em className='lbl'>{c.name}</em>);
        h.registry.registerLeftSidebarHeaderComponent(() => <b className='lsh'>{'head'}</b>);
        h.registry.registerSidebarBrowseOrAddChannelMenuAction('Add things', add);
        const el = mount(<ChannelSidebar/>, h);
        expect([...el.querySelectorAll('[data-icon-name]')].map((e) => e.closest('a')?.textContent)).toEqual(['◆DEVdev']);
        expect([...el.querySelectorAll('.lbl')].map((e) => e.textContent)).toEqual(['dev', 'town']);
        expect(el.querySelector('.left-sidebar-header .lsh')).not.toBeNull();
        click(el.querySelector('[aria-label="Browse or create channels"]'));
        click(el.querySelector('[role=menuitem]'));
        expect(add).toHaveBeenCalled();
    });
});
