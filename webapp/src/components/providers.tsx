// Context providers that come with the lazy host modules. A plugin using
// react-intl's FormattedMessage needs an IntlProvider above it, one using
// react-router-dom's Link or withRouter needs a Router: once such a plugin
// caused the module to load, the whole tree is wrapped, with the plugins'
// translations (registerTranslations) as messages.
import {createElement, useMemo, useSyncExternalStore, type ReactNode} from 'react';

import {useHost} from '../host';
import {pluginTranslations} from '../plugins/events';
import {browserHistory} from '../router';

import {useSlot} from './slot';

type AnyComponent = (props: any) => ReactNode;

export function ModuleProviders({children}: {children: ReactNode}) {
    const host = useHost();
    useSyncExternalStore(host.modules.subscribe, () => `${host.modules.present('react-intl')}|${host.modules.present('react-router-dom')}`);
    const translations = useSlot('translations');
    const locale = 'en';
    const messages = useMemo(() => pluginTranslations(host.slots, host.report, locale), [translations, host]); // eslint-disable-line react-hooks/exhaustive-deps
    let tree = children;
    const w = window as unknown as {ReactIntl?: {IntlProvider: AnyComponent}; ReactRouterDom?: {Router: AnyComponent}};
    if (w.ReactRouterDom) {
        tree = createElement(w.ReactRouterDom.Router, {history: browserHistory}, tree);
    }
    if (w.ReactIntl) {
        // Missing ids fall back to defaultMessage quietly, as plugins expect.
        tree = createElement(w.ReactIntl.IntlProvider, {locale, messages, onError: () => undefined}, tree);
    }
    return <>{tree}</>;
}
