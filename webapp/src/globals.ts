// The globals Mattermost's webapp puts on window for plugins
// (plugins/export.ts). Core libraries are set here, before any plugin
// bundle can run; react-intl, react-router-dom and react-bootstrap arrive
// from their own files when a plugin needs them (plugins/host_modules.ts).
import PropTypes from 'prop-types';
import React from 'react';
import * as ReactDOM from 'react-dom';
import * as ReactDOMClient from 'react-dom/client';
import * as ReactRedux from 'react-redux';
import * as Redux from 'redux';

import {InteractiveDialog, type Dialog} from './components/interactive_dialog';
import {modalStore, type ModalEntry} from './modals';
import {formatText, messageHtmlToComponent} from './post_utils';
import {browserHistory} from './router';

declare global {
    interface Window {
        React: typeof React;
        ReactDOM: typeof ReactDOM & typeof ReactDOMClient;
        Redux: typeof Redux;
        ReactRedux: typeof ReactRedux;
        PropTypes: typeof PropTypes;
        PostUtils: {formatText: typeof formatText; messageHtmlToComponent: typeof messageHtmlToComponent};
        WebappUtils: Record<string, unknown>;
        openInteractiveDialog: (dialog: Dialog) => void;
    }
}

export function installGlobals(win: Window = window) {
    win.React = React;
    // One object with both the legacy and the client API: plugins built for
    // React 17 call ReactDOM.render, newer ones ReactDOM.createRoot.
    win.ReactDOM = {...ReactDOM, ...ReactDOMClient} as Window['ReactDOM'];
    win.Redux = Redux;
    win.ReactRedux = ReactRedux;
    win.PropTypes = PropTypes;
    win.PostUtils = {formatText, messageHtmlToComponent};
    win.WebappUtils = {
        modals: {
            openModal: (m: ModalEntry) => modalStore.open(m),
            closeModal: (modalId: string) => modalStore.close(modalId),
            ModalIdentifiers: {},
        },
        browserHistory,
        notificationSounds: {ring: () => undefined, stopRing: () => undefined},
        sendDesktopNotificationToMe: () => undefined,
        openUserSettings: () => undefined,
    };
    win.openInteractiveDialog = (dialog: Dialog) => {
        modalStore.open({modalId: 'interactive_dialog', dialogType: InteractiveDialog, dialogProps: {dialog}});
    };
}
