// Runs one real webpack build of a fixture plugin; build.mjs starts it as a
// child process (webpack 4 needs OpenSSL's legacy provider for its md4
// hashes, a flag only a process's start can set). Arguments: one JSON
// object {webpack: 4|5, srcDir, outDir}. Prints webpack's errors and exits 1
// when the build fails.
//
// The configuration is ours, modelled on the Mattermost plugin starter
// template's webapp/webpack.config.js (mattermost/mattermost-plugin-starter-template):
// entry src/index.jsx, resolve.modules ['src', 'node_modules'], babel-loader,
// the host libraries as externals by BARE global name and no
// output.library, so the bundle reads `React`, `ReactBootstrap`, `Luxon`
// as free identifiers exactly as real plugins do; production mode
// (minified by terser).
'use strict';

const path = require('node:path');

const webappDir = path.resolve(__dirname, '..', '..');
const nm = path.join(webappDir, 'node_modules');

// The externals of the starter template plus those Mattermost's own
// webpack-web-app-externals.cjs adds (react-dom, react-intl, luxon).
const externals = {
    react: 'React',
    'react-dom': 'ReactDOM',
    redux: 'Redux',
    'react-redux': 'ReactRedux',
    'prop-types': 'PropTypes',
    'react-bootstrap': 'ReactBootstrap',
    'react-router-dom': 'ReactRouterDom',
    'react-intl': 'ReactIntl',
    luxon: 'Luxon',
};

// Mattermost's webpack-web-app-externals.cjs also sends every
// @mattermost/shared/* import to the host: `promise
// globalThis.loadSharedDependency(request)` (a webpack 5 external type;
// webpack 4 has none, so such imports do not build with it).
function sharedExternals({request}, callback) {
    if ((/^@mattermost\/shared\//).test(request)) {
        return callback(null, `promise globalThis.loadSharedDependency('${request}')`);
    }
    return callback();
}

function config({webpack: version, srcDir, outDir}) {
    return {
        context: srcDir,
        entry: ['./src/index.jsx'],
        resolve: {
            // The template aliases mattermost-redux to its sources; ours is
            // the published package, whose files are under lib/ (webpack 4
            // does not read package.json "exports").
            alias: {
                'mattermost-redux': path.join(nm, 'mattermost-redux', 'lib'),
                '@mattermost/types': path.join(nm, '@mattermost', 'types', 'lib'),
            },
            modules: ['src', 'node_modules', nm],
            extensions: ['.js', '.jsx', '.ts', '.tsx'],
        },
        resolveLoader: {modules: [nm]},
        module: {
            rules: [{
                test: /\.(js|jsx|ts|tsx)$/,
                // mattermost-redux ships syntax (?., ??) webpack 4's parser
                // rejects; webpack 5 takes it as it is.
                exclude: version === 4 ? /node_modules[\\/](?!mattermost-redux)/ : /node_modules/,
                use: {
                    loader: require.resolve('babel-loader'),
                    options: {
                        babelrc: false,
                        configFile: false,
                        presets: [
                            [require.resolve('@babel/preset-env'), {targets: {chrome: 66, firefox: 60, edge: 42, safari: 12}, modules: false}],
                            [require.resolve('@babel/preset-react'), {runtime: 'classic'}],
                        ],
                    },
                },
            }],
        },
        externals: version === 4 ? externals : [externals, sharedExternals],
        output: {path: outDir, publicPath: '/', filename: 'main.js'},
        mode: 'production',
        devtool: false,
        performance: {hints: false},
    };
}

function main() {
    const args = JSON.parse(process.argv[2]);
    const webpack = require(args.webpack === 4 ? 'webpack4' : 'webpack');
    webpack(config(args), (err, stats) => {
        if (err) {
            console.error(err.stack || String(err));
            process.exit(1);
        }
        if (stats.hasErrors()) {
            console.error(stats.toString({all: false, errors: true}));
            process.exit(1);
        }
        process.exit(0);
    });
}

main();
