// The app bar (right edge), the right-hand sidebar, the main menu and the
// root components: the places around the channel view plugins fill.
import {useAppDispatch, useAppSelector} from '../store';
import {viewsActions} from '../store/views_slice';
import {useHost} from '../host';
import {toggleRHS} from '../plugins/registry';
import {navigate} from '../router';

import {useState} from 'react';

import {PostCardView, PostView} from './posts';
import {UserSettingsModal, useVisible} from './pluggables';
import {Slot, useSafeCall, useSlot} from './slot';

export function AppBar() {
    const dispatch = useAppDispatch();
    const call = useSafeCall();
    const channelId = useAppSelector((s) => s.entities.channels.currentChannelId);
    const channel = useAppSelector((s) => s.entities.channels.channels[channelId]);
    const member = useAppSelector((s) => s.entities.channels.myMembers[channelId]);
    const rhs = useAppSelector((s) => s.views.rhs);
    return (
        <aside className='app-bar' aria-label='App bar'>
            <Slot
                name='app_bar'
                render={(r) => (
                    <button
                        type='button'
                        className={'app-bar-icon' + (r.rhsId && rhs.isSidebarOpen && rhs.pluggableId === r.rhsId ? ' active' : '')}
                        title={typeof r.tooltipText === 'string' ? r.tooltipText : undefined}
                        aria-label={typeof r.tooltipText === 'string' ? r.tooltipText : r.pluginId}
                        onClick={() => {
                            if (r.rhsId) {
                                dispatch(toggleRHS(r.rhsId));
                            }
                            call(r, r.action, channel, member);
                        }}
                    >
                        {r.iconUrl ? <img src={r.iconUrl} alt=''/> : r.icon ?? r.pluginId.slice(0, 1)}
                    </button>
                )}
            />
        </aside>
    );
}

export function RightHandSidebar() {
    const dispatch = useAppDispatch();
    const rhs = useAppSelector((s) => s.views.rhs);
    const regs = useSlot('right_hand_sidebar');
    const reg = regs.find((r) => r.id === rhs.pluggableId);
    if (rhs.isSidebarOpen && rhs.rhsState === 'thread') {
        // ProductApi.selectRhsPost: the post in the RHS (the host has no thread view).
        return <RhsPanel title='Post'><SelectedPost postId={rhs.selectedPostId}/></RhsPanel>;
    }
    if (rhs.isSidebarOpen && rhs.rhsState === 'post_card') {
        return <RhsPanel title='Info'><PostCardView postId={rhs.selectedPostCardId}/></RhsPanel>;
    }
    if (!rhs.isSidebarOpen || !reg) {
        return null;
    }
    return (
        <RhsPanel
            title={reg.title ?? reg.pluginId}
            expanded={rhs.isSidebarExpanded}
            expandButton={
                // views.rhs.isSidebarExpanded, as Mattermost's expand button.
                <button type='button' className='icon-button' aria-label={rhs.isSidebarExpanded ? 'Collapse' : 'Expand'} aria-pressed={rhs.isSidebarExpanded} onClick={() => dispatch(viewsActions.rhsExpanded())}>{rhs.isSidebarExpanded ? '⇥' : '⇤'}</button>
            }
        >
            <Slot name='right_hand_sidebar' only={reg.id}/>
        </RhsPanel>
    );
}

/** The right-hand sidebar's frame: a title, a close button and the body. */
function RhsPanel({title, expanded = false, expandButton, children}: {title: React.ReactNode; expanded?: boolean; expandButton?: React.ReactNode; children: React.ReactNode}) {
    const dispatch = useAppDispatch();
    return (
        <aside className={'rhs' + (expanded ? ' expanded' : '')} aria-label='Right-hand sidebar'>
            <header className='rhs-header'>
                <h3>{title}</h3>
                <span>
                    {expandButton}
                    <button type='button' className='icon-button' aria-label='Close' onClick={() => dispatch(viewsActions.rhsClosed())}>{'×'}</button>
                </span>
            </header>
            <div className='rhs-body'>{children}</div>
        </aside>
    );
}

export function MainMenu() {
    const host = useHost();
    const dispatch = useAppDispatch();
    const call = useSafeCall();
    const open = useAppSelector((s) => s.views.mainMenuOpen);
    const teamId = useAppSelector((s) => s.entities.teams.currentTeamId);
    const team = useAppSelector((s) => s.entities.teams.teams[teamId]);
    const me = useAppSelector((s) => s.entities.users.profiles[s.entities.users.currentUserId]);
    const products = useSlot('product');
    const switcherItems = useVisible('ProductSwitcherMenuItem', (r) => !r.filter?.());
    const hasSettings = useSlot('UserSettings').length > 0;
    const [settingsOpen, setSettingsOpen] = useState(false);
    const close = () => dispatch(viewsActions.mainMenuToggled(false));
    return (
        <div className='main-menu'>
            <button type='button' className='main-menu-button' aria-haspopup='menu' aria-expanded={open} onClick={() => dispatch(viewsActions.mainMenuToggled())}>
                <span className='team-name'>{team?.display_name ?? 'mmtoolkit'}</span>
                <span className='username'>{me ? `@${me.username}` : ''}</span>
                <span aria-hidden='true'>{' ▾'}</span>
            </button>
            <ul className='host-menu' role='menu' hidden={!open}>
                <Slot
                    name='main_menu'
                    render={(r) => (
                        <li role='none'>
                            <button
                                type='button'
                                role='menuitem'
                                onClick={() => {
                                    close();
                                    call(r, r.action);
                                }}
                            >
                                {r.text}
                            </button>
                        </li>
                    )}
                />
                {/* The product switcher: products (switcherLinkURL, else baseURL), then registerProductSwitcherMenuItem. */}
                {products.map((p) => (
                    <li role='none' key={p.id}>
                        <button
                            type='button'
                            role='menuitem'
                            onClick={() => {
                                close();
                                const link = typeof p.extra?.switcherLinkURL === 'string' && p.extra.switcherLinkURL ? p.extra.switcherLinkURL : `/${p.route}`;
                                navigate(link.startsWith('/') ? link : `/${link}`);
                            }}
                        >
                            {p.icon}{' '}{p.text ?? p.route}
                        </button>
                    </li>
                ))}
                {switcherItems.map((r) => (
                    <li role='none' key={r.id} className='product-switcher-item'>
                        <button
                            type='button'
                            role='menuitem'
                            onClick={() => {
                                close();
                                call(r, r.action);
                            }}
                        >
                            {r.icon}{r.icon ? ' ' : ''}{r.text}
                        </button>
                    </li>
                ))}
                {hasSettings && (
                    <li role='none'>
                        <button
                            type='button'
                            role='menuitem'
                            onClick={() => {
                                close();
                                setSettingsOpen(true);
                            }}
                        >
                            {'Settings'}
                        </button>
                    </li>
                )}
                <li role='none' className='separator'>
                    <button type='button' role='menuitem' onClick={() => host.logout()}>{'Log out'}</button>
                </li>
            </ul>
            {settingsOpen && <UserSettingsModal close={() => setSettingsOpen(false)}/>}
        </div>
    );
}

/** registerRootComponent: mounted once at the root, for modals and listeners. */
export function RootComponents() {
    return <div className='plugin-roots'><Slot name='root'/></div>;
}

function SelectedPost({postId}: {postId: string}) {
    const post = useAppSelector((s) => s.entities.posts.posts[postId]);
    return post ? <PostView post={post} isRHS={true}/> : <p className='hint'>{'This post is not loaded.'}</p>;
}
