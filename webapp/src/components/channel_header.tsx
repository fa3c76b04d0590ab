// The channel header: name (its menu holds registerChannelHeaderMenuAction
// items whose shouldRender(state) passes), purpose, ChannelHeaderIcon
// components, the call button and the channel header buttons. Both button
// kinds are actions: the host renders the plugin's label and calls
// action(channel, channelMember), as Mattermost does. Two or more call
// buttons collapse into one dropdown (Mattermost's CallButton); header
// buttons sit side by side up to 15 and collapse beyond
// (ChannelHeaderPlug's maxComponentsBeforeDropdown).
import type {Registration} from '../plugins/types';
import {useAppSelector} from '../store';

import {ActionMenu} from './pluggables';
import {PluginNotice, Slot, useCrashedPlugins, useSafeCall, useSlot} from './slot';

export function ChannelHeader() {
    const channelId = useAppSelector((s) => s.entities.channels.currentChannelId);
    const channel = useAppSelector((s) => s.entities.channels.channels[channelId]);
    const member = useAppSelector((s) => s.entities.channels.myMembers[channelId]);
    // shouldRender(state) reads any of the state: evaluated in a selector, so
    // the menu follows the store; a throwing one hides its item.
    const all = useSlot('ChannelHeader');
    const shown = useAppSelector((s) => all.filter((r) => {
        try {
            return !r.filter || Boolean(r.filter(s));
        } catch {
            return false;
        }
    }).map((r) => r.id).join(' '));
    const menuItems = all.filter((r) => shown.split(' ').includes(r.id));
    if (!channel) {
        return <header className='channel-header'/>;
    }
    return (
        <header className='channel-header'>
            <div className='channel-title'>
                <ActionMenu label={<h2>{channel.display_name}{' ▾'}</h2>} ariaLabel='Channel menu' className='channel-menu' items={menuItems} args={[channel.id]}/>
                {menuItems.length === 0 && <h2>{channel.display_name}</h2>}
                {channel.purpose && <span className='channel-purpose'>{channel.purpose}</span>}
            </div>
            <div className='channel-header-actions'>
                <Slot name='ChannelHeaderIcon' props={{channel, channelMember: member}}/>
                <Collapsing
                    name='call_button'
                    max={1}
                    menuLabel='Start call'
                    args={[channel, member]}
                    button={(r, onClick) => (
                        <span
                            role='button'
                            tabIndex={0}
                            className='call-button'
                            onClick={onClick}
                            onKeyDown={(e) => e.key === 'Enter' && onClick()}
                        >
                            {r.text ?? r.icon}
                        </span>
                    )}
                    item={(r) => <>{r.icon}{r.icon ? ' ' : ''}{(r.extra?.dropdownButton as never) ?? r.dropdownText ?? r.text}</>}
                />
                <Collapsing
                    name='channel_header_button'
                    max={maxHeaderButtonsBeforeDropdown}
                    menuLabel='Channel header plugins'
                    args={[channel, member]}
                    button={(r, onClick) => (
                        <button
                            type='button'
                            className='icon-button'
                            title={typeof r.tooltipText === 'string' ? r.tooltipText : undefined}
                            aria-label={typeof r.dropdownText === 'string' ? r.dropdownText : undefined}
                            onClick={onClick}
                        >
                            {r.icon}
                        </button>
                    )}
                    item={(r) => <>{r.icon}{' '}{r.dropdownText ?? r.tooltipText}</>}
                />
            </div>
        </header>
    );
}

/** Mattermost's maxComponentsBeforeDropdown (plugins/channel_header_plug). */
export const maxHeaderButtonsBeforeDropdown = 15;

interface CollapsingProps {
    name: 'call_button' | 'channel_header_button';
    /** At most this many show as buttons; more share one dropdown. */
    max: number;
    menuLabel: string;
    args: unknown[];
    button: (r: Registration, onClick: () => void) => JSX.Element;
    item: (r: Registration) => JSX.Element;
}

/** Up to max registrations: their buttons. More: one dropdown listing them. */
function Collapsing({name, max, menuLabel, args, button, item}: CollapsingProps) {
    const all = useSlot(name);
    const crashed = useCrashedPlugins(name, all);
    const call = useSafeCall();
    const regs = all.filter((r) => !crashed.includes(r.pluginId));
    if (regs.length <= max) {
        return <Slot name={name} render={(r) => button(r, () => call(r, r.action, ...args))}/>;
    }
    return (
        <span className={`collapsed-${name}`}>
            <ActionMenu
                label={<>{regs[0].icon ?? '⋯'}{` ${regs.length} ▾`}</>}
                ariaLabel={menuLabel}
                items={regs}
                args={args}
                itemLabel={item}
            />
            {crashed.map((id) => <PluginNotice key={id} pluginId={id}/>)}
        </span>
    );
}
