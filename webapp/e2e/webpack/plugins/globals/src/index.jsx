// A Mattermost plugin that touches EVERY window global Mattermost's webapp
// gives plugins (plugins/export.ts and index.ts), built by real webpack 5
// and 4 (e2e/webpack/build.mjs): the libraries are imports the starter
// template's externals turn into BARE global names (React, ReactBootstrap,
// Luxon, ...); the rest is read both as window.X and as a bare identifier.
// What it saw at load time, before registerPlugin, is in
// window.globalsFixture.loaded; the channel header button renders a probe
// that uses each one (e2e/globals.test.mjs checks it).
import React, {useContext, useEffect, useState} from 'react';
import ReactDOM from 'react-dom';
import PropTypes from 'prop-types';
import {combineReducers} from 'redux';
import {useDispatch, useStore} from 'react-redux';
import {FormattedMessage} from 'react-intl';
import {Link} from 'react-router-dom';
import {Badge} from 'react-bootstrap';
import {DateTime} from 'luxon';

// The test pushes the webpack 5 and 4 builds under two ids: take the one
// the host's script tag names (data-plugin-id), as a real plugin hard-codes its own.
const manifest = {id: (document.currentScript && document.currentScript.dataset.pluginId) || 'e2e.globals'};

// Bare identifiers, exactly as a bundle that reads them without window.
const bare = {
    PostUtils: typeof PostUtils,
    WebappUtils: typeof WebappUtils,
    openInteractiveDialog: typeof openInteractiveDialog,
    useNotifyAdmin: typeof useNotifyAdmin,
    loadSharedDependency: typeof loadSharedDependency,
    openPricingModal: typeof openPricingModal,
    Components: typeof Components,
    ProductApi: typeof ProductApi,
    DesktopApp: typeof DesktopApp,
    regeneratorRuntime: typeof regeneratorRuntime,
    basename: typeof basename,
    plugins: typeof plugins,
};
const viaWindow = {};
for (const g of Object.keys(bare)) {
    viaWindow[g] = typeof window[g];
}
const libraries = {
    React: typeof React.createElement,
    ReactDOM: typeof ReactDOM.createPortal,
    PropTypes: typeof PropTypes.string,
    Redux: typeof combineReducers,
    ReactRedux: typeof useDispatch,
    ReactIntl: typeof FormattedMessage,
    ReactRouterDom: typeof Link,
    ReactBootstrap: typeof Badge,
    Luxon: typeof DateTime.fromISO,
};

// The other ways a bundle names the global object: webpack rewrites
// `global` to its polyfill (webpack 4: a module returning `this`; webpack 5:
// __webpack_require__.g), so these reach the globals through an alias.
const viaGlobalObject = {
    global: typeof global.ReactBootstrap,
    globalThis: typeof globalThis.ReactIntl,
    self: typeof self.Luxon,
};

// A class static evaluated at load, as Calls' ExpandedView does.
class UsesContext extends React.Component {
    static contextType = window.ProductApi.WebSocketProvider;
    render() {
        return <span className='globals-context' data-has-client={String(Boolean(this.context && typeof this.context.addMessageListener === 'function'))}/>;
    }
}

function Modal({text, onExited}) {
    return (
        <div className='globals-modal'>
            {text}
            <button className='globals-modal-close' onClick={onExited}>{'close'}</button>
        </div>
    );
}
Modal.propTypes = {text: PropTypes.string, onExited: PropTypes.func};

const dialog = {
    url: '/plugins/e2e.globals/dialog',
    dialog: {
        callback_id: 'cb',
        title: 'Globals dialog',
        elements: [
            {display_name: 'Name', name: 'name', type: 'text', default: 'Ada'},
            {display_name: 'Age', name: 'age', type: 'text', subtype: 'number'},
            {display_name: 'Notes', name: 'notes', type: 'textarea', optional: true},
            {display_name: 'Colour', name: 'colour', type: 'select', options: [{text: 'Red', value: 'red'}, {text: 'Blue', value: 'blue'}]},
            {display_name: 'Agree', name: 'agree', type: 'bool'},
            {display_name: 'Size', name: 'size', type: 'radio', options: [{text: 'S', value: 's'}, {text: 'L', value: 'l'}]},
        ],
    },
};

function Probe() {
    const dispatch = useDispatch();
    const store = useStore();
    const client = useContext(ProductApi.WebSocketProvider);
    const hookClient = window.ProductApi.useWebSocketClient();
    const [shared, setShared] = useState('');
    ProductApi.useWebSocket({handler: probeHandler});
    const [notifyText] = window.useNotifyAdmin({ctaText: 'notify'}, {trial_notification: false, required_feature: 'x', required_plan: 'y'});
    useEffect(() => {
        loadSharedDependency('@mattermost/shared/components/tooltip').then((m) => setShared(typeof m.WithTooltip), (e) => setShared(String(e)));
    }, []);
    const {Timestamp, BotBadge, Avatar} = window.Components;
    const formatted = window.PostUtils.messageHtmlToComponent(PostUtils.formatText('**strong** text'), false, {});
    return (
        <span className='globals-probe' data-ws={String(Boolean(client) && client === hookClient)} data-shared={shared}
            data-rhs-open={String(ProductApi.getIsRhsOpen(store.getState()))}>
            <Badge className='globals-rb'>{'RB'}</Badge>
            <span className='globals-luxon'>{DateTime.fromISO('2024-05-06T07:08:09Z').toUTC().toFormat('yyyy LLL dd')}</span>
            <span className='globals-ts'><Timestamp value={Date.UTC(2024, 0, 2, 12)} useTime={false}/></span>
            <span className='globals-intl'><FormattedMessage id='e2e.globals.intl' defaultMessage='intl works'/></span>
            <Link className='globals-link' to='/engineering/channels/town-square'>{'link'}</Link>
            <span className='globals-formatted'>{formatted}</span>
            <BotBadge/>
            <Avatar size='xs' url={Components.imageURLForUser('nobody')} username='nobody'/>
            <span className='globals-notify'>{notifyText}</span>
            <UsesContext/>
            <button className='globals-open-modal' onClick={() => dispatch(WebappUtils.modals.openModal({modalId: 'globals_modal', dialogType: Modal, dialogProps: {text: 'hello modal'}}))}>{'modal'}</button>
            <button className='globals-open-dialog' onClick={() => window.openInteractiveDialog(dialog)}>{'dialog'}</button>
            <button className='globals-select-post' onClick={() => dispatch(ProductApi.selectRhsPost('p1'))}>{'select'}</button>
            <button className='globals-close-rhs' onClick={() => dispatch(window.ProductApi.closeRhs())}>{'close'}</button>
        </span>
    );
}

function probeHandler(msg) {
    window.globalsFixture.events.push(msg.event);
}

window.globalsFixture = {loaded: {bare, viaWindow, libraries, viaGlobalObject, regeneratorMark: typeof regeneratorRuntime.mark}, events: []};

class Plugin {
    initialize(registry) {
        registry.registerChannelHeaderButtonAction(<Probe/>, () => undefined, 'Globals', 'Globals');
    }
}

window.registerPlugin(manifest.id, new Plugin());
