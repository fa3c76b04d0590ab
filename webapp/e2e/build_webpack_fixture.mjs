// Builds the webpack-style fixture the way a Mattermost plugin's webpack
// config does: host modules are externals read from window globals
// (module.exports = window.React, ...), everything else (mattermost-redux)
// is bundled into one IIFE that calls window.registerPlugin.
import {cpSync, mkdirSync, mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

import * as esbuild from 'esbuild';

const externals = {
    react: 'React', 'react-dom': 'ReactDOM', redux: 'Redux', 'react-redux': 'ReactRedux',
    'prop-types': 'PropTypes', 'react-intl': 'ReactIntl', 'react-router-dom': 'ReactRouterDom', 'react-bootstrap': 'ReactBootstrap',
};

const externalsPlugin = {
    name: 'webpack-externals',
    setup(build) {
        const filter = new RegExp(`^(${Object.keys(externals).join('|')})$`);
        build.onResolve({filter}, (a) => ({path: a.path, namespace: 'external'}));
        build.onLoad({filter: /.*/, namespace: 'external'}, (a) => ({contents: `module.exports = window.${externals[a.path]};`, loader: 'js'}));
    },
};

/** Returns a plugin directory (plugin.json + webapp/dist/main.js) ready to push. */
export async function buildWebpackFixture() {
    const src = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'webpack');
    const dir = mkdtempSync(path.join(tmpdir(), 'mmtoolkit-webpack-fixture-'));
    cpSync(path.join(src, 'plugin.json'), path.join(dir, 'plugin.json'));
    mkdirSync(path.join(dir, 'webapp', 'dist'), {recursive: true});
    await esbuild.build({
        entryPoints: [path.join(src, 'webapp', 'index.jsx')],
        bundle: true,
        format: 'iife',
        minify: true,
        jsx: 'transform', // React.createElement, as webpack + babel emit for these plugins
        define: {'process.env.NODE_ENV': '"production"'},
        outfile: path.join(dir, 'webapp', 'dist', 'main.js'),
        plugins: [externalsPlugin],
        logLevel: 'error',
    });
    return dir;
}
