// The posts of the current channel. A plugin post type registered for
// post.props.type ?? post.type replaces the message body and gets the props
// Mattermost passes: post, theme, isRHS, compactDisplay.
import type {Post} from '@mattermost/types/posts';
import {memo, useMemo, useState} from 'react';

import {useHost} from '../host';
import {channelPosts} from '../mattermost/actions';
import {formatText, messageHtmlToComponent} from '../post_utils';
import {useAppSelector} from '../store';

import {Boundary, PluginNotice, useSafeCall, useSlot, useTheme} from './slot';

function displayName(u?: {username: string; first_name?: string; last_name?: string}): string {
    if (!u) {
        return 'Someone';
    }
    return u.username;
}

// One formatter for every post: toLocaleTimeString builds a new one per
// call, which costs more than rendering the post.
const timeFormat = new Intl.DateTimeFormat(undefined, {hour: '2-digit', minute: '2-digit'});

function time(ms: number): string {
    return timeFormat.format(ms);
}

export function PostBody({post, isRHS = false}: {post: Post; isRHS?: boolean}) {
    if (post.state === 'DELETED' || post.delete_at) {
        return <div className='post-message deleted'>{'(message deleted)'}</div>;
    }
    return <PostBodyLive post={post} isRHS={isRHS}/>;
}

function PostBodyLive({post, isRHS}: {post: Post; isRHS: boolean}) {
    const {slots} = useHost();
    useSlot('post_type'); // re-render when post types change
    const theme = useTheme();
    const type = (post.props?.type as string | undefined) || post.type;
    const reg = type ? slots.postType(type) : undefined;
    const status = useAppSelector((s) => s.plugins.status);
    const manifests = useAppSelector((s) => s.plugins.plugins);
    // A crashed plugin that declared this post type shows its notice here.
    const crashedOwner = Object.keys(status).find((id) => status[id].phase === 'crashed' &&
        (reg?.pluginId === id || manifests[id]?.slots.some((f) => f.slot === 'post_type' && f.post_type === type)));
    if (crashedOwner) {
        return <PluginNotice pluginId={crashedOwner}/>;
    }
    if (reg?.component) {
        const C = reg.component;
        return (
            <Boundary registration={reg}>
                <C post={post} theme={theme} isRHS={isRHS} compactDisplay={false}/>
            </Boundary>
        );
    }
    return <PostMessage message={post.message}/>;
}

// Re-rendered with its post (slots, theme, plugin status), formatted once per message.
const PostMessage = memo(function PostMessage({message}: {message: string}) {
    return <div className='post-message'>{messageHtmlToComponent(formatText(message))}</div>;
});

function PostMenu({post}: {post: Post}) {
    const items = useSlot('post_dropdown_menu');
    const call = useSafeCall();
    const [open, setOpen] = useState(false);
    const visible = useMemo(() => items.filter((r) => !r.filter || call(r, r.filter, post.id) !== false), [items, post.id, call]);
    if (visible.length === 0) {
        return null;
    }
    return (
        <div className='post-menu'>
            <button type='button' className='icon-button' aria-label='More actions' aria-expanded={open} onClick={() => setOpen(!open)}>{'⋯'}</button>
            {open && (
                <ul className='dropdown' role='menu'>
                    {visible.map((r) => (
                        // Sub-menu items (registerPostDropdownSubMenuAction) show indented under their root.
                        <li key={r.id} role='none' className={r.extra?.parentMenuId ? 'submenu-item' : undefined}>
                            <Boundary registration={r}>
                                <button
                                    type='button'
                                    role='menuitem'
                                    onClick={() => {
                                        setOpen(false);
                                        call(r, r.action, post.id);
                                    }}
                                >
                                    {r.text}
                                </button>
                            </Boundary>
                        </li>
                    ))}
                </ul>
            )}
        </div>
    );
}

// Memoized: a post re-renders when it changes, not with the whole list.
export const PostView = memo(function PostView({post, isRHS = false}: {post: Post; isRHS?: boolean}) {
    const user = useAppSelector((s) => s.entities.users.profiles[post.user_id]);
    return (
        <article className='post' data-post-id={post.id} data-post-type={post.type || undefined}>
            <div className='avatar' aria-hidden='true'>{displayName(user).slice(0, 1).toUpperCase()}</div>
            <div className='post-content'>
                <div className='post-header'>
                    <span className='post-author'>{displayName(user)}</span>
                    <time className='post-time' dateTime={new Date(post.create_at).toISOString()}>{time(post.create_at)}</time>
                    <PostMenu post={post}/>
                </div>
                <PostBody post={post} isRHS={isRHS}/>
            </div>
        </article>
    );
});

export function PostList() {
    const channelId = useAppSelector((s) => s.entities.channels.currentChannelId);
    const blocks = useAppSelector((s) => s.entities.posts.postsInChannel[channelId]);
    const byId = useAppSelector((s) => s.entities.posts.posts);
    const posts = useMemo(() => channelPosts(blocks, byId), [blocks, byId]);
    // The list opens at its newest post and stays there as posts arrive
    // (unless the reader scrolled up) by CSS alone: a column-reverse
    // scroller (styles.css). Scrolling from script would force a layout of
    // the page in the middle of its first renders. A channel gets a new
    // scroller, so it opens at its newest post too.
    return (
        <div key={channelId} className='post-list' role='log' aria-label='Posts'>
            <div className='post-list-content'>
                {posts.map((p) => <PostView key={p.id} post={p}/>)}
            </div>
        </div>
    );
}
