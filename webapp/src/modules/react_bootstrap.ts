// Lazy host module: window.ReactBootstrap for plugins that use it, with
// bootstrap 3's CSS (build.mjs writes it beside this file; the host loads
// both before a plugin needing them initializes).
import * as ReactBootstrap from 'react-bootstrap';

import './bootstrap.css';

(window as unknown as {ReactBootstrap: unknown}).ReactBootstrap = ReactBootstrap;
