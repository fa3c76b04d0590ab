// window.Components and the modules of window.loadSharedDependency: the
// pieces of Mattermost's own UI it lends to plugins (plugins/export.ts,
// "for internal plugin use only"). These are SIMPLIFIED stand-ins with
// Mattermost's names and prop names, so a plugin that renders them gets a
// working, plain element instead of a crash (Playbooks destructures
// Textbox and Timestamp from window.Components). docs/webapp.md lists what
// each one does and does not do.
import {createElement, useEffect, useRef, useState, type ChangeEvent, type CSSProperties, type KeyboardEvent, type ReactNode} from 'react';
import {useSelector} from 'react-redux';

import {Client4} from './mattermost/client';
import {formatText, messageHtmlToComponent} from './post_utils';

type AnyProps = Record<string, any>;

/** Mattermost's imageURLForUser(userId, lastPictureUpdate). */
export function imageURLForUser(userId: string, lastPictureUpdate = 0): string {
    return Client4.getProfilePictureUrl(userId, lastPictureUpdate);
}

/** Textbox: Mattermost's message box (id, value, onChange, onKeyPress, placeholder, ...), as a textarea. */
export function Textbox(p: AnyProps) {
    return (
        <textarea
            id={p.id}
            className={`form-control custom-textarea ${p.className ?? ''}`}
            value={p.value ?? ''}
            placeholder={typeof p.createMessage === 'string' ? p.createMessage : p.placeholder}
            disabled={p.disabled}
            onChange={(e: ChangeEvent<HTMLTextAreaElement>) => p.onChange?.(e)}
            onKeyPress={p.onKeyPress}
            onKeyDown={p.onKeyDown}
            onBlur={p.onBlur}
            onFocus={p.onFocus}
            style={p.style}
            rows={p.rows ?? 3}
            maxLength={p.characterLimit}
        />
    );
}

const rtf = typeof Intl !== 'undefined' && 'RelativeTimeFormat' in Intl ? new Intl.RelativeTimeFormat(undefined, {numeric: 'auto'}) : null;

/** Timestamp: a <time> for value (Date, ms or ISO string); useRelative or ranges show "5 minutes ago". */
export function Timestamp(p: AnyProps) {
    const v = p.value instanceof Date ? p.value : new Date(p.value ?? Date.now());
    const relative = p.useRelative ?? Boolean(p.ranges);
    let text: string;
    if (relative && rtf) {
        const s = Math.round((v.getTime() - Date.now()) / 1000);
        const abs = Math.abs(s);
        text = abs < 60 ? rtf.format(s, 'second') : abs < 3600 ? rtf.format(Math.round(s / 60), 'minute') :
            abs < 86400 ? rtf.format(Math.round(s / 3600), 'hour') : rtf.format(Math.round(s / 86400), 'day');
    } else if (p.useDate === false) {
        text = v.toLocaleTimeString(undefined, {hour: 'numeric', minute: '2-digit', hour12: p.hourCycle ? p.hourCycle === 'h12' : undefined});
    } else if (p.useTime === false) {
        text = v.toLocaleDateString(undefined, {year: 'numeric', month: 'long', day: 'numeric'});
    } else {
        text = v.toLocaleString();
    }
    const el = <time className={p.className ?? 'timestamp'} dateTime={v.toISOString()} title={v.toString()}>{text}</time>;
    return typeof p.children === 'function' ? p.children({formatted: text}) : el;
}

/** Avatar: a round picture (url, username, size 'xxs'...'xxl'). */
export function Avatar(p: AnyProps) {
    const px: Record<string, number> = {xxs: 16, xs: 20, sm: 24, md: 32, lg: 36, xl: 50, xxl: 128};
    const size = px[p.size ?? 'md'] ?? 32;
    const style: CSSProperties = {width: size, height: size, borderRadius: '50%'};
    return p.url ? <img className={`Avatar Avatar-${p.size ?? 'md'}`} src={p.url} alt={`${p.username ?? 'user'} profile image`} style={style}/> :
        <span className='Avatar' style={style}>{p.text ?? ''}</span>;
}

/** BotBadge: Mattermost's BOT tag. */
export function BotBadge(p: AnyProps) {
    return <span className={`Tag Tag--xs BotTag ${p.className ?? ''}`}>{'BOT'}</span>;
}

/** A plain modal frame the stand-in modals share; onExited/onHide close it. */
function Frame({title, onClose, children, footer}: {title: string; onClose: () => void; children?: ReactNode; footer?: ReactNode}) {
    return (
        <div className='host-modal' role='dialog' aria-label={title}>
            <h2>{title}</h2>
            {children}
            <div className='modal-actions'>
                {footer}
                <button type='button' onClick={onClose}>{'Close'}</button>
            </div>
        </div>
    );
}

const closer = (p: AnyProps) => () => (p.onExited ?? p.onHide ?? (() => undefined))();

