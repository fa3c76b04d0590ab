// A plugin as Mattermost's webpack + babel template builds it: JSX in .js
// files, CommonJS next to ES modules, `global`, process.env.NODE_ENV, JSON
// imports, host modules through webpack externals.
import React from 'react';
import PropTypes from 'prop-types';
import {connect} from 'react-redux';

import manifest from '../../plugin.json';

const legacy = require('./legacy');

global.__mmtoolkitTest = {
    env: process.env.NODE_ENV,
    sameGlobal: global === globalThis,
};

function Badge({label}) {
    return <span className='badge'>{legacy.shout(label)}</span>;
}
Badge.propTypes = {label: PropTypes.string};

const Connected = connect(() => ({}))(Badge);

export default class Plugin {
    initialize(registry) {
        registry.registerChannelHeaderButtonAction(<Connected label='icon'/>, () => {}, manifest.name);
        registry.registerRootComponent(() => <Connected label={manifest.id + '@' + manifest.version}/>);
    }
}

window.registerPlugin(manifest.id, new Plugin());
