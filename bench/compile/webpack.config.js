// webpack 5 + babel-loader configured as Mattermost's plugin starter
// template does (externals for the host's globals, babel presets env/react/
// typescript, style-loader + css-loader, production mode with Terser, an
// external source map), pointed at the plugin that compare.sh generated.
// Caches are off: compare.sh times cold builds.
const path = require('path');

const pluginDir = process.env.MMTOOLKIT_PLUGIN_DIR;
const outDir = process.env.MMTOOLKIT_WEBPACK_OUT;
if (!pluginDir || !outDir) {
    throw new Error('set MMTOOLKIT_PLUGIN_DIR and MMTOOLKIT_WEBPACK_OUT (compare.sh does)');
}
const webapp = path.join(pluginDir, 'webapp');

// MMTOOLKIT_WEBPACK_ENTRY (relative to webapp/) builds another entry:
// reference.sh points it at the reference plugins' webapp/index.tsx.
const entry = process.env.MMTOOLKIT_WEBPACK_ENTRY || './src/index.tsx';

module.exports = {
    mode: 'production',
    context: webapp,
    entry: [entry],
    cache: false,
    devtool: 'source-map',
    resolve: {
        modules: [path.join(webapp, 'src'), path.join(pluginDir, 'node_modules'), 'node_modules'],
        extensions: ['*', '.js', '.jsx', '.ts', '.tsx'],
    },
    resolveLoader: {
        modules: [path.join(__dirname, 'node_modules')],
    },
    module: {
        rules: [
            {
                test: /\.(js|jsx|ts|tsx)$/,
                exclude: /node_modules/,
                use: {
                    loader: 'babel-loader',
                    options: {
                        cacheDirectory: false,
                        babelrc: false,
                        configFile: false,
                        presets: [
                            [require.resolve('@babel/preset-env'), {
                                targets: {chrome: 66, firefox: 60, edge: 42, safari: 12},
                                modules: false,
                                debug: false,
                                useBuiltIns: false,
                            }],
                            // The reference plugins use the automatic JSX runtime, as
                            // their tsconfig says; the generated plugin the classic one.
                            [require.resolve('@babel/preset-react'), process.env.MMTOOLKIT_WEBPACK_ENTRY ? {runtime: 'automatic'} : {useBuiltIns: true}],
                            [require.resolve('@babel/preset-typescript'), {allExtensions: true, isTSX: true}],
                        ],
                    },
                },
            },
            {
                test: /\.css$/,
                use: [require.resolve('style-loader'), require.resolve('css-loader')],
            },
        ],
    },
    externals: {
        react: 'React',
        'react-dom': 'ReactDOM',
        redux: 'Redux',
        'react-redux': 'ReactRedux',
        'prop-types': 'PropTypes',
        'react-bootstrap': 'ReactBootstrap',
        'react-router-dom': 'ReactRouterDom',
        'react-intl': 'ReactIntl',
        // What the host provides for the automatic runtime.
        'react/jsx-runtime': 'React',
    },
    output: {
        devtoolNamespace: 'com.example.bench',
        path: outDir,
        publicPath: '/',
        filename: 'main.js',
    },
    performance: {hints: false},
    stats: 'errors-warnings',
};
