// The channel header: name, purpose, the call button and channel header
// button slots. Both slots are actions: the host renders the plugin's icon
// and calls action(channel, channelMember) on click, as Mattermost does.
import {useAppSelector} from '../store';

import {Slot, useSafeCall} from './slot';

export function ChannelHeader() {
    const channelId = useAppSelector((s) => s.entities.channels.currentChannelId);
    const channel = useAppSelector((s) => s.entities.channels.channels[channelId]);
    const member = useAppSelector((s) => s.entities.channels.myMembers[channelId]);
    const call = useSafeCall();
    if (!channel) {
        return <header className='channel-header'/>;
    }
    return (
        <header className='channel-header'>
            <div className='channel-title'>
                <h2>{channel.display_name}</h2>
                {channel.purpose && <span className='channel-purpose'>{channel.purpose}</span>}
            </div>
            <div className='channel-header-actions'>
                <Slot
                    name='call_button'
                    render={(r) => (
                        <span
                            role='button'
                            tabIndex={0}
                            className='call-button'
                            onClick={() => call(r, r.action, channel, member)}
                            onKeyDown={(e) => e.key === 'Enter' && call(r, r.action, channel, member)}
                        >
                            {r.text ?? r.icon}
                        </span>
                    )}
                />
                <Slot
                    name='channel_header_button'
                    render={(r) => (
                        <button
                            type='button'
                            className='icon-button'
                            title={typeof r.tooltipText === 'string' ? r.tooltipText : undefined}
                            aria-label={typeof r.dropdownText === 'string' ? r.dropdownText : undefined}
                            onClick={() => call(r, r.action, channel, member)}
                        >
                            {r.icon}
                        </button>
                    )}
                />
            </div>
        </header>
    );
}