/** EditChannelHeaderModal: edits channel.header (PATCH /channels/{id}). */
export function EditChannelHeaderModal(p: AnyProps) {
    const [header, setHeader] = useState<string>(p.channel?.header ?? '');
    const [error, setError] = useState('');
    const save = async () => {
        try {
            await Client4.patchChannel(p.channel.id, {header});
            closer(p)();
        } catch (e) {
            setError(String((e as Error).message ?? e));
        }
    };
    return (
        <Frame title={`Edit header for ${p.channel?.display_name ?? ''}`} onClose={closer(p)} footer={<button type='button' className='primary' onClick={save}>{'Save'}</button>}>
            <Textbox id='edit_textbox' value={header} onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setHeader(e.target.value)}/>
            {error && <p className='error'>{error}</p>}
        </Frame>
    );
}

/** ChannelMembersModal / ChannelInviteModal: the channel's members (GET /channels/{id}/members). */
function membersModal(title: string) {
    return function MembersModal(p: AnyProps) {
        const [names, setNames] = useState<string[] | null>(null);
        useEffect(() => {
            if (!p.channel?.id) {
                return;
            }
            Client4.getProfilesInChannel(p.channel.id, 0, 200).then((us) => setNames(us.map((u) => u.username)), () => setNames([]));
        }, [p.channel?.id]);
        return (
            <Frame title={`${title} ${p.channel?.display_name ?? ''}`} onClose={closer(p)}>
                {names === null ? <p>{'Loading…'}</p> : <ul className='channel-members'>{names.map((n) => <li key={n}>{'@' + n}</li>)}</ul>}
            </Frame>
        );
    };
}
export const ChannelMembersModal = membersModal('Members of');
export const ChannelInviteModal = membersModal('Add people to');

/** ChannelNotificationsModal: the channel's notification settings, read-only here. */
export function ChannelNotificationsModal(p: AnyProps) {
    const props = p.channelMember?.notify_props ?? {};
    return (
        <Frame title={`Notification preferences for ${p.channel?.display_name ?? ''}`} onClose={closer(p)}>
            <dl>{Object.entries(props).map(([k, v]) => [<dt key={k}>{k}</dt>, <dd key={k + '='}>{String(v)}</dd>])}</dl>
        </Frame>
    );
}

/** StartTrialFormModal: no licence server here; it says so. */
export function StartTrialFormModal(p: AnyProps) {
    return <Frame title='Start trial' onClose={closer(p)}><p>{'Trials are not available on this server.'}</p></Frame>;
}

/** ThreadViewer: the root post of rootPostId and its replies from the store. */
export function ThreadViewer(p: AnyProps) {
    const posts = useSelector((s: any) => s.entities?.posts?.posts ?? {}) as Record<string, {id: string; root_id?: string; message: string; create_at: number}>;
    const thread = Object.values(posts).filter((x) => x.id === p.rootPostId || x.root_id === p.rootPostId).sort((a, b) => a.create_at - b.create_at);
    return (
        <div className='ThreadViewer' data-root-post-id={p.rootPostId}>
            {thread.map((x) => <div key={x.id} className='post'>{messageHtmlToComponent(formatText(x.message))}</div>)}
        </div>
    );
}

/** PostMessagePreview: a quoted preview of metadata.post (a permalink embed). */
export function PostMessagePreview(p: AnyProps) {
    const post = p.metadata?.post ?? p.post;
    return (
        <div className='attachment attachment--permalink post-preview'>
            {p.metadata?.channel_display_name && <span className='post-preview__channel'>{p.metadata.channel_display_name}</span>}
            {post ? messageHtmlToComponent(formatText(post.message ?? '')) : null}
        </div>
    );
}

/** AdvancedTextEditor: a Textbox with a send button; Enter sends (onSubmit / handleSubmit). */
export function AdvancedTextEditor(p: AnyProps) {
    const [value, setValue] = useState<string>(p.message ?? p.value ?? '');
    const send = () => {
        (p.onSubmit ?? p.handleSubmit)?.(value);
        setValue('');
    };
    return (
        <div className='AdvancedTextEditor'>
            <Textbox
                id={p.textboxRef ? undefined : 'advanced_text_editor_textbox'}
                value={value}
                placeholder={p.placeholder}
                onChange={(e: ChangeEvent<HTMLTextAreaElement>) => {
                    setValue(e.target.value);
                    p.onChange?.(e);
                }}
                onKeyDown={(e: KeyboardEvent) => {
                    if (e.key === 'Enter' && !e.shiftKey) {
                        e.preventDefault();
                        send();
                    }
                }}
            />
            <button type='button' className='primary' aria-label='Send' onClick={send}>{'Send'}</button>
        </div>
    );
}

