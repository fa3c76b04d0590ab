// window globals that are Redux actions in Mattermost must be actions here:
// plugins dispatch them, and the store throws on anything else ("Actions
// must be plain objects" for undefined). Dispatched from a thunk too.
import {WebSocketClient} from '@mattermost/client';
import {describe, expect, it} from 'vitest';

import {installGlobals} from '../src/globals';
import {modalStore} from '../src/modals';
import {createHostStore} from '../src/store';

function setup() {
    const store = createHostStore();
    const w = {} as Record<string, any>;
    installGlobals(w as unknown as Window, {store, mmSocket: new WebSocketClient()});
    return {store, w};
}

const Dialog = () => null;

describe('window globals', () => {
    it('WebappUtils.modals.openModal is an action creator; dispatching it opens the modal, also from a thunk', () => {
        const {store, w} = setup();
        const action = w.WebappUtils.modals.openModal({modalId: 'm1', dialogType: Dialog, dialogProps: {a: 1}});
        expect(action).toMatchObject({type: 'MODAL_OPEN', modalId: 'm1'});
        store.dispatch(action);
        expect(modalStore.get().map((m) => m.modalId)).toEqual(['m1']);
        store.dispatch(((dispatch: (a: unknown) => void) => dispatch(w.WebappUtils.modals.openModal({modalId: 'm2', dialogType: Dialog}))) as never);
        expect(modalStore.get().map((m) => m.modalId)).toEqual(['m1', 'm2']);
        store.dispatch(w.WebappUtils.modals.closeModal('m1'));
        store.dispatch(w.WebappUtils.modals.closeModal('m2'));
        expect(modalStore.get()).toEqual([]);
    });

    it('openUserSettings returns an action; sendDesktopNotificationToMe a thunk', async () => {
        const {store, w} = setup();
        store.dispatch(w.WebappUtils.openUserSettings({activeTab: 'display'}));
        expect(modalStore.get().map((m) => [m.modalId, m.dialogProps])).toEqual([['user_settings', {activeTab: 'display'}]]);
        modalStore.close('user_settings');
        const r = await store.dispatch(w.WebappUtils.sendDesktopNotificationToMe('t', 'b'));
        expect(r).toHaveProperty('status');
    });

    it('openPricingModal opens the pricing page once, called either way', async () => {
        const opened: string[] = [];
        const store = createHostStore();
        const w = {open: (u: string) => opened.push(u)} as Record<string, any>;
        installGlobals(w as unknown as Window, {store, mmSocket: new WebSocketClient()});
        w.openPricingModal();
        await Promise.resolve();
        w.openPricingModal()({trackingLocation: 'x'});
        await Promise.resolve();
        expect(opened).toEqual(['https://mattermost.com/pricing', 'https://mattermost.com/pricing']);
    });

    it('has Mattermost\'s ModalIdentifiers', () => {
        const {w} = setup();
        const ids = w.WebappUtils.modals.ModalIdentifiers;
        expect(ids.CHANNEL_MEMBERS).toBe('channel_members');
        expect(ids.START_TRIAL_FORM_MODAL).toBe('start_trial_form_modal');
        expect(ids.USER_SETTINGS).toBe('user_settings');
        expect(ids.KEYBOARD_SHORTCUTS_MODAL).toBe('keyboar_shortcuts_modal');
    });

    it('ProductApi: closeRhs and selectRhsPost are actions, the selectors read views.rhs', () => {
        const {store, w} = setup();
        const api = w.ProductApi;
        store.dispatch(api.selectRhsPost('p1'));
        expect(api.getIsRhsOpen(store.getState())).toBe(true);
        expect(api.getRhsSelectedPostId(store.getState())).toBe('p1');
        store.dispatch(api.closeRhs());
        expect(api.getIsRhsOpen(store.getState())).toBe(false);
        expect(api.WebSocketProvider).toHaveProperty('Provider');
    });

    it('loadSharedDependency resolves @mattermost/shared modules and refuses others', async () => {
        const {w} = setup();
        const tooltip = await w.loadSharedDependency('@mattermost/shared/components/tooltip');
        expect(tooltip.__esModule).toBe(true);
        expect(typeof tooltip.WithTooltip).toBe('function');
        expect(typeof (await w.loadSharedDependency('@mattermost/shared/components/button')).Button).toBe('function');
        expect(() => w.loadSharedDependency('@mattermost/shared/nope')).toThrow(/couldn't be found/);
    });

    it('sets every global of Mattermost\'s export.ts and index.ts', () => {
        const {w} = setup();
        for (const g of ['React', 'ReactDOM', 'Redux', 'ReactRedux', 'PropTypes', 'PostUtils', 'openInteractiveDialog', 'useNotifyAdmin',
            'WebappUtils', 'loadSharedDependency', 'openPricingModal', 'Components', 'ProductApi', 'DesktopApp', 'regeneratorRuntime', 'basename', 'plugins']) {
            expect(w[g], g).toBeDefined();
        }
        expect(Object.keys(w.Components).sort()).toEqual(['AdvancedTextEditor', 'Avatar', 'BotBadge', 'ChannelInviteModal', 'ChannelMembersModal',
            'ChannelNotificationsModal', 'DatePicker', 'EditChannelHeaderModal', 'MenuItem', 'MenuSeparator', 'PostMessagePreview',
            'StartTrialFormModal', 'Textbox', 'ThreadViewer', 'Timestamp', 'imageURLForUser']);
        expect(Object.keys(w.WebappUtils.channels).sort()).toEqual(['favoriteChannel', 'isFavoriteChannel', 'unfavoriteChannel']);
        expect(Object.keys(w.WebappUtils.popouts).sort()).toEqual(['canPopout', 'isPopoutWindow', 'onMessageFromParent', 'popoutRhsPlugin', 'sendToParent']);
        expect(typeof w.regeneratorRuntime.mark).toBe('function');
    });
});
