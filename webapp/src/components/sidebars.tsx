// The team sidebar (far left) and the channel list, with their
// pluggables: BottomTeamSidebar, LeftSidebarHeader, the browse-or-add
// channel menu (and channel type options), channel icon overrides and
// SidebarChannelLinkLabel.
import type {Channel} from '@mattermost/types/channels';
import type {Team} from '@mattermost/types/teams';
import {useState} from 'react';

import {useHost} from '../host';
import type {Registration} from '../plugins/types';
import {navigate} from '../router';
import {useAppSelector} from '../store';

import {ActionMenu, useDismiss, useVisible} from './pluggables';
import {Boundary, Slot, useSafeCall, useSlot} from './slot';

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
            <div className='bottom-team-sidebar'><Slot name='BottomTeamSidebar'/></div>
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
    const addItems = useSlot('SidebarBrowseOrAddChannelMenu');
    const typeOptions = useVisible('ChannelTypeOption', (r) => !r.filter || Boolean(r.filter()));
    const [creating, setCreating] = useState<Registration | null>(null);
    return (
        <nav className='channel-sidebar' aria-label='Channels'>
            <div className='left-sidebar-header'><Slot name='LeftSidebarHeader'/></div>
            <div className='sidebar-heading-row'>
                <h2 className='sidebar-heading'>{'Channels'}</h2>
                <ActionMenu
                    label='+'
                    ariaLabel='Browse or create channels'
                    className='browse-or-add'
                    items={addItems}
                    before={typeOptions.map((r) => (
                        <li key={r.id} role='none'>
                            <Boundary registration={r}>
                                <button type='button' role='menuitem' onClick={() => setCreating(r)}>{r.icon}{r.icon ? ' ' : ''}{'New '}{r.text}</button>
                            </Boundary>
                        </li>
                    ))}
                />
            </div>
            {creating && <ChannelTypeDialog reg={creating} teamId={teamId} close={() => setCreating(null)}/>}
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
                            <ChannelIcon channel={c}/>{c.display_name}
                            <Slot name='SidebarChannelLinkLabel' props={{channel: c}}/>
                        </a>
                    </li>
                ))}
            </ul>
        </nav>
    );
}

/** The channel's icon: '#', or the icon name of the first registerChannelIconOverride whose matcher takes it. */
function ChannelIcon({channel}: {channel: Channel}) {
    const over = useVisible('ChannelIconOverride', (r) => Boolean(r.filter?.(channel)))[0];
    if (over) {
        return <span className={`channel-icon icon icon-${over.key}`} data-icon-name={over.key} data-plugin-id={over.pluginId}>{'◆'}</span>;
    }
    return <span className='channel-icon'>{'#'}</span>;
}

/**
 * registerChannelTypeOption: the new-channel dialog of that type, with its
 * description and extra content; the create button calls
 * onCreate({displayName, teamId}).
 */
function ChannelTypeDialog({reg, teamId, close}: {reg: Registration; teamId: string; close: () => void}) {
    const host = useHost();
    const call = useSafeCall();
    const [name, setName] = useState('');
    const ref = useDismiss(true, close);
    const Extra = reg.extra?.extraContent as ((p: any) => JSX.Element) | undefined;
    return (
        <div className='host-modal-backdrop'>
            <div className='host-modal' role='dialog' aria-label={`New ${typeof reg.text === 'string' ? reg.text : 'channel'}`} ref={ref}>
                <Boundary registration={reg}>
                    <h3>{'New '}{reg.text}</h3>
                    <p className='hint'>{reg.extra?.description as string}</p>
                    <label className='field'>{'Name'}<input value={name} onChange={(e) => setName(e.target.value)}/></label>
                    {Extra && <Extra teamId={teamId} theme={undefined}/>}
                    <button
                        type='button'
                        className='primary'
                        disabled={!name.trim()}
                        onClick={() => {
                            call(reg, reg.action, {displayName: name.trim(), teamId, store: host.store});
                            close();
                        }}
                    >
                        {(reg.extra?.createButtonText as string) || 'Create'}
                    </button>
                </Boundary>
            </div>
        </div>
    );
}
