// Messages through react-intl, as Mattermost plugins use it: the host wraps
// the tree in an IntlProvider with the messages of registerTranslations;
// English (shared/i18n/en.json) is every message's default.
import {useCallback} from 'react';
import {useIntl} from 'react-intl';

import {en, type MessageId} from '../shared/i18n';

export type Translate = (id: MessageId, values?: Record<string, string | number>) => string;

export function useT(): Translate {
    const intl = useIntl();
    return useCallback((id, values) => intl.formatMessage({id, defaultMessage: en[id]}, values), [intl]);
}

export function useDate(): (ms: number) => string {
    const intl = useIntl();
    return useCallback((ms) => intl.formatDate(ms, {year: 'numeric', month: 'long', day: 'numeric'}), [intl]);
}
