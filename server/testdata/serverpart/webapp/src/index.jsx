// The webapp of the server-part fixture: what a Mattermost plugin with a
// server part ships as webapp/dist/main.js (React from the host's window
// global, as the starter template's webpack externals give it). Its
// button calls the plugin's own REST route, which the server part answers
// inside Mattermost.
import React from 'react';

function Button() {
    return <span className='serverpart-button'>Server part</span>;
}

class Plugin {
    initialize(registry) {
        registry.registerChannelHeaderButtonAction(<Button/>, () => fetch('/plugins/com.example.serverpart/api/v1/hello'), 'Server part');
    }
}

window.registerPlugin('com.example.serverpart', new Plugin());
