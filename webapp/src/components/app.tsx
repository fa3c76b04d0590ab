// The app: routes to the login page, a channel, or a plugin view, inside
// Mattermost's layout (team sidebar, channel list, center, RHS, app bar).
import {useEffect, useLayoutEffect} from 'react';

import {useHost} from '../host';
import {navigate, parseRoute, usePathname, type Route} from '../router';
import {useAppSelector} from '../store';

import {ChannelHeader} from './channel_header';
import {AppBar, MainMenu, RightHandSidebar, RootComponents} from './chrome';
import {DevOverlay} from './dev_overlay';
import {Login} from './login';
import {ModalHost} from './modal_host';
import {PluginView, ProductView} from './plugin_view';
import {PostBox} from './post_box';
import {PostList} from './posts';
import {PreviewMarker} from './preview_marker';
import {ModuleProviders} from './providers';
import {GlobalComponents, ProductHeader, SearchBox, UserGuideMenu} from './pluggables';
import {ChannelSidebar, TeamSidebar} from './sidebars';
import {useSlot, useTheme} from './slot';
import {applyTheme} from '../theme';

function teamOf(route: Route): string {
    return 'team' in route ? route.team : '';
}

/** Follows the URL: loads the team and channel it names, or picks defaults. */
function useRouteData(route: Route) {
    const host = useHost();
    const meId = useAppSelector((s) => s.entities.users.currentUserId);
    const teams = useAppSelector((s) => s.entities.teams.teams);
    const members = useAppSelector((s) => s.entities.teams.myMembers);
    const hasTeams = Object.keys(members).length > 0;
    useEffect(() => {
        if (!meId || !hasTeams) {
            return;
        }
        const mine = Object.values(teams).filter((t) => members[t.id]).sort((a, b) => a.display_name.localeCompare(b.display_name));
        const team = teamOf(route);
        if (team && !mine.some((t) => t.name === team || t.id === team)) {
            return; // useNotFound shows it
        }
        if (route.kind === 'root') {
            if (mine[0]) {
                navigate(`/${mine[0].name}/channels/town-square`, true);
            }
            return;
        }
        if (route.kind === 'team') {
            navigate(`/${team}/channels/town-square`, true);
            return;
        }
        if (route.kind === 'channel') {
            host.openChannel(route.team, route.channel);
        } else if (route.kind === 'plugin') {
            host.switchTeam(route.team);
        } else if ((route.kind === 'custom' || route.kind === 'product') && mine[0]) {
            const current = host.store.getState().entities.teams.currentTeamId;
            host.switchTeam(current ? teams[current]?.name ?? mine[0].name : mine[0].name);
        }
    }, [meId, hasTeams, route.kind, teamOf(route), 'channel' in route ? route.channel : '']); // eslint-disable-line react-hooks/exhaustive-deps
}

/**
 * Marks the moment every plugin of the team's manifest settled and the
 * current channel's posts are on screen: performance.mark
 * 'mmtoolkit:slots-rendered', read by the browser tests and the benchmark.
 */
function useSlotsRenderedMark() {
    const settledAt = useAppSelector((s) => s.plugins.settledAt);
    const channelId = useAppSelector((s) => s.entities.channels.currentChannelId);
    const hasPosts = useAppSelector((s) => Boolean(s.entities.posts.postsInChannel[channelId]));
    const version = useSlot('root').length; // any slot: re-run after registrations land
    useLayoutEffect(() => {
        if (!settledAt || !hasPosts) {
            return;
        }
        // After this commit is painted.
        requestAnimationFrame(() => {
            const w = window as unknown as {mmtoolkitSlotsRendered?: number};
            if (w.mmtoolkitSlotsRendered === undefined) {
                w.mmtoolkitSlotsRendered = performance.now();
                performance.mark('mmtoolkit:slots-rendered');
            }
        });
    }, [settledAt, hasPosts, version]);
}

/** What the URL names that does not exist for this user. */
type Missing = {kind: 'team'; team: string} | {kind: 'channel'; team: string; channel: string};

/**
 * The team or channel the URL names, when the user has none by that name:
 * known only once the user's teams (and, for a channel, the team's channels)
 * are loaded, so a slow load is never mistaken for a missing channel.
 */
