// The "webpack" fixture of plugins.test.mjs and boot.test.mjs: a Mattermost
// plugin as the starter template builds it (e2e/webpack/plugins/starter),
// built by REAL webpack (e2e/webpack/build.mjs): the host libraries are
// externals read as bare globals (React, ReactRedux, ReactIntl), and
// mattermost-redux's selectors are bundled in.
import {fixtureSrc, pluginDir} from './webpack/build.mjs';

/** Returns a plugin directory (plugin.json + webapp/dist/main.js) ready to push. */
export function buildWebpackFixture({webpack = 5} = {}) {
    return pluginDir(fixtureSrc('starter'), {webpack});
}
