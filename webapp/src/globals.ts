// The globals Mattermost's webapp puts on window for plugins
// (webapp/channels/src/plugins/export.ts and index.ts), all of them, set
// before any plugin bundle can run: the core libraries here, and the heavy
// ones (ReactIntl, ReactRouterDom, ReactBootstrap, Luxon) from their own
// files before the first bundle that reads them (plugins/host_modules.ts).
// installGlobals runs with the host (main.tsx), so ProductApi's WebSocket
// context holds the host's Mattermost WebSocketClient and openModal's
// actions reach the host store's modal reducer (modals.ts).
//
// The helpers that are Redux actions in Mattermost are actions here too:
// plugins dispatch them (dispatch(WebappUtils.modals.openModal({...})),
// dispatch(ProductApi.closeRhs())), and the store refuses anything else.
import type {WebSocketClient, WebSocketMessage} from '@mattermost/client';
import {PreferenceTypes} from 'mattermost-redux/action_types';
import PropTypes from 'prop-types';
import React, {createContext, useContext, useEffect, useState, type MouseEvent, type ReactNode} from 'react';
import * as ReactDOM from 'react-dom';
import * as ReactDOMClient from 'react-dom/client';
import * as ReactRedux from 'react-redux';
import * as Redux from 'redux';
// Mattermost's index.ts sets it for old Babel output (regeneratorRuntime.mark/wrap).
import regeneratorRuntime from 'regenerator-runtime/runtime';

import {InteractiveDialog, INTERACTIVE_DIALOG, type Dialog} from './components/interactive_dialog';
import {Client4} from './mattermost/client';
import {attachModalStore, closeModal, modalStore, openModal, type ModalEntry} from './modals';
import {Components, loadSharedDependency, UserSettingsModal} from './plugin_components';
import {formatText, messageHtmlToComponent} from './post_utils';
import {browserHistory} from './router';
import {getIsRhsOpen, getRhsSelectedPostId, viewsActions} from './store/views_slice';

