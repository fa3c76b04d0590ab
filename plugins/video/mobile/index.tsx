// mmtoolkit.video, mobile part (React Native): the call button and the call
// post renderer. Starting a call works as on the web (a custom_video_call
// post through the plugin proxy). Joining with audio and video does not:
// WebRTC on React Native needs the native module react-native-webrtc, which
// the host app does not provide, so the post says so instead of offering a
// Join button that cannot work.
import type {HostContext} from '@mmtoolkit/mobile';
import {useEffect, useState} from 'react';
import {ActivityIndicator, Pressable, StyleSheet, Text, View} from 'react-native';

import {alpha, formatDuration, newId, parseCall, POST_TYPE, PROXY, type CallProps} from '../shared/call';
import de from '../shared/i18n/de.json';
import en from '../shared/i18n/en.json';

/** The subset of Mattermost's Theme the components read. */
export interface MobileTheme {
    centerChannelBg: string;
    centerChannelColor: string;
    buttonBg: string;
    buttonColor: string;
    onlineIndicator: string;
    errorTextColor: string;
}

const defaultTheme: MobileTheme = {
    centerChannelBg: '#ffffff', centerChannelColor: '#3f4350', buttonBg: '#1c58d9', buttonColor: '#ffffff',
    onlineIndicator: '#06d6a0', errorTextColor: '#d24b4e',
};

interface MobilePost {
    id: string;
    user_id?: string;
    channel_id?: string;
    message?: string;
    props?: Record<string, unknown>;
}

interface MobileChannel {
    id: string;
    display_name?: string;
}

function localeMessages(): Record<string, string> {
    let locale = 'en';
    try {
        locale = Intl.DateTimeFormat().resolvedOptions().locale;
    } catch {
        // no Intl: English
    }
    return locale.toLowerCase().startsWith('de') ? {...en, ...de} : en;
}

const messages = localeMessages();

/** react-intl's simple {name} placeholders, without react-intl (not a mobile host module). */
export function t(id: keyof typeof en, values: Record<string, string> = {}): string {
    return (messages[id] ?? id).replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}

async function json<T>(r: Response): Promise<T> {
    const text = await r.text();
    if (!r.ok) {
        let message = `${r.status}`;
        try {
            const j = JSON.parse(text);
            message = j?.error?.message ?? j?.message ?? message;
        } catch {
            // keep the status
        }
        throw new Error(message);
    }
    return JSON.parse(text) as T;
}

