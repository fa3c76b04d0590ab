// Lazy host module: window.ReactIntl for plugins that use it.
import * as ReactIntl from 'react-intl';

(window as unknown as {ReactIntl: unknown}).ReactIntl = ReactIntl;
