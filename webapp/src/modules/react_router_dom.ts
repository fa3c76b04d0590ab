// Lazy host module: window.ReactRouterDom (v5, Mattermost's) for plugins that use it.
import * as ReactRouterDom from 'react-router-dom';

(window as unknown as {ReactRouterDom: unknown}).ReactRouterDom = ReactRouterDom;