/** Mattermost's utils/constants ModalIdentifiers: key -> id (most ids are the key in lower case). */
const modalKeys = 'ABOUT TEAM_SETTINGS CHANNEL_INFO DELETE_CHANNEL UNARCHIVE_CHANNEL CHANNEL_NOTIFICATIONS CHANNEL_INVITE ' +
    'CHANNEL_MEMBERS TEAM_MEMBERS ADD_USER_TO_CHANNEL ADD_USER_TO_ROLE ADD_USER_TO_TEAM CREATE_DM_CHANNEL EDIT_CHANNEL_HEADER ' +
    'EDIT_CHANNEL_PURPOSE DELETE_POST CONVERT_CHANNEL RESET_STATUS LEAVE_TEAM RENAME_CHANNEL USER_SETTINGS QUICK_SWITCH ' +
    'REMOVED_FROM_CHANNEL EMAIL_INVITE INTERACTIVE_DIALOG APPS_MODAL ADD_TEAMS_TO_SCHEME INVITATION ADD_GROUPS_TO_TEAM ' +
    'ADD_GROUPS_TO_CHANNEL MANAGE_TEAM_GROUPS MANAGE_CHANNEL_GROUPS GROUP_MEMBERS MOBILE_SUBMENU PLUGIN_MARKETPLACE EDIT_CATEGORY ' +
    'DELETE_CATEGORY SIDEBAR_WHATS_NEW_MODAL UPGRADE_CLOUD_ACCOUNT START_TRIAL_MODAL TRIAL_BENEFITS_MODAL PRICING_MODAL ' +
    'LEARN_MORE_TRIAL_MODAL ENTERPRISE_EDITION_LICENSE CONFIRM_NOTIFY_ADMIN REMOVE_NEXT_STEPS_MODAL MORE_CHANNELS NEW_CHANNEL_MODAL ' +
    'CLOUD_PURCHASE SELF_HOSTED_PURCHASE CLOUD_DOWNGRADE_CHOOSE_TEAM SUCCESS_MODAL ERROR_MODAL DND_CUSTOM_TIME_PICKER ' +
    'POST_REMINDER_CUSTOM_TIME_PICKER CUSTOM_STATUS COMMERCIAL_SUPPORT NO_INTERNET_CONNECTION JOIN_CHANNEL_PROMPT ' +
    'COLLAPSED_REPLY_THREADS_MODAL NOTIFY_CONFIRM_MODAL CONFIRM_LICENSE_REMOVAL CONFIRM USER_GROUPS USER_GROUPS_CREATE VIEW_USER_GROUP ' +
    'ADD_USERS_TO_GROUP EDIT_GROUP_MODAL POST_DELETED_MODAL FILE_PREVIEW_MODAL IMPORT_THEME_MODAL LEAVE_PRIVATE_CHANNEL_MODAL ' +
    'GET_PUBLIC_LINK_MODAL USERS_TO_BE_REMOVED UPLOAD_LICENSE CLOUD_LIMITS THREE_DAYS_LEFT_TRIAL_MODAL REQUEST_BUSINESS_EMAIL_MODAL ' +
    'FEATURE_RESTRICTED_MODAL FORWARD_POST_MODAL CLOUD_SUBSCRIBE_WITH_LOADING_MODAL JOIN_PUBLIC_CHANNEL_MODAL CLOUD_INVOICE_PREVIEW ' +
    'BILLING_HISTORY SUM_OF_MEMBERS_MODAL INFO_TOAST DELINQUENCY_MODAL_DOWNGRADE CLOUD_LIMITS_DOWNGRADE ' +
    'PERSIST_NOTIFICATION_CONFIRM_MODAL AIR_GAPPED_SELF_HOSTED_PURCHASE DOWNGRADE_MODAL PURCHASE_IN_PROGRESS DELETE_WORKSPACE FEEDBACK ' +
    'DELETE_WORKSPACE_PROGRESS DELETE_WORKSPACE_RESULT SCREENING_IN_PROGRESS CONFIRM_SWITCH_TO_YEARLY EXPANSION_IN_PROGRESS ' +
    'SELF_HOSTED_EXPANSION START_TRIAL_FORM_MODAL START_TRIAL_FORM_MODAL_RESULT';
export const ModalIdentifiers: Record<string, string> = {
    ...Object.fromEntries(modalKeys.split(' ').map((k) => [k, k.toLowerCase()])),
    WARN_METRIC_ACK: 'warn_metric_acknowledgement',
    KEYBOARD_SHORTCUTS_MODAL: 'keyboar_shortcuts_modal',
    DELETE_DRAFT: 'delete_draft_modal',
    SEND_DRAFT: 'send_draft_modal',
    RESTORE_POST_MODAL: 'restore_post',
    MARK_ALL_THREADS_AS_READ: 'mark_all_threads_as_read_modal',
};

// WebappUtils.channels. Mattermost's own favoriteChannel pulls in its
// channel actions (and moment-timezone: 700 KiB); these keep favourites as
// the favorite_channel preferences Mattermost reads when there are no
// channel categories, and isFavoriteChannel reads a favorites category
// when the state has one.
const FAVORITE = 'favorite_channel';
type Thunk = (dispatch: (a: unknown) => unknown, getState: () => any) => Promise<{data?: boolean; error?: unknown}>;
function setFavorite(channelId: string, on: boolean): Thunk {
    return async (dispatch, getState) => {
        const userId: string = getState().entities?.users?.currentUserId ?? '';
        const pref = {user_id: userId, category: FAVORITE, name: channelId, value: String(on)};
        try {
            await Client4.savePreferences(userId, [pref]);
        } catch (error) {
            return {error};
        }
        dispatch({type: PreferenceTypes.RECEIVED_PREFERENCES, data: [pref]});
        return {data: true};
    };
}
const favoriteChannel = (channelId: string) => setFavorite(channelId, true);
const unfavoriteChannel = (channelId: string) => setFavorite(channelId, false);
function isFavoriteChannel(state: any, channelId: string): boolean {
    const cats = Object.values(state.entities?.channelCategories?.byId ?? {}) as Array<{type: string; channel_ids: string[]}>;
    const fav = cats.find((c) => c.type === 'favorites');
    if (fav) {
        return fav.channel_ids.includes(channelId);
    }
    return state.entities?.preferences?.myPreferences?.[`${FAVORITE}--${channelId}`]?.value === 'true';
}

