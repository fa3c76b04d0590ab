// Context providers that come with the lazy host modules. A plugin using
// react-intl's FormattedMessage needs an IntlProvider above it, one using
// react-router-dom's Link or withRouter needs a Router: once such a plugin
// caused the module to load, the whole tree is wrapped, with the plugins'
// translations (registerTranslations) as messages.
import {createElement, useMemo, useSyncExternalStore, type ReactNode} from 'react';
import {useSelector} from 'react-redux';

import {useHost} from '../host';
import {pluginTranslations} from '../plugins/events';
import {browserHistory} from '../router';

import {useSlot} from './slot';

type AnyComponent = (props: any) => ReactNode;

type LocaleState = {entities: {users: {currentUserId: string; profiles: Record<string, {locale?: string} | undefined>}; general: {config: {DefaultClientLocale?: string}}}};

/**
 * The user's language, as Mattermost's getCurrentUserLocale: the profile's
 * locale, else the server's default client locale, else English. Plugins'
 * registerTranslations get it, and react-intl formats with it.
 */
export function currentLocale(state: LocaleState): string {
    const me = state.entities.users.profiles[state.entities.users.currentUserId];
    return me?.locale || state.entities.general.config.DefaultClientLocale || 'en';
}

export function ModuleProviders({children}: {children: ReactNode}) {
    const host = useHost();
    useSyncExternalStore(host.modules.subscribe, () => `${host.modules.present('react-intl')}|${host.modules.present('react-router-dom')}`);
    const translations = useSlot('translations');
    const locale = useSelector(currentLocale);
    const messages = useMemo(() => pluginTranslations(host.slots, host.report, locale), [translations, host, locale]); // eslint-disable-line react-hooks/exhaustive-deps
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
