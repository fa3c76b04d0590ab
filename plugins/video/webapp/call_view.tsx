// registerRootComponent(CallView): the call window. A root component rather
// than the right-hand sidebar because a call must outlive what the RHS does
// not: switching channel or team, opening a thread or another plugin's RHS.
// It floats over the bottom right of the page, like Mattermost Calls' widget,
// and renders nothing while this tab is in no call.
import type {HostProps, Theme} from '@mmtoolkit/webapp';
import React, {useEffect, useRef, useSyncExternalStore} from 'react';
import {useIntl} from 'react-intl';

import {alpha, formatDuration} from '../shared/call';

import type {CallSession, Snapshot} from './call_session';
import {useCalls, useNow, useUsernames} from './hooks';

type T = (id: string, values?: Record<string, string>) => string;

export function CallView({theme}: HostProps) {
    const intl = useIntl();
    const calls = useCalls();
    const t: T = (id, values) => intl.formatMessage({id}, values);
    const session = calls.current;
    const notice = calls.currentNotice;
    if (session?.info.postId) {
        return <ActiveCall session={session} theme={theme} t={t}/>;
    }
    if (notice) {
        return (
            <div role='alert' data-testid='video-call-notice' style={{...panel(theme), width: 360, padding: 12, display: 'flex', gap: 8}}>
                <span style={{flex: 1, color: theme.errorTextColor}}>{t(notice.id, notice.values)}</span>
                <button type='button' style={secondaryButton(theme)} onClick={() => calls.dismissNotice()}>{t('mmtoolkit.video.view.close')}</button>
            </div>
        );
    }
    return null;
}

function ActiveCall({session, theme, t}: {session: CallSession; theme: Theme; t: T}) {
    const snap = useSyncExternalStore(session.subscribe, session.getSnapshot);
    const calls = useCalls();
    const now = useNow(snap.phase === 'joined');
    const title = t('mmtoolkit.video.view.title', {channel: snap.info.channelName || '…'});
    return (
        <section
            role='dialog'
            aria-label={title}
            data-testid='video-call-view'
            data-phase={snap.phase}
            style={{...panel(theme), width: 'min(640px, calc(100vw - 32px))', display: 'flex', flexDirection: 'column'}}
        >
            <header style={{display: 'flex', alignItems: 'center', gap: 8, padding: '8px 12px', borderBottom: `1px solid ${alpha(theme.centerChannelColor, 0.12)}`}}>
                <h2 style={{margin: 0, fontSize: 14, fontWeight: 600, flex: 1}}>{title}</h2>
                {snap.phase === 'joined' && (
                    <span style={{fontSize: 12, color: alpha(theme.centerChannelColor, 0.78)}}>{formatDuration(now - snap.info.startedAt)}</span>
                )}
            </header>
            {snap.phase === 'error' && snap.error ? (
                <div role='alert' data-testid='video-call-error' data-kind={snap.error.kind} style={{padding: 16}}>
                    <p style={{margin: '0 0 12px', color: theme.errorTextColor}}>
                        {snap.error.kind === 'generic' ? t('mmtoolkit.video.error.generic', {message: snap.error.detail}) : t(`mmtoolkit.video.error.${snap.error.kind}`)}
                    </p>
                    <div style={{display: 'flex', gap: 8}}>
                        <button type='button' style={primaryButton(theme)} onClick={() => void session.start()}>{t('mmtoolkit.video.view.retry')}</button>
                        <button type='button' style={secondaryButton(theme)} onClick={() => calls.close()}>{t('mmtoolkit.video.view.close')}</button>
                    </div>
                </div>
            ) : (
                <>
                    <Tiles snap={snap} me={session.me} theme={theme} t={t}/>
                    <Controls session={session} snap={snap} theme={theme} t={t}/>
                </>
            )}
        </section>
    );
}

function Tiles({snap, me, theme, t}: {snap: Snapshot; me: string; theme: Theme; t: T}) {
    const names = useUsernames(snap.peers.map((p) => p.userId));
    if (snap.phase === 'starting') {
        return <p role='status' style={{padding: 16, margin: 0}}>{t('mmtoolkit.video.view.starting')}</p>;
    }
    const count = snap.peers.length + 1;
    // One tile stays small enough to keep the channel visible; more share the width.
    const columns = count === 1 ? 'minmax(0, 400px)' : `repeat(${count <= 4 ? 2 : 3}, 1fr)`;
    return (
        <div style={{padding: 8}}>
            <ul
                aria-label={t('mmtoolkit.video.view.tiles')}
                style={{listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: 8, gridTemplateColumns: columns, justifyContent: 'center'}}
            >
                <Tile
                    stream={snap.localStream}
                    label={t('mmtoolkit.video.view.you')}
                    userId={me}
                    local={true}
                    muted={snap.muted}
                    cameraOff={snap.cameraOff}
                    state='connected'
                    theme={theme}
                    t={t}
                />
                {snap.peers.map((p, i) => (
                    <Tile
                        key={p.session}
                        session={p.session}
                        stream={p.stream}
                        label={`@${names[i]}`}
                        userId={p.userId}
                        local={false}
                        muted={p.muted}
                        cameraOff={p.cameraOff}
                        state={p.connectionState}
                        theme={theme}
                        t={t}
                    />
                ))}
            </ul>
            {snap.peers.length === 0 && (
                <p role='status' style={{margin: '8px 0 0', fontSize: 12, color: alpha(theme.centerChannelColor, 0.78)}}>{t('mmtoolkit.video.view.alone')}</p>
            )}
        </div>
    );
}