/** The pieces of the host the globals need. */
export interface GlobalsHost {
    store: {dispatch: (a: any) => any; getState: () => any; subscribe: (l: () => void) => () => void};
    mmSocket: WebSocketClient;
}

/** notificationSounds.ring: a repeating two-tone ring (Web Audio) until stopRing. */
const ringer = (() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    let ctx: AudioContext | undefined;
    const beep = () => {
        try {
            ctx = ctx ?? new AudioContext();
            for (const [f, at] of [[880, 0], [660, 0.25]]) {
                const o = ctx.createOscillator();
                const g = ctx.createGain();
                g.gain.value = 0.05;
                o.frequency.value = f;
                o.connect(g).connect(ctx.destination);
                o.start(ctx.currentTime + at);
                o.stop(ctx.currentTime + at + 0.2);
            }
        } catch {
            // no audio (autoplay policy, no device): a silent ring
        }
    };
    return {
        ring: () => {
            if (timer === undefined) {
                beep();
                timer = setInterval(beep, 2000);
            }
        },
        stopRing: () => {
            clearInterval(timer);
            timer = undefined;
        },
    };
})();

/** Mattermost's notifyMe: a thunk showing a browser notification; resolves {status}. */
function sendDesktopNotificationToMe(title: string, body: string, _channel?: unknown, _teamId?: string, silent = false) {
    return async () => {
        if (typeof Notification === 'undefined') {
            return {status: 'not_sent', reason: 'notifications_unsupported'};
        }
        if (Notification.permission !== 'granted') {
            return {status: 'not_sent', reason: 'notifications_permission_denied'};
        }
        new Notification(title, {body, silent}); // eslint-disable-line no-new
        return {status: 'success'};
    };
}

/** Mattermost's useNotifyAdmin(props, requestData): [button text, notify, status]. */
function useNotifyAdmin(props: {ctaText?: ReactNode; successText?: ReactNode}, reqData: Record<string, unknown>): [ReactNode, (e: MouseEvent) => void, string] {
    const [status, setStatus] = useState('NOT_STARTED');
    const notify = (e: MouseEvent) => {
        e?.preventDefault?.();
        e?.stopPropagation?.();
        setStatus('STARTED');
        Client4.notifyAdmin(reqData as never).then(() => setStatus('SUCCESS'), () => setStatus('FAILED'));
    };
    const text = status === 'STARTED' || status === 'SUCCESS' ? props.successText ?? 'Notified!' :
        status === 'FAILED' ? 'Try again later!' : props.ctaText ?? 'Notify your admin';
    return [text, notify, status];
}

/** window.DesktopApp when the page is not in Mattermost's desktop app (it never is here). */
const DesktopApp = {
    isDev: () => false,
    getAppInfo: () => Promise.resolve({} as {name?: string; version?: string}),
    getDarkMode: () => Promise.resolve(false),
    updateUnreadsAndMentions: () => undefined,
    setSessionExpired: () => undefined,
    onReceiveDesktopNotification: () => () => undefined,
    dispatchNotification: () => Promise.resolve({status: 'not_sent', reason: 'desktop_app_not_present'}),
    doBrowserHistoryPush: (path: string) => browserHistory.push(path),
    onBrowserHistoryPush: () => () => undefined,
    onBrowserHistoryStatusUpdated: () => () => undefined,
};

