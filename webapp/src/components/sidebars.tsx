// The team sidebar (far left) and the channel list.
import type {Team} from '@mattermost/types/teams';

import {navigate} from '../router';
import {useAppSelector} from '../store';

export function TeamSidebar() {
    const teams = useAppSelector((s) => s.entities.teams.teams);
    const members = useAppSelector((s) => s.entities.teams.myMembers);
    const current = useAppSelector((s) => s.entities.teams.currentTeamId);
    const mine = Object.values(teams).filter((t: Team) => members[t.id]).sort((a, b) => a.display_name.localeCompare(b.display_name));
    return (
        <nav className='team-sidebar' aria-label='Teams'>
            {mine.map((t) => (
                <button
                    key={t.id}
                    type='button'
                    className={'team-button' + (t.id === current ? ' active' : '')}
                    title={t.display_name}
                    aria-label={t.display_name}
                    aria-current={t.id === current}
                    onClick={() => navigate(`/${t.name}/channels/town-square`)}
                >
                    {t.display_name.slice(0, 2)}
                </button>
            ))}
        </nav>
    );
}

export function ChannelSidebar() {
    const teamId = useAppSelector((s) => s.entities.teams.currentTeamId);
    const team = useAppSelector((s) => s.entities.teams.teams[teamId]);
    const channels = useAppSelector((s) => s.entities.channels.channels);
    const current = useAppSelector((s) => s.entities.channels.currentChannelId);
    const list = Object.values(channels).filter((c) => c.team_id === teamId && !c.delete_at).
        sort((a, b) => a.display_name.localeCompare(b.display_name));
    return (
        <nav className='channel-sidebar' aria-label='Channels'>
            <h2 className='sidebar-heading'>{'Channels'}</h2>
            <ul>
                {list.map((c) => (
                    <li key={c.id}>
                        <a
                            href={`/${team?.name}/channels/${c.name}`}
                            className={'channel-link' + (c.id === current ? ' active' : '')}
                            aria-current={c.id === current ? 'page' : undefined}
                            onClick={(e) => {
                                e.preventDefault();
                                navigate(`/${team?.name}/channels/${c.name}`);
                            }}
                        >
                            <span className='channel-icon'>{'#'}</span>{c.display_name}
                        </a>
                    </li>
                ))}
            </ul>
        </nav>
    );
}
