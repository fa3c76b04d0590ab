// Where the end-to-end tests write the screenshots the READMEs show. A test
// run must leave the tree as it found it, so by default they go to
// webapp/test-artifacts/screenshots/ (ignored by git); `make screenshots`
// runs the same tests with MMTOOLKIT_SCREENSHOTS=docs/screenshots to refresh
// the committed images.
import path from 'node:path';

import {webappDir} from './harness.mjs';

export const screenshotsDir = process.env.MMTOOLKIT_SCREENSHOTS ?
    path.resolve(process.env.MMTOOLKIT_SCREENSHOTS) :
    path.join(webappDir, 'test-artifacts', 'screenshots');
