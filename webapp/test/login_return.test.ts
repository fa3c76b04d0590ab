import {describe, expect, it} from 'vitest';

import {returnPath} from '../src/components/login';

describe('returnPath', () => {
    it('returns a same-origin path', () => {
        expect(returnPath('?redirect_to=%2Fadmin%2Fteams%2Fengineering%3Fx%3D1')).toBe('/admin/teams/engineering?x=1');
    });
    it('refuses other origins and protocol-relative URLs', () => {
        for (const s of ['?redirect_to=https%3A%2F%2Fevil.example', '?redirect_to=%2F%2Fevil.example', '?redirect_to=%2F%5Cevil.example', '?redirect_to=javascript:alert(1)', '']) {
            expect(returnPath(s)).toBe('');
        }
    });
});
