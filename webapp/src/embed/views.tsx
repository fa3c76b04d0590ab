// What the embed frame draws: the host's channel view (header with the
// plugins' call and header buttons, the posts with the plugins' post
// renderers, the post box) in a frame of its own, a thread beside it for
// replies, and the plugins' root components, RHS and modals. No team or
// channel sidebars: the page around the embed is the app.
import type {Post} from '@mattermost/types/posts';
import {createContext, useContext, useEffect, useLayoutEffect, useMemo, useState, useSyncExternalStore, type FormEvent} from 'react';

import {ChannelHeader} from '../components/channel_header';
import {RightHandSidebar, RootComponents} from '../components/chrome';
import {ModalHost} from '../components/modal_host';
import {GlobalComponents} from '../components/pluggables';
import {PostBox} from '../components/post_box';
import {PostView} from '../components/posts';
import {ModuleProviders} from '../components/providers';
import {useTheme} from '../components/slot';
import {channelPosts} from '../mattermost/actions';
import {useAppSelector} from '../store';
import {applyTheme} from '../theme';

import type {EmbedController} from './controller';

export const EmbedContext = createContext<EmbedController | null>(null);

function useEmbed(): EmbedController {
    const c = useContext(EmbedContext);
    if (!c) {
        throw new Error('useEmbed outside EmbedContext');
    }
    return c;
}

export function EmbedApp() {
    const c = useEmbed();
    const view = useSyncExternalStore(c.subscribe, c.getView);
    const theme = useTheme();
    useLayoutEffect(() => applyTheme(theme), [theme]);
    useAutoHeight(c);
    switch (view.phase) {
    case 'unframed':
        return <Notice title='Mattermost embed'>{'This page shows a Mattermost channel inside another site: add it with embed.js and <mattermost-channel> (docs/embed.md).'}</Notice>;
    case 'waiting':
        return <Notice title='' busy={true}>{'Connecting…'}</Notice>;
    case 'signin':
        return (
            <Notice title={c.cfg.appName ? `${c.cfg.appName}: Mattermost` : 'Mattermost'}>
                <p>{view.notice || 'Sign in to Mattermost to see this channel.'}</p>
                <button type='button' className='primary embed-signin' onClick={() => c.openSignin()}>{'Sign in'}</button>
            </Notice>
        );
    case 'signedout':
        return <Notice title='Not signed in'>{view.notice || 'This embed has no session.'}</Notice>;
    default:
        return (
            <ModuleProviders>
                <div className={'embed-app' + (view.thread ? ' with-thread' : '')}>
                    <main className='center embed-center'>
                        <ChannelHeader/>
                        <EmbedPosts/>
                        <PostBox/>
                    </main>
                    {view.thread && <Thread rootId={view.thread}/>}
                    <RightHandSidebar/>
                    <RootComponents/>
                    <GlobalComponents/>
                    <ModalHost/>
                </div>
            </ModuleProviders>
        );
    }
}

function Notice({title, busy = false, children}: {title: string; busy?: boolean; children: React.ReactNode}) {
    return (
        <div className='embed-notice' aria-busy={busy}>
            {title && <h2>{title}</h2>}
            <div>{children}</div>
        </div>
    );
}

/** height="auto": the page sizes the iframe to the content's height. */
function useAutoHeight(c: EmbedController) {
    useEffect(() => {
        if (c.cfg.height !== 'auto') {
            return undefined;
        }
        document.documentElement.classList.add('embed-auto-height');
        const root = document.getElementById('root')!;
        const ro = new ResizeObserver(() => c.reportHeight(root.scrollHeight));
        ro.observe(root);
        return () => ro.disconnect();
    }, [c]);
}