interface TileProps {
    stream: MediaStream | null;
    label: string;
    userId: string;
    session?: string;
    local: boolean;
    muted: boolean;
    cameraOff: boolean;
    state: RTCPeerConnectionState;
    theme: Theme;
    t: T;
}

function Tile({stream, label, userId, session, local, muted, cameraOff, state, theme, t}: TileProps) {
    const video = useRef<HTMLVideoElement>(null);
    useEffect(() => {
        const v = video.current;
        if (v && v.srcObject !== stream) {
            v.srcObject = stream;
            if (stream) {
                v.play().catch(() => undefined); // autoplay policy: muted local video always plays
            }
        }
    }, [stream]);
    const badge = {fontSize: 11, padding: '1px 6px', borderRadius: 8, background: alpha('#000000', 0.6), color: '#ffffff'};
    return (
        <li
            data-testid='video-tile'
            data-local={local}
            data-user-id={userId}
            data-session={session}
            data-state={state}
            style={{position: 'relative', aspectRatio: '16 / 9', borderRadius: 6, overflow: 'hidden', background: alpha(theme.centerChannelColor, 0.9)}}
        >
            <video
                ref={video}
                data-testid='video-tile-video'
                autoPlay={true}
                playsInline={true}
                muted={local}
                aria-label={label}
                style={{width: '100%', height: '100%', objectFit: 'cover', visibility: cameraOff ? 'hidden' : 'visible', transform: local ? 'scaleX(-1)' : undefined}}
            />
            {cameraOff && (
                <span aria-hidden='true' style={{position: 'absolute', inset: 0, display: 'grid', placeItems: 'center', fontSize: 28, fontWeight: 600, color: theme.centerChannelBg}}>
                    {label.replace('@', '').slice(0, 1).toUpperCase()}
                </span>
            )}
            <span style={{position: 'absolute', left: 6, bottom: 6, display: 'flex', gap: 4}}>
                <span style={badge}>{label}</span>
                {muted && <span style={badge}>{t('mmtoolkit.video.view.muted')}</span>}
                {cameraOff && <span style={badge}>{t('mmtoolkit.video.view.camera_is_off')}</span>}
                {state !== 'connected' && <span role='status' style={badge}>{t('mmtoolkit.video.view.connecting')}</span>}
            </span>
        </li>
    );
}

function Controls({session, snap, theme, t}: {session: CallSession; snap: Snapshot; theme: Theme; t: T}) {
    const joined = snap.phase === 'joined';
    return (
        <div role='toolbar' aria-label={t('mmtoolkit.video.view.controls')} style={{display: 'flex', gap: 8, padding: '8px 12px', justifyContent: 'center'}}>
            <button
                type='button'
                data-testid='video-call-mute'
                aria-pressed={snap.muted}
                disabled={!joined}
                style={secondaryButton(theme)}
                onClick={() => session.toggleMute()}
            >
                {t(snap.muted ? 'mmtoolkit.video.view.unmute' : 'mmtoolkit.video.view.mute')}
            </button>
            <button
                type='button'
                data-testid='video-call-camera'
                aria-pressed={snap.cameraOff}
                disabled={!joined}
                style={secondaryButton(theme)}
                onClick={() => session.toggleCamera()}
            >
                {t(snap.cameraOff ? 'mmtoolkit.video.view.camera_on' : 'mmtoolkit.video.view.camera_off')}
            </button>
            <button
                type='button'
                data-testid='video-call-leave'
                style={{...primaryButton(theme), background: theme.errorTextColor}}
                onClick={() => session.leave()}
            >
                {t('mmtoolkit.video.view.leave')}
            </button>
        </div>
    );
}

function panel(theme: Theme): React.CSSProperties {
    return {
        position: 'fixed', right: 16, bottom: 16, zIndex: 1000, borderRadius: 8,
        background: theme.centerChannelBg, color: theme.centerChannelColor,
        border: `1px solid ${alpha(theme.centerChannelColor, 0.16)}`, boxShadow: `0 8px 24px ${alpha('#000000', 0.24)}`,
    };
}

function primaryButton(theme: Theme): React.CSSProperties {
    return {padding: '6px 14px', border: 0, borderRadius: 4, cursor: 'pointer', fontWeight: 600, background: theme.buttonBg, color: theme.buttonColor};
}

function secondaryButton(theme: Theme): React.CSSProperties {
    return {
        padding: '6px 14px', borderRadius: 4, cursor: 'pointer', fontWeight: 600, background: 'transparent',
        color: theme.buttonBg, border: `1px solid ${alpha(theme.buttonBg, 0.5)}`,
    };
}