/** WebappUtils.popouts: this host opens no popout windows, so these report that and talk to an opener if any. */
const popouts = {
    sendToParent: (channel: string, ...args: unknown[]) => window.opener?.postMessage({channel, args}, window.location.origin),
    onMessageFromParent: (listener: (channel: string, ...args: unknown[]) => void) => {
        const h = (ev: MessageEvent) => {
            if (ev.origin === window.location.origin && ev.source === window.opener && typeof ev.data?.channel === 'string') {
                listener(ev.data.channel, ...(Array.isArray(ev.data.args) ? ev.data.args : []));
            }
        };
        window.addEventListener('message', h);
        return () => window.removeEventListener('message', h);
    },
    isPopoutWindow: () => false,
    canPopout: () => false,
    popoutRhsPlugin: () => undefined,
};

/** Sets every global, with host (main.tsx) or without (unit tests). */
export function installGlobals(win: Window = window, host?: GlobalsHost) {
    const w = win as unknown as Record<string, unknown>;
    w.React = React;
    // One object with both the legacy and the client API: plugins built for
    // React 17 call ReactDOM.render, newer ones ReactDOM.createRoot.
    w.ReactDOM = {...ReactDOM, ...ReactDOMClient};
    w.Redux = Redux;
    w.ReactRedux = ReactRedux;
    w.PropTypes = PropTypes;
    w.PostUtils = {
        formatText,
        // Mattermost accepts (html, options) and the older (html, isRHS, options).
        messageHtmlToComponent: (html: string, ...rest: unknown[]) => messageHtmlToComponent(html, false,
            (rest.length === 2 ? rest[1] : typeof rest[0] === 'object' ? rest[0] : {}) as Record<string, unknown>),
    };
    if (host) {
        attachModalStore(host.store);
    }
    w.WebappUtils = {
        get browserHistory() {
            return browserHistory;
        },
        modals: {openModal, closeModal, ModalIdentifiers},
        notificationSounds: {ring: ringer.ring, stopRing: ringer.stopRing},
        sendDesktopNotificationToMe,
        openUserSettings: (dialogProps?: Record<string, unknown>) => openModal({modalId: ModalIdentifiers.USER_SETTINGS, dialogType: UserSettingsModal, dialogProps}),
        channels: {favoriteChannel, unfavoriteChannel, isFavoriteChannel},
        popouts,
    };
    w.openInteractiveDialog = (dialog: Dialog) => {
        modalStore.open({modalId: INTERACTIVE_DIALOG, dialogType: InteractiveDialog, dialogProps: {dialog}} as ModalEntry);
    };
    w.useNotifyAdmin = useNotifyAdmin;
    w.loadSharedDependency = loadSharedDependency;
    // Mattermost's opens the pricing page when called; older ones returned
    // an opener (Calls writes openPricingModal()(...)). Both work: the page
    // opens once, by the returned function if it is called at once.
    w.openPricingModal = () => {
        let opened = false;
        const open = () => {
            if (!opened) {
                opened = true;
                win.open('https://mattermost.com/pricing', '_blank', 'noopener,noreferrer');
            }
        };
        queueMicrotask(open);
        return open;
    };
    w.Components = Components;
    const WebSocketContext = createContext<WebSocketClient | null>(host?.mmSocket ?? null);
    const useWebSocketClient = () => useContext(WebSocketContext);
    w.ProductApi = {
        useWebSocket({handler}: {handler: (msg: WebSocketMessage) => void}) {
            const client = useWebSocketClient();
            useEffect(() => {
                client?.addMessageListener(handler);
                return () => client?.removeMessageListener(handler);
            }, [client, handler]);
        },
        useWebSocketClient,
        WebSocketProvider: WebSocketContext,
        closeRhs: () => viewsActions.rhsClosed(),
        selectRhsPost: (postId: string) => viewsActions.rhsPostSelected(postId),
        getRhsSelectedPostId,
        getIsRhsOpen,
    };
    w.DesktopApp = DesktopApp;
    w.regeneratorRuntime = w.regeneratorRuntime ?? regeneratorRuntime;
    // The subpath the app is served under: none, here (Calls reads window.basename || '').
    w.basename = w.basename ?? '';
    w.plugins = w.plugins ?? {};
}
