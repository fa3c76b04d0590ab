import {describe, expect, it} from 'vitest';

import {returnPath} from '../src/components/login';

const q = (raw: string) => '?redirect_to=' + raw;

describe('returnPath', () => {
    it('returns a same-origin path', () => {
        expect(returnPath('?redirect_to=%2Fadmin%2Fteams%2Fengineering%3Fx%3D1')).toBe('/admin/teams/engineering?x=1');
        expect(returnPath(q('%2Fdirectory%23top'))).toBe('/directory#top');
        expect(returnPath(q('%2Fa%2F..%2Fadmin'))).toBe('/admin');
        expect(returnPath(q('%2Fadmin%2F%252F%252Fkept-encoded'))).toBe('/admin/%2F%2Fkept-encoded');
    });

    // Each of these, given to location.assign, leaves the site in some
    // browser: tabs and newlines are dropped from URLs, a backslash is a
    // slash, and a path may resolve to "//host".
    const offSite: Array<[string, string]> = [
        ['absolute URL', 'https%3A%2F%2Fevil.example'],
        ['protocol-relative', '%2F%2Fevil.example'],
        ['slash backslash', '%2F%5Cevil.example'],
        ['backslash slash', '%5C%2Fevil.example'],
        ['two backslashes', '%5C%5Cevil.example'],
        ['slash, two backslashes', '%2F%5C%5Cevil.example'],
        ['a tab between the slashes (%09)', '%2F%09%2Fevil.example'],
        ['a raw tab between the slashes', '/\t/evil.example'],
        ['a newline between the slashes (%0a)', '%2F%0a%2Fevil.example'],
        ['a carriage return (%0d)', '%2F%0d%2Fevil.example'],
        ['a NUL', '%2F%00%2Fevil.example'],
        ['a space', '%2F%20%2Fevil.example'],
        ['a plus (a space in a query)', '%2F+%2Fevil.example'],
        ['a no-break space', '%2F%C2%A0%2Fevil.example'],
        ['a line separator', '%2F%E2%80%A8%2Fevil.example'],
        ['DEL', '%2F%7F%2Fevil.example'],
        ['a backslash later on', '%2Fadmin%5C..%5C%5Cevil.example'],
        ['a dot segment to //', '%2F.%2F%2Fevil.example'],
        ['a dot-dot segment to //', '%2Fa%2F..%2F%2Fevil.example'],
        ['javascript:', 'javascript:alert(1)'],
        ['javascript: after a slash-less path', 'javascript%3A%2F%2F%250aalert(1)'],
        ['data:', 'data:text/html,hi'],
        ['a relative path', 'admin'],
        ['a leading space', '%20%2Fadmin'],
        ['empty', ''],
    ];
    for (const [name, raw] of offSite) {
        it(`refuses ${name}`, () => {
            expect(returnPath(q(raw))).toBe('');
        });
    }
    it('refuses a missing parameter', () => {
        expect(returnPath('')).toBe('');
        expect(returnPath('?other=%2Fadmin')).toBe('');
    });
});
