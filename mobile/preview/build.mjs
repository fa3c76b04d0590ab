// Builds dist/preview.js: the preview page's app, with react-native
// aliased to react-native-web. The Go binary embeds dist/ (mobile/preview.go).
import * as esbuild from 'esbuild';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
await esbuild.build({
  entryPoints: [path.join(here, 'index.tsx')],
  outfile: path.join(here, 'dist', 'preview.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  jsx: 'automatic',
  alias: {'react-native': 'react-native-web'},
  define: {'process.env.NODE_ENV': '"production"', __DEV__: 'false', global: 'globalThis'},
  resolveExtensions: ['.web.tsx', '.web.ts', '.web.js', '.tsx', '.ts', '.js'],
  legalComments: 'none',
  logLevel: 'warning',
});
