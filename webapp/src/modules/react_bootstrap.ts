// Lazy host module: window.ReactBootstrap for plugins that use it.
import * as ReactBootstrap from 'react-bootstrap';

(window as unknown as {ReactBootstrap: unknown}).ReactBootstrap = ReactBootstrap;