function useMissing(route: Route): Missing | null {
    const teams = useAppSelector((s) => s.entities.teams.teams);
    const members = useAppSelector((s) => s.entities.teams.myMembers);
    const channels = useAppSelector((s) => s.entities.channels.channels);
    const channelsInTeam = useAppSelector((s) => s.entities.channels.channelsInTeam);
    const name = teamOf(route);
    if (!name || Object.keys(members).length === 0) {
        return null;
    }
    const team = Object.values(teams).find((t) => members[t.id] && (t.name === name || t.id === name));
    if (!team) {
        return {kind: 'team', team: name};
    }
    if (route.kind !== 'channel' || !channelsInTeam[team.id]) {
        return null;
    }
    const found = Object.values(channels).some((c) => c.team_id === team.id && (c.name === route.channel || c.id === route.channel));
    return found ? null : {kind: 'channel', team: team.name, channel: route.channel};
}

/**
 * In place of the channel view (no header, posts or composer) when the URL
 * names a team or channel the user does not have, as Mattermost's "not
 * found" page: a link back to a place that exists.
 */
function NotFound({missing}: {missing: Missing}) {
    const teams = useAppSelector((s) => s.entities.teams.teams);
    const members = useAppSelector((s) => s.entities.teams.myMembers);
    const home = missing.kind === 'channel' ? missing.team :
        Object.values(teams).filter((t) => members[t.id]).sort((a, b) => a.display_name.localeCompare(b.display_name))[0]?.name;
    const back = home ? `/${home}/channels/town-square` : '/';
    return (
        <section className='not-found' role='alert' aria-labelledby='not-found-title'>
            <h2 id='not-found-title'>{missing.kind === 'team' ? 'Team not found' : 'Channel not found'}</h2>
            <p>
                {missing.kind === 'team' ?
                    `There is no team "${missing.team}", or you are not a member of it.` :
                    `There is no channel "${missing.channel}" in this team, or you are not a member of it.`}
            </p>
            <p>
                <a
                    href={back}
                    onClick={(e) => {
                        e.preventDefault();
                        navigate(back);
                    }}
                >{'Go to Town Square'}</a>
            </p>
        </section>
    );
}

function Center({route}: {route: Route}) {
    const missing = useMissing(route);
    if (missing) {
        return <NotFound missing={missing}/>;
    }
    if (route.kind === 'plugin') {
        return <PluginView pluginId={route.pluginId} rest={route.rest}/>;
    }
    if (route.kind === 'custom') {
        return <PluginView pluginId={route.pluginId} rest={route.rest} custom={true}/>;
    }
    if (route.kind === 'product') {
        return <ProductView base={route.base}/>;
    }
    return (
        <>
            <ChannelHeader/>
            <PostList/>
            <PostBox/>
        </>
    );
}

function Layout({route}: {route: Route}) {
    useRouteData(route);
    useSlotsRenderedMark();
    // registerProduct's showTeamSidebar and showAppBar while the product is
    // open: both default to false in Mattermost's registry.
    const product = useSlot('product').find((r) => route.kind === 'product' && r.route === route.base);
    const showTeamSidebar = !product || product.extra?.showTeamSidebar === true;
    const showAppBar = !product || product.extra?.showAppBar === true;
    return (
        <div className='app'>
            <header className='global-header'>
                <MainMenu/>
                {route.kind === 'product' && <ProductHeader base={route.base}/>}
                <SearchBox/>
                <UserGuideMenu/>
                <PreviewMarker/>
                <span className='brand'>{'mmtoolkit'}</span>
            </header>
            {showTeamSidebar && <TeamSidebar/>}
            <ChannelSidebar/>
            <main className='center'>
                <Center route={route}/>
            </main>
            <RightHandSidebar/>
            {showAppBar && <AppBar/>}
            <RootComponents/>
            <GlobalComponents/>
            <ModalHost/>
            <DevOverlay/>
        </div>
    );
}

export function App() {
    const pathname = usePathname();
    const products = useSlot('product').map((r) => r.route ?? '');
    const route = parseRoute(pathname, products);
    const theme = useTheme();
    useLayoutEffect(() => applyTheme(theme), [theme]);
    if (route.kind === 'login') {
        return <Login/>;
    }
    return (
        <ModuleProviders>
            <Layout route={route}/>
        </ModuleProviders>
    );
}
