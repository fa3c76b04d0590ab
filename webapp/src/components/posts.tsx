// The posts of the current channel. A plugin post type registered for
// post.props.type ?? post.type replaces the message body and gets the props
// Mattermost passes: post, theme, isRHS, compactDisplay. Around it, the
// post pluggables: header components and actions, the author's popover,
// message-will-format hooks, link tooltips, code block actions, embeds,
// message attachments, file previews and menus, the post menu (with
// sub-menus, components and editing through message-will-be-updated
// hooks), post cards; and for the list: the channel intro, channel toasts
// and the new-messages separator.
import type {FileInfo} from '@mattermost/types/files';
import type {Post} from '@mattermost/types/posts';
import {memo, useLayoutEffect, useMemo, useRef, useState, type MouseEvent as ReactMouseEvent} from 'react';
import {createPortal} from 'react-dom';

import {useHost} from '../host';
import {channelPosts, receivedPost} from '../mattermost/actions';
import {Client4} from '../mattermost/client';
import {runMessageWillBeUpdatedHooks, runMessageWillFormatHooks} from '../plugins/events';
import type {Registration} from '../plugins/types';
import {formatText, messageHtmlToComponent} from '../post_utils';
import {useAppDispatch, useAppSelector} from '../store';
import {viewsActions} from '../store/views_slice';

import {ActionMenu, UserPopover, useVisible} from './pluggables';
import {Boundary, PluginNotice, Slot, useSafeCall, useSlot, useTheme} from './slot';

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
    return <PostMessageLive post={post}/>;
}

/** The message after the plugins' message-will-format hooks, with link tooltips and code block actions. */
function PostMessageLive({post}: {post: Post}) {
    const host = useHost();
    const formatHooks = useSlot('MessageWillFormat');
    const message = useMemo(() => (formatHooks.length ? runMessageWillFormatHooks(host.slots, host.report, post, post.message) : post.message),
        [formatHooks, post, host]);
    const ref = useRef<HTMLDivElement>(null);
    const [link, setLink] = useState<{href: string; top: number; left: number} | null>(null);
    const tooltips = useSlot('LinkTooltip');
    const codeActions = useSlot('CodeBlockAction');
    const [blocks, setBlocks] = useState<Array<{el: HTMLElement; code: string}>>([]);
    useLayoutEffect(() => {
        if (codeActions.length === 0 || !ref.current) {
            setBlocks((b) => (b.length ? [] : b));
            return;
        }
        setBlocks([...ref.current.querySelectorAll('pre')].map((pre) => {
            let el = pre.parentElement?.querySelector<HTMLElement>(':scope > .code-block-actions');
            if (!el) {
                el = document.createElement('div');
                el.className = 'code-block-actions';
                pre.after(el);
            }
            return {el, code: pre.textContent ?? ''};
        }));
    }, [message, codeActions.length]);
    const onOver = (e: ReactMouseEvent) => {
        const a = (e.target as HTMLElement).closest('a');
        if (a && tooltips.length && ref.current?.contains(a)) {
            const r = a.getBoundingClientRect();
            setLink({href: a.href, top: r.bottom + 4, left: r.left});
        }
    };
    return (
        <div className='post-message' ref={ref} onMouseOver={onOver} onMouseLeave={() => setLink(null)}>
            <PostMessage message={message}/>
            {link && (
                <div className='link-tooltip' role='tooltip' style={{top: link.top, left: link.left}}>
                    <Slot name='LinkTooltip' props={{href: link.href, show: true}}/>
                </div>
            )}
            {blocks.map((b, i) => createPortal(<Slot name='CodeBlockAction' props={{code: b.code}}/>, b.el, String(i)))}
        </div>
    );
}

// Formatted once per message.
const PostMessage = memo(function PostMessage({message}: {message: string}) {
    return <>{messageHtmlToComponent(formatText(message))}</>;
});

const linkPattern = /\bhttps?:\/\/[^\s<>()]+/g;

/**
 * registerPostWillRenderEmbedComponent: for each embed of the post (its
 * metadata.embeds, else one {type: 'link', url} per link of the message,
 * as the server would make them), the first registration whose
 * match(embed) takes it renders {embed, webSocketClient}; a toggleable
 * one can be collapsed.
 */
