import {UserTypes} from 'mattermost-redux/action_types';
import {describe, expect, it} from 'vitest';

import {currentLocale} from '../src/components/providers';
import {createHostStore} from '../src/store';

describe('the locale plugins translate to', () => {
    it('is the user\'s, as Mattermost reads it', () => {
        const store = createHostStore();
        expect(currentLocale(store.getState() as never)).toBe('en');
        store.dispatch({type: UserTypes.RECEIVED_ME, data: {id: 'u1', username: 'bob', locale: 'de'}});
        expect(currentLocale(store.getState() as never)).toBe('de');
        store.dispatch({type: UserTypes.RECEIVED_ME, data: {id: 'u1', username: 'bob', locale: ''}});
        expect(currentLocale(store.getState() as never)).toBe('en');
    });
});
