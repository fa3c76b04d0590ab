// A Mattermost plugin as the starter template builds it: React, ReactRedux
// and ReactIntl come from the host's window globals (webpack externals),
// mattermost-redux's selectors are bundled in, PostUtils formats text.
// e2e/webpack/build.mjs builds it with real webpack (5, or 4).
import React from 'react';
import {useSelector} from 'react-redux';
import {FormattedMessage} from 'react-intl';
import {getCurrentUser} from 'mattermost-redux/selectors/entities/users';
import {getCurrentTeamId, getCurrentTeam} from 'mattermost-redux/selectors/entities/teams';
import {getCurrentChannelId} from 'mattermost-redux/selectors/entities/channels';
import {getConfig} from 'mattermost-redux/selectors/entities/general';

const manifest = {id: 'e2e.webpack'};

function Badge() {
    const user = useSelector(getCurrentUser);
    const team = useSelector(getCurrentTeam);
    const teamId = useSelector(getCurrentTeamId);
    const channelId = useSelector(getCurrentChannelId);
    const siteURL = useSelector((s) => getConfig(s).SiteURL);
    return (
        <span className='webpack-badge' data-team-id={teamId} data-channel-id={channelId} data-site-url={siteURL}>
            <FormattedMessage id='e2e.webpack.badge' defaultMessage='Webpack: {user} in {team}' values={{user: '@' + user?.username, team: team?.display_name}}/>
        </span>
    );
}

function Note({post}) {
    const {formatText, messageHtmlToComponent} = window.PostUtils;
    return <div className='webpack-note'>{messageHtmlToComponent(formatText(post.message))}</div>;
}

class Plugin {
    initialize(registry) {
        registry.registerChannelHeaderButtonAction(<Badge/>, () => undefined, 'Webpack', 'Webpack');
        registry.registerPostTypeComponent('custom_webpack_note', Note);
        registry.registerTranslations((locale) => (locale === 'en' ? {'e2e.webpack.badge': 'Webpack sees {user} in {team}'} : {}));
    }
}

window.registerPlugin(manifest.id, new Plugin());