function PostEmbeds({post}: {post: Post}) {
    const host = useHost();
    const regs = useSlot('PostWillRenderEmbedComponent');
    const [hidden, setHidden] = useState<Record<number, boolean>>({});
    if (regs.length === 0) {
        return null;
    }
    const meta = (post.metadata as {embeds?: Array<{type: string; url: string; data?: unknown}>} | undefined)?.embeds;
    const embeds = meta?.length ? meta : [...new Set(post.message.match(linkPattern) ?? [])].map((url) => ({type: 'link', url}));
    return (
        <>
            {embeds.map((embed, i) => {
                const reg = regs.find((r) => {
                    try {
                        return Boolean(r.filter?.(embed));
                    } catch (e) {
                        host.report({pluginId: r.pluginId, where: 'handler', error: e, slot: r.slot, registrationId: r.id});
                        return false;
                    }
                });
                if (!reg?.component) {
                    return null;
                }
                const C = reg.component;
                return (
                    <div key={i} className='post-embed'>
                        {Boolean(reg.extra?.toggleable) && (
                            <button type='button' className='icon-button' aria-label={hidden[i] ? 'Show preview' : 'Hide preview'} onClick={() => setHidden({...hidden, [i]: !hidden[i]})}>
                                {hidden[i] ? '▸' : '▾'}
                            </button>
                        )}
                        {!hidden[i] && <Boundary registration={reg}><C embed={embed} webSocketClient={host.mmSocket}/></Boundary>}
                    </div>
                );
            })}
        </>
    );
}

/**
 * The post's files (metadata.files): a registerFilePreviewComponent whose
 * override(fileInfo, post) takes it renders the preview; each file has a
 * menu of registerFileDropdownMenuAction items whose match(fileInfo) holds.
 */
function PostFiles({post}: {post: Post}) {
    // mattermost-redux keeps a post's files apart from it (entities.files), by post id.
    const ids = useAppSelector((s) => s.entities.files.fileIdsByPostId[post.id]);
    const byId = useAppSelector((s) => s.entities.files.files);
    const files = useMemo(() => (ids ?? []).map((id) => byId[id]).filter(Boolean) as FileInfo[], [ids, byId]);
    const previews = useSlot('FilePreview');
    const host = useHost();
    const [open, setOpen] = useState<FileInfo | null>(null);
    if (files.length === 0) {
        return null;
    }
    // One plugin overrides a preview, the first by plugin id, as Mattermost.
    const previewOf = (f: FileInfo) => [...previews].sort((a, b) => a.pluginId.localeCompare(b.pluginId)).find((r) => {
        try {
            return Boolean(r.filter?.(f, post));
        } catch (e) {
            host.report({pluginId: r.pluginId, where: 'handler', error: e, slot: r.slot, registrationId: r.id});
            return false;
        }
    });
    const reg = open ? previewOf(open) : undefined;
    return (
        <div className='post-files'>
            {files.map((f) => (
                <div key={f.id} className='post-file' data-file-id={f.id}>
                    <button type='button' className='link-button' onClick={() => setOpen(f)}>{f.name}</button>
                    <FileMenu file={f}/>
                </div>
            ))}
            {open && (
                <div className='file-preview' role='dialog' aria-label={`Preview of ${open.name}`}>
                    <button type='button' className='icon-button' aria-label='Close preview' onClick={() => setOpen(null)}>{'×'}</button>
                    {reg?.component ? (
                        <Boundary registration={reg}><reg.component fileInfo={open} post={post} onModalDismissed={() => setOpen(null)}/></Boundary>
                    ) : (
                        <a href={Client4.getFileUrl(open.id, Date.now())}>{open.name}</a>
                    )}
                </div>
            )}
        </div>
    );
}

function FileMenu({file}: {file: FileInfo}) {
    const items = useVisible('FilesDropdown', (r) => !r.filter || Boolean(r.filter(file)));
    return <ActionMenu label='⋯' ariaLabel={`Actions for ${file.name}`} items={items} args={[file]}/>;
}

/** registerPostCardTypeComponent: the RHS "Info" view of a post whose type has a card. */
export function PostCardView({postId}: {postId: string}) {
    const post = useAppSelector((s) => s.entities.posts.posts[postId]);
    const theme = useTheme();
    const regs = useSlot('PostCardType');
    const type = post ? ((post.props?.type as string | undefined) || post.type) : '';
    const reg = [...regs].reverse().find((r) => r.key === type);
    if (!post || !reg?.component) {
        return <p className='hint'>{'No card for this post.'}</p>;
    }
    const C = reg.component;
    return <Boundary registration={reg}><C post={post} theme={theme} isRHS={true}/></Boundary>;
}

