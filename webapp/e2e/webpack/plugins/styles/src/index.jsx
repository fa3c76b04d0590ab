// The page styles real plugins take for granted on Mattermost's page: a
// Font Awesome 4.7 icon (the demo plugin's header button), a compass-icons
// one (zoom's), and a react-bootstrap 0.33 Modal with Button, as github's
// and jira's "create issue" dialogs. Built by real webpack
// (e2e/webpack/build.mjs): React and ReactBootstrap are bare externals.
import React from 'react';
import {Button, Modal} from 'react-bootstrap';

const manifest = {id: 'e2e.styles'};

// The main menu's action opens the modal the root component renders.
const listeners = new Set();
const setOpen = (v) => listeners.forEach((l) => l(v));

function StylesModal() {
    const [show, setShow] = React.useState(false);
    React.useEffect(() => {
        listeners.add(setShow);
        return () => listeners.delete(setShow);
    }, []);
    return (
        <Modal show={show} onHide={() => setShow(false)} dialogClassName='styles-modal'>
            <Modal.Header closeButton={true}>
                <Modal.Title>{'Create issue'}</Modal.Title>
            </Modal.Header>
            <Modal.Body>{'A react-bootstrap Modal, as github and jira open one.'}</Modal.Body>
            <Modal.Footer>
                <Button className='styles-close' onClick={() => setShow(false)}>{'Cancel'}</Button>
                <Button bsStyle='primary'>{'Create'}</Button>
            </Modal.Footer>
        </Modal>
    );
}

class Plugin {
    initialize(registry) {
        registry.registerChannelHeaderButtonAction(<i className='fa fa-plug styles-fa'/>, () => undefined, 'Demo', 'Demo plugin');
        registry.registerChannelHeaderButtonAction(<i className='icon icon-brand-zoom styles-compass'/>, () => undefined, 'Zoom', 'Start Zoom call');
        registry.registerRootComponent(StylesModal);
        registry.registerMainMenuAction('Create issue', () => setOpen(true));
    }
}

window.registerPlugin(manifest.id, new Plugin());