/** The components, bound to the host's authenticated fetch. */
export function createComponents(host: Pick<HostContext, 'fetch'>) {
    let me: Promise<{id: string; username: string}> | null = null;
    const currentUser = () => {
        me ??= host.fetch('/api/v4/users/me').then((r) => json<{id: string; username: string}>(r)).catch((e) => {
            me = null;
            throw e;
        });
        return me;
    };
    const names = new Map<string, string>();

    function CallButton({channel, theme = defaultTheme}: {channel?: MobileChannel; theme?: MobileTheme}) {
        const [busy, setBusy] = useState(false);
        const [error, setError] = useState('');
        const start = async () => {
            if (!channel?.id || busy) {
                return;
            }
            setBusy(true);
            setError('');
            try {
                const user = await currentUser();
                const props: CallProps = {call_id: newId(), started_by: user.id, started_at: Date.now(), participants: [user.id]};
                await json(await host.fetch(`${PROXY}/posts`, {
                    method: 'POST',
                    headers: {'Content-Type': 'application/json'},
                    body: JSON.stringify({channel_id: channel.id, message: `@${user.username} ${t('mmtoolkit.video.post.message')}`, type: POST_TYPE, props}),
                }));
            } catch (e) {
                setError(t('mmtoolkit.video.error.post', {message: e instanceof Error ? e.message : String(e)}));
            } finally {
                setBusy(false);
            }
        };
        return (
            <View>
                <Pressable
                    accessibilityRole='button'
                    accessibilityLabel={t('mmtoolkit.video.call_button.tooltip')}
                    accessibilityState={{busy, disabled: busy}}
                    testID='video-call-button'
                    onPress={start}
                    style={[styles.button, {backgroundColor: theme.buttonBg}]}
                >
                    {busy ? <ActivityIndicator color={theme.buttonColor}/> : null}
                    <Text style={[styles.buttonText, {color: theme.buttonColor}]}>{t('mmtoolkit.video.call_button')}</Text>
                </Pressable>
                {error ? <Text accessibilityRole='alert' style={{color: theme.errorTextColor}}>{error}</Text> : null}
            </View>
        );
    }

    function useUsernames(ids: string[]): string[] {
        const [, setVersion] = useState(0);
        const key = ids.join(',');
        useEffect(() => {
            const missing = ids.filter((id) => !names.has(id));
            if (missing.length === 0) {
                return undefined;
            }
            let live = true;
            host.fetch('/api/v4/users/ids', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(missing)}).
                then((r) => json<Array<{id: string; username: string}>>(r)).
                then((users) => {
                    users.forEach((u) => names.set(u.id, u.username));
                    if (live) {
                        setVersion((v) => v + 1);
                    }
                }).
                catch(() => undefined); // names stay "…"; the post still shows
            return () => {
                live = false;
            };
        }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
        return ids.map((id) => names.get(id) ?? '…');
    }

    function CallPost({post, theme = defaultTheme}: {post: MobilePost; theme?: MobileTheme}) {
        const call = parseCall(post.props);
        const ended = Boolean(call?.ended_at);
        const [now, setNow] = useState(() => Date.now());
        useEffect(() => {
            if (!call || ended) {
                return undefined;
            }
            const timer = setInterval(() => setNow(Date.now()), 1000);
            return () => clearInterval(timer);
        }, [call?.call_id, ended]); // eslint-disable-line react-hooks/exhaustive-deps
        const [starter, ...joined] = useUsernames(call ? [call.started_by, ...call.participants] : []);
        if (!call) {
            return <Text style={{color: theme.centerChannelColor}}>{post.message ?? ''}</Text>;
        }
        const muted = alpha(theme.centerChannelColor, 0.78);
        const duration = formatDuration((call.ended_at ?? now) - call.started_at);
        const status = t(ended ? 'mmtoolkit.video.post.ended' : 'mmtoolkit.video.post.ongoing');
        return (
            <View
                testID='video-call-post'
                accessibilityLabel={status}
                style={[styles.card, {backgroundColor: theme.centerChannelBg, borderColor: alpha(theme.centerChannelColor, 0.16)}]}
            >
                <Text testID='video-call-status' style={[styles.title, {color: ended ? muted : theme.centerChannelColor}]}>{status}</Text>
                <Text style={{color: muted}}>
                    {t('mmtoolkit.video.post.started_by', {name: `@${starter}`})}{' · '}
                    <Text testID='video-call-duration'>{t(ended ? 'mmtoolkit.video.post.lasted' : 'mmtoolkit.video.post.elapsed', {duration})}</Text>
                </Text>
                <Text testID='video-call-participants' style={{color: muted}}>
                    {joined.length ? t('mmtoolkit.video.post.participants', {names: joined.map((n) => `@${n}`).join(', ')}) :
                        t('mmtoolkit.video.post.no_participants')}
                </Text>
                {!ended && <Text testID='video-call-no-media' style={{color: muted, fontStyle: 'italic'}}>{t('mmtoolkit.video.mobile.no_media')}</Text>}
            </View>
        );
    }

    return {CallButton, CallPost};
}

const styles = StyleSheet.create({
    button: {flexDirection: 'row', alignItems: 'center', gap: 6, paddingHorizontal: 14, paddingVertical: 8, borderRadius: 4},
    buttonText: {fontWeight: '600'},
    card: {borderWidth: 1, borderRadius: 8, padding: 12, gap: 2},
    title: {fontWeight: '600'},
});

interface MobileRegistry {
    registerCallButtonAction(component: unknown, tooltipText?: string): string;
    registerPostTypeComponent(type: string, component: unknown): string;
}

export function initialize(registry: MobileRegistry, host: HostContext) {
    const {CallButton, CallPost} = createComponents(host);
    registry.registerCallButtonAction(CallButton, t('mmtoolkit.video.call_button.tooltip'));
    registry.registerPostTypeComponent(POST_TYPE, CallPost);
}
export default {initialize};
