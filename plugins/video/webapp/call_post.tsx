// registerPostTypeComponent('custom_video_call', CallPost): what a call
// post shows in the channel. Everything comes from the post's props, which
// the starter's client keeps current (keeper.ts); edits arrive live as
// post_edited, so this re-renders with the new props.
import type {PostTypeProps} from '@mmtoolkit/webapp';
import {useEffect} from 'react';
import {useIntl} from 'react-intl';

import {alpha, formatDuration, parseCall} from '../shared/call';

import {CameraIcon, useCalls, useNow, useUsernames} from './hooks';

export function CallPost({post, theme}: PostTypeProps) {
    const intl = useIntl();
    const calls = useCalls();
    const call = parseCall(post.props);
    const ended = Boolean(call?.ended_at);
    const now = useNow(Boolean(call) && !ended);
    const names = useUsernames(call ? [call.started_by, ...call.participants] : []);

    useEffect(() => {
        if (call && !ended) {
            calls.keeper.checkStale(post.id, call, post.channel_id);
        }
    }, [post.id, ended]); // eslint-disable-line react-hooks/exhaustive-deps

    if (!call) {
        // Not a call we can read: show the message like any post.
        return <div className='post-message'>{post.message}</div>;
    }
    const [starter, ...joined] = names;
    const session = calls.current;
    const inThisCall = Boolean(session?.active && session.info.callId === call.call_id);
    const duration = formatDuration((call.ended_at ?? now) - call.started_at);
    const t = (id: string, values?: Record<string, string>) => intl.formatMessage({id}, values);

    const accent = ended ? alpha(theme.centerChannelColor, 0.56) : theme.onlineIndicator;
    return (
        <section
            className='mmtoolkit-video-post'
            data-testid='video-call-post'
            data-state={ended ? 'ended' : 'ongoing'}
            aria-label={t(ended ? 'mmtoolkit.video.post.ended' : 'mmtoolkit.video.post.ongoing')}
            style={{
                display: 'flex', alignItems: 'center', gap: 12, maxWidth: 520, marginTop: 4, padding: '10px 12px',
                border: `1px solid ${alpha(theme.centerChannelColor, 0.16)}`, borderRadius: 8,
                background: theme.centerChannelBg, color: theme.centerChannelColor,
            }}
        >
            <span
                aria-hidden='true'
                style={{
                    flex: 'none', display: 'grid', placeItems: 'center', width: 36, height: 36, borderRadius: '50%',
                    background: alpha(ended ? theme.centerChannelColor : theme.onlineIndicator, 0.16), color: accent,
                }}
            >
                <CameraIcon size={20}/>
            </span>
            <div style={{flex: 1, minWidth: 0}}>
                <div data-testid='video-call-status' style={{fontWeight: 600}}>
                    {t(ended ? 'mmtoolkit.video.post.ended' : 'mmtoolkit.video.post.ongoing')}
                </div>
                <div style={{fontSize: 12, color: alpha(theme.centerChannelColor, 0.78)}}>
                    {t('mmtoolkit.video.post.started_by', {name: `@${starter}`})}
                    {' · '}
                    <time
                        data-testid='video-call-duration'
                        dateTime={`PT${Math.floor(((call.ended_at ?? now) - call.started_at) / 1000)}S`}
                        aria-live={ended ? undefined : 'off'}
                    >
                        {t(ended ? 'mmtoolkit.video.post.lasted' : 'mmtoolkit.video.post.elapsed', {duration})}
                    </time>
                </div>
                <div data-testid='video-call-participants' style={{fontSize: 12, color: alpha(theme.centerChannelColor, 0.78)}}>
                    {joined.length ? t('mmtoolkit.video.post.participants', {names: joined.map((n) => `@${n}`).join(', ')}) :
                        t('mmtoolkit.video.post.no_participants')}
                </div>
            </div>
            {!ended && (inThisCall ? (
                <span style={{fontSize: 12, color: theme.onlineIndicator}}>{t('mmtoolkit.video.post.in_call')}</span>
            ) : (
                <button
                    type='button'
                    data-testid='video-call-join'
                    onClick={() => void calls.join(post)}
                    style={{
                        flex: 'none', padding: '6px 14px', border: 0, borderRadius: 4, cursor: 'pointer', fontWeight: 600,
                        background: theme.buttonBg, color: theme.buttonColor,
                    }}
                >
                    {t('mmtoolkit.video.post.join')}
                </button>
            ))}
        </section>
    );
}
