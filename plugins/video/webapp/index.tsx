// mmtoolkit.video, web part: video calls in a channel, peer to peer.
//
//   call button       registerCallButtonAction (or the channel header button
//                     on hosts without it): starts a call = a custom_video_call post
//   post renderer     registerPostTypeComponent: the call's state and a Join button
//   call window       registerRootComponent: tiles, mute, camera, leave
//   signalling        registerWebSocketEventHandler for custom_mmtoolkit.video_*
//   messages          registerTranslations (en, de)
//
// README.md explains each, and the design of who writes the post.
import type {Channel, Plugin, PluginRegistry, PluginStore} from '@mmtoolkit/webapp';
import {useIntl} from 'react-intl';

import {PLUGIN_ID, POST_TYPE, SIGNAL_EVENTS, wsEvent} from '../shared/call';
import de from '../shared/i18n/de.json';
import en from '../shared/i18n/en.json';

import {CallPost} from './call_post';
import {timeouts} from './call_session';
import {CallView} from './call_view';
import {calls} from './calls';
import {CameraIcon} from './hooks';
import {keeperTimings} from './keeper';

const translations: Record<string, Record<string, string>> = {en, de};

function CallButtonLabel() {
    const intl = useIntl();
    return (
        <span
            data-testid='video-call-button'
            title={intl.formatMessage({id: 'mmtoolkit.video.call_button.tooltip'})}
            style={{display: 'inline-flex', alignItems: 'center', gap: 6}}
        >
            <CameraIcon/>
            {intl.formatMessage({id: 'mmtoolkit.video.call_button'})}
        </span>
    );
}

/** The post's message: what a client without this plugin shows instead of the renderer. */
function fallbackMessage(store: PluginStore): string {
    const s = store.getState();
    const me = s.entities.users.profiles[s.entities.users.currentUserId];
    return `${me ? `@${me.username} ` : ''}${en['mmtoolkit.video.post.message']}`;
}

class VideoPlugin implements Plugin {
    initialize(registry: PluginRegistry, store: PluginStore) {
        calls.attach(store);
        const start = (channel: Channel) => calls.startCall(channel, fallbackMessage(store));

        registry.registerTranslations((locale) => translations[locale.split('-')[0]] ?? en);
        if (typeof registry.registerCallButtonAction === 'function') {
            registry.registerCallButtonAction(<CallButtonLabel/>, <CallButtonLabel/>, start);
        } else {
            // Older hosts (as Mattermost's Calls plugin feature-detects).
            registry.registerChannelHeaderButtonAction(<CameraIcon/>, start, en['mmtoolkit.video.call_button'], en['mmtoolkit.video.call_button.tooltip']);
        }
        registry.registerPostTypeComponent(POST_TYPE, CallPost);
        registry.registerRootComponent(CallView);
        for (const event of SIGNAL_EVENTS) {
            registry.registerWebSocketEventHandler(wsEvent(event), (msg) => calls.dispatch(event, msg));
        }

        // A debugging handle (README: "Debugging"): read-only views of the
        // call, and the timeouts, for developers and the browser test.
        (window as unknown as Record<string, unknown>).__mmtoolkitVideo = {
            session: () => calls.current?.session ?? null,
            snapshot: () => calls.current?.getSnapshot() ?? null,
            stats: () => calls.current?.stats() ?? Promise.resolve([]),
            trace: () => calls.current?.traceLog() ?? [],
            timeouts,
            keeperTimings,
        };
    }

    uninitialize() {
        calls.detach();
        delete (window as unknown as Record<string, unknown>).__mmtoolkitVideo;
    }
}

window.registerPlugin(PLUGIN_ID, new VideoPlugin());
