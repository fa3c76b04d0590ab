// react-bootstrap 0.33 (Mattermost's line) ships no types; the host only
// re-exports it for plugins.
declare module 'react-bootstrap';