/** DatePicker: an <input type=date>; datePickerProps.onDayClick / selected as in Mattermost's (react-day-picker). */
export function DatePicker(p: AnyProps) {
    const dp = p.datePickerProps ?? {};
    const sel: Date | undefined = dp.selected instanceof Date ? dp.selected : undefined;
    const iso = sel ? `${sel.getFullYear()}-${String(sel.getMonth() + 1).padStart(2, '0')}-${String(sel.getDate()).padStart(2, '0')}` : '';
    return (
        <span className='date-picker'>
            {p.children}
            <input
                type='date'
                value={iso}
                onChange={(e) => {
                    const [y, m, d] = e.target.value.split('-').map(Number);
                    if (y) {
                        dp.onDayClick?.(new Date(y, m - 1, d));
                    }
                    p.handlePopperOpenState?.(false);
                }}
            />
        </span>
    );
}

/** Menu.Item: leadingElement, labels, trailingElements, onClick, isDestructive. */
export function MenuItem(p: AnyProps) {
    return (
        <li
            id={p.id}
            role='menuitem'
            tabIndex={0}
            className={`MenuItem ${p.isDestructive ? 'MenuItem--destructive' : ''} ${p.className ?? ''}`}
            onClick={p.disabled ? undefined : p.onClick}
            aria-disabled={p.disabled || undefined}
        >
            {p.leadingElement}
            <span className='MenuItem__labels'>{p.labels}</span>
            {p.trailingElements}
        </li>
    );
}

/** Menu.Separator. */
export function MenuSeparator() {
    return <li className='menuSeparator' role='separator'/>;
}

/** The user settings modal WebappUtils.openUserSettings opens (activeTab). */
export function UserSettingsModal(p: AnyProps) {
    return <Frame title='Settings' onClose={closer(p)}><p className='user-settings-tab'>{p.activeTab ?? 'notifications'}</p></Frame>;
}

export const Components = {
    Textbox, Timestamp, ChannelInviteModal, ChannelMembersModal, ChannelNotificationsModal, EditChannelHeaderModal,
    Avatar, imageURLForUser, BotBadge, StartTrialFormModal, ThreadViewer, PostMessagePreview, AdvancedTextEditor,
    DatePicker, MenuItem, MenuSeparator,
};

// @mattermost/shared: what Mattermost's loadSharedDependency resolves for
// plugins built with its webpack-web-app-externals.cjs (imports become
// `promise globalThis.loadSharedDependency(request)`). Each module is an ES
// module namespace as webpack's import() gives it (__esModule, named
// exports), so default and named imports both work.

/** WithTooltip: title (and hint) as the native tooltip of its one child. */
function WithTooltip(p: AnyProps) {
    const ref = useRef<HTMLSpanElement>(null);
    const title = [typeof p.title === 'string' ? p.title : '', typeof p.hint === 'string' ? p.hint : ''].filter(Boolean).join(' — ');
    return <span ref={ref} className='with-tooltip' title={title}>{p.children}</span>;
}

/** Button: emphasis, size, variant as Mattermost's btn classes. */
function Button({emphasis = 'primary', size = 'md', variant, className, ...rest}: AnyProps) {
    return createElement('button', {type: 'button', ...rest, className: ['btn', `btn-${emphasis}`, `btn-${size}`, variant && `btn-${variant}`, className].filter(Boolean).join(' ')});
}

function ShortcutKey(p: AnyProps) {
    return <kbd className={`shortcut-key shortcut-key--${p.variant ?? 'default'}`}>{p.children}</kbd>;
}

function Emoji(p: AnyProps) {
    return <span className='emoticon' title={`:${p.emojiName}:`} style={{fontSize: p.size}}>{`:${p.emojiName}:`}</span>;
}

const ua = () => (typeof navigator === 'undefined' ? '' : navigator.userAgent);
const esm = (exports: Record<string, unknown>) => Object.freeze({__esModule: true, ...exports});

const sharedModules: Record<string, () => unknown> = {
    '@mattermost/shared/components/button': () => esm({Button, buttonClassNames: (o: AnyProps = {}) => `btn btn-${o.emphasis ?? 'primary'} btn-${o.size ?? 'md'}`}),
    '@mattermost/shared/components/emoji': () => esm({Emoji}),
    '@mattermost/shared/components/shortcut_key': () => esm({ShortcutKey}),
    '@mattermost/shared/components/tooltip': () => esm({WithTooltip}),
    '@mattermost/shared/utils/i18n': () => esm({getLocale: () => document.documentElement.lang || 'en'}),
    '@mattermost/shared/utils/user_agent': () => esm({
        isDesktopApp: () => /Mattermost/.test(ua()), isMac: () => /Macintosh/.test(ua()), isWindows: () => /Windows/.test(ua()),
        isLinux: () => /Linux/.test(ua()), isChrome: () => /Chrome/.test(ua()), isFirefox: () => /Firefox/.test(ua()), isSafari: () => /^((?!chrome|android).)*safari/i.test(ua()),
    }),
};

/**
 * Mattermost's loadSharedDependency(request): a Promise of the module; an
 * unknown request throws, as in Mattermost (the plugin's import fails).
 */
export function loadSharedDependency(request: string): Promise<unknown> {
    const m = sharedModules[request];
    if (!m) {
        throw new Error(`A plugin attempted to load ${request} which couldn't be found.`);
    }
    return Promise.resolve(m());
}