function PostMenu({post, onEdit}: {post: Post; onEdit?: () => void}) {
    const items = useSlot('post_dropdown_menu');
    const call = useSafeCall();
    const theme = useTheme();
    const [open, setOpen] = useState(false);
    const [sub, setSub] = useState('');
    const visible = useMemo(() => items.filter((r) => r.component || !r.filter || call(r, r.filter, post.id) !== false), [items, post.id, call]);
    const roots = visible.filter((r) => !r.extra?.parentMenuId);
    if (roots.length === 0 && !onEdit) {
        return null;
    }
    const item = (r: Registration) => {
        if (r.component) {
            // registerPostDropdownMenuComponent (deprecated): the plugin renders the item.
            const C = r.component;
            return <Boundary registration={r}><C postId={post.id} theme={theme}/></Boundary>;
        }
        const children = visible.filter((c) => c.extra?.parentMenuId === r.id);
        return (
            <Boundary registration={r}>
                <button
                    type='button'
                    role='menuitem'
                    aria-haspopup={children.length ? 'menu' : undefined}
                    aria-expanded={children.length ? sub === r.id : undefined}
                    onClick={() => {
                        if (children.length) {
                            setSub(sub === r.id ? '' : r.id);
                            return;
                        }
                        setOpen(false);
                        call(r, r.action, post.id);
                    }}
                >
                    {r.text}{children.length ? ' ▸' : ''}
                </button>
                {children.length > 0 && sub === r.id && (
                    <ul className='host-menu submenu' role='menu'>
                        {children.map((c) => (
                            <li key={c.id} role='none' className='submenu-item'>
                                <Boundary registration={c}>
                                    <button
                                        type='button'
                                        role='menuitem'
                                        onClick={() => {
                                            setOpen(false);
                                            call(c, c.action, post.id);
                                        }}
                                    >
                                        {c.text}
                                    </button>
                                </Boundary>
                            </li>
                        ))}
                    </ul>
                )}
            </Boundary>
        );
    };
    return (
        <div className='post-menu'>
            <button type='button' className='icon-button' aria-label='More actions' aria-expanded={open} onClick={() => setOpen(!open)}>{'⋯'}</button>
            {open && (
                <ul className='host-menu' role='menu'>
                    {onEdit && (
                        <li role='none'>
                            <button
                                type='button'
                                role='menuitem'
                                onClick={() => {
                                    setOpen(false);
                                    onEdit();
                                }}
                            >
                                {'Edit'}
                            </button>
                        </li>
                    )}
                    {roots.map((r) => <li key={r.id} role='none'>{item(r)}</li>)}
                </ul>
            )}
        </div>
    );
}

/** Editing a post: message-will-be-updated hooks, then PUT /api/v4/posts/{id}/patch. */
function PostEditor({post, done}: {post: Post; done: () => void}) {
    const host = useHost();
    const [text, setText] = useState(post.message);
    const [error, setError] = useState('');
    const save = async () => {
        const res = await runMessageWillBeUpdatedHooks(host.slots, host.report, {...post, message: text}, post);
        if ('error' in res) {
            setError(res.error.message);
            return;
        }
        try {
            const updated = await Client4.patchPost({id: post.id, message: res.post.message, props: res.post.props} as never);
            receivedPost(host.store.dispatch, updated);
            done();
        } catch (e) {
            setError((e as Error).message || 'Could not save');
        }
    };
    return (
        <div className='post-edit'>
            {error && <p className='error' role='alert'>{error}</p>}
            <textarea
                aria-label='Edit message'
                value={text}
                onChange={(e) => setText(e.target.value)}
                onKeyDown={(e) => {
                    if (e.key === 'Enter' && !e.shiftKey) {
                        e.preventDefault();
                        save();
                    } else if (e.key === 'Escape') {
                        done();
                    }
                }}
            />
            <button type='button' className='primary' onClick={save}>{'Save'}</button>{' '}
            <button type='button' className='link-button' onClick={done}>{'Cancel'}</button>
        </div>
    );
}

function PostAuthor({userId}: {userId: string}) {
    const user = useAppSelector((s) => s.entities.users.profiles[userId]);
    const [open, setOpen] = useState(false);
    return (
        <span className='post-author-anchor'>
            <button type='button' className='post-author' aria-haspopup='dialog' onClick={() => setOpen(!open)}>{displayName(user)}</button>
            {open && user && <UserPopover user={user} hide={() => setOpen(false)}/>}
        </span>
    );
}