/** The channel's posts, each with a Reply button; mm-ready once the first are drawn. */
function EmbedPosts() {
    const c = useEmbed();
    const channelId = useAppSelector((s) => s.entities.channels.currentChannelId);
    const blocks = useAppSelector((s) => s.entities.posts.postsInChannel[channelId]);
    const byId = useAppSelector((s) => s.entities.posts.posts);
    const posts = useMemo(() => channelPosts(blocks, byId), [blocks, byId]);
    useLayoutEffect(() => {
        if (blocks) {
            requestAnimationFrame(() => c.drawn()); // after this commit is painted
        }
    }, [blocks, c]);
    return (
        <div key={channelId} className='post-list' role='log' aria-label='Posts'>
            <div className='post-list-content'>
                {blocks && posts.length === 0 && <p className='hint embed-empty'>{'No messages yet.'}</p>}
                {posts.map((p) => <EmbedPost key={p.id} post={p} replies={replyCount(p, byId)}/>)}
            </div>
        </div>
    );
}

function replyCount(p: Post, byId: Record<string, Post>): number {
    if (p.root_id) {
        return 0;
    }
    let n = 0;
    for (const q of Object.values(byId)) {
        if (q.root_id === p.id && !q.delete_at) {
            n++;
        }
    }
    return Math.max(n, p.reply_count ?? 0);
}

function EmbedPost({post, replies}: {post: Post; replies: number}) {
    const c = useEmbed();
    const live = !post.delete_at && post.state !== 'DELETED';
    const root = post.root_id || post.id;
    return (
        <div className={'post-row embed-post' + (post.root_id ? ' is-reply' : '')}>
            {post.root_id && <button type='button' className='link-button embed-in-thread' onClick={() => c.openThread(root)}>{'↳ in a thread'}</button>}
            <PostView post={post}/>
            {live && (
                <button type='button' className='link-button embed-reply' aria-label='Reply' onClick={() => c.openThread(root)}>
                    {replies > 0 ? `${replies} ${replies === 1 ? 'reply' : 'replies'}` : 'Reply'}
                </button>
            )}
        </div>
    );
}

/** A thread: the root post, its replies, and a reply box. */
function Thread({rootId}: {rootId: string}) {
    const c = useEmbed();
    const byId = useAppSelector((s) => s.entities.posts.posts);
    const root = byId[rootId];
    const replies = useMemo(() => Object.values(byId).filter((p) => p.root_id === rootId).sort((a, b) => a.create_at - b.create_at), [byId, rootId]);
    const [text, setText] = useState('');
    const [error, setError] = useState('');
    const [busy, setBusy] = useState(false);
    const submit = async (e?: FormEvent) => {
        e?.preventDefault();
        if (!text.trim()) {
            return;
        }
        setBusy(true);
        setError('');
        try {
            await c.send(text, rootId);
            setText('');
        } catch (err) {
            setError((err as Error).message || 'Could not reply');
        } finally {
            setBusy(false);
        }
    };
    return (
        <aside className='rhs embed-thread' aria-label='Thread'>
            <header className='rhs-header'>
                <h3>{'Thread'}</h3>
                <button type='button' className='icon-button' aria-label='Close thread' onClick={() => c.closeThread()}>{'×'}</button>
            </header>
            <div className='rhs-body'>
                {root ? <PostView post={root} isRHS={true}/> : <p className='hint'>{'Loading…'}</p>}
                {replies.map((p) => <PostView key={p.id} post={p} isRHS={true}/>)}
            </div>
            <form className='post-box' onSubmit={submit}>
                {error && <p className='error' role='alert'>{error}</p>}
                <div className='post-box-row'>
                    <textarea
                        aria-label='Reply'
                        placeholder='Reply…'
                        rows={1}
                        value={text}
                        onChange={(e) => setText(e.target.value)}
                        onKeyDown={(e) => {
                            if (e.key === 'Enter' && !e.shiftKey) {
                                e.preventDefault();
                                submit();
                            }
                        }}
                    />
                    <button className='primary' type='submit' disabled={busy || !text.trim()}>{'Reply'}</button>
                </div>
            </form>
        </aside>
    );
}