// Memoized: a post re-renders when it changes, not with the whole list.
export const PostView = memo(function PostView({post, isRHS = false}: {post: Post; isRHS?: boolean}) {
    const user = useAppSelector((s) => s.entities.users.profiles[post.user_id]);
    const mine = useAppSelector((s) => s.entities.users.currentUserId === post.user_id);
    const dispatch = useAppDispatch();
    const cards = useSlot('PostCardType');
    const [editing, setEditing] = useState(false);
    const type = (post.props?.type as string | undefined) || post.type;
    const hasCard = Boolean(type) && cards.some((r) => r.key === type);
    const live = !post.delete_at && post.state !== 'DELETED';
    return (
        <article className='post' data-post-id={post.id} data-post-type={post.type || undefined}>
            <div className='avatar' aria-hidden='true'>{displayName(user).slice(0, 1).toUpperCase()}</div>
            <div className='post-content'>
                <div className='post-header'>
                    <PostAuthor userId={post.user_id}/>
                    <time className='post-time' dateTime={new Date(post.create_at).toISOString()}>{time(post.create_at)}</time>
                    {live && <Slot name='PostHeader' props={{post}}/>}
                    {live && <span className='post-actions'><Slot name='PostAction' props={{post}}/></span>}
                    {live && hasCard && (
                        <button type='button' className='icon-button' aria-label='Post info' onClick={() => dispatch(viewsActions.rhsPostCardShown(post.id))}>{'ⓘ'}</button>
                    )}
                    {live && <PostMenu post={post} onEdit={mine && !type ? () => setEditing(true) : undefined}/>}
                </div>
                {editing ? <PostEditor post={post} done={() => setEditing(false)}/> : <PostBody post={post} isRHS={isRHS}/>}
                {live && (
                    <>
                        <PostEmbeds post={post}/>
                        <PostFiles post={post}/>
                        <Slot name='PostMessageAttachment' props={{postId: post.id, onHeightChange: () => undefined}}/>
                    </>
                )}
            </div>
        </article>
    );
});

/**
 * The top of a channel whose first post is loaded: a registerChannelIntro
 * whose matcher(channel) takes it renders {channel}; else the host's intro
 * with the registerChannelIntroButtonAction buttons (action(channel, member)).
 */
function ChannelIntro({channelId}: {channelId: string}) {
    const channel = useAppSelector((s) => s.entities.channels.channels[channelId]);
    const member = useAppSelector((s) => s.entities.channels.myMembers[channelId]);
    const theme = useTheme();
    const call = useSafeCall();
    const intro = useVisible('ChannelIntro', (r) => Boolean(channel && r.filter?.(channel)))[0];
    if (!channel) {
        return null;
    }
    if (intro?.component) {
        const C = intro.component;
        return <div className='channel-intro'><Boundary registration={intro}><C channel={channel} theme={theme}/></Boundary></div>;
    }
    return (
        <div className='channel-intro'>
            <h3>{`Beginning of ${channel.display_name}`}</h3>
            {channel.purpose && <p className='hint'>{channel.purpose}</p>}
            <div className='channel-intro-buttons'>
                <Slot
                    name='ChannelIntroButton'
                    render={(r) => (
                        <button type='button' className='intro-button' onClick={() => call(r, r.action, channel, member)}>{r.icon}{r.icon ? ' ' : ''}{r.text}</button>
                    )}
                />
            </div>
        </div>
    );
}

export function PostList() {
    const channelId = useAppSelector((s) => s.entities.channels.currentChannelId);
    // A new scroller per channel (see below), so its state starts afresh.
    return <ChannelPosts key={channelId} channelId={channelId}/>;
}

function ChannelPosts({channelId}: {channelId: string}) {
    const blocks = useAppSelector((s) => s.entities.posts.postsInChannel[channelId]);
    const byId = useAppSelector((s) => s.entities.posts.posts);
    const me = useAppSelector((s) => s.entities.users.currentUserId);
    const lastViewed = useAppSelector((s) => s.entities.channels.myMembers[channelId]?.last_viewed_at ?? 0);
    // The separator stays where it was when the channel opened.
    const [viewedAt] = useState(lastViewed);
    const posts = useMemo(() => channelPosts(blocks, byId), [blocks, byId]);
    const atStart = Boolean(blocks?.some((b) => b.oldest));
    const firstNew = posts.find((p) => p.create_at > viewedAt && p.user_id !== me)?.id;
    // The list opens at its newest post and stays there as posts arrive
    // (unless the reader scrolled up) by CSS alone: a column-reverse
    // scroller (styles.css). Scrolling from script would force a layout of
    // the page in the middle of its first renders. A channel gets a new
    // scroller, so it opens at its newest post too.
    return (
        <>
            <div className='channel-toasts'><Slot name='ChannelToast'/></div>
            <div className='post-list' role='log' aria-label='Posts'>
                <div className='post-list-content'>
                    {atStart && <ChannelIntro channelId={channelId}/>}
                    {posts.map((p) => (
                        <div key={p.id} className='post-row'>
                            {p.id === firstNew && (
                                <div className='new-messages-separator' role='separator'>
                                    <span>{'New Messages'}</span>
                                    <Slot name='NewMessagesSeparatorAction' props={{lastViewedAt: viewedAt, channelId, threadId: ''}}/>
                                </div>
                            )}
                            <PostView post={p}/>
                        </div>
                    ))}
                </div>
            </div>
        </>
    );
}
