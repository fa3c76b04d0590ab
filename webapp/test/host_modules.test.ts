import {afterEach, describe, expect, it} from 'vitest';

import {HostModules} from '../src/plugins/host_modules';

const w = window as unknown as Record<string, unknown>;

describe('HostModules', () => {
    afterEach(() => {
        document.head.innerHTML = '';
        delete w.ReactIntl;
    });

    it('loads a lazy module once, with the nonce, and skips core and present ones', async () => {
        const m = new HostModules({'react-intl': '/static/react-intl.X.js'}, document, 'n0nce');
        const a = m.ensure(['react', 'react-intl']);
        const b = m.ensure(['react-intl']);
        const scripts = document.head.querySelectorAll('script');
        expect(scripts).toHaveLength(1);
        expect(scripts[0].getAttribute('src')).toBe('/static/react-intl.X.js');
        expect(scripts[0].nonce).toBe('n0nce');
        w.ReactIntl = {};
        scripts[0].dispatchEvent(new Event('load'));
        await Promise.all([a, b]);
        await m.ensure(['react-intl']);
        expect(document.head.querySelectorAll('script')).toHaveLength(1);
    });

    it("waits for the shell's deferred element instead of adding another", async () => {
        document.head.innerHTML = '<script src="/static/react-intl.X.js" defer data-host-module="react-intl"></script>';
        const shell = document.head.querySelector('script')!;
        const m = new HostModules({'react-intl': '/static/react-intl.X.js'}, document);
        let done = false;
        const p = m.ensure(['react-intl']).then(() => {
            done = true;
        });
        await Promise.resolve();
        expect(done).toBe(false);
        expect(document.head.querySelectorAll('script')).toHaveLength(1);
        w.ReactIntl = {};
        shell.dispatchEvent(new Event('load'));
        await p;
        expect(done).toBe(true);
    });

    it("a failed shell element is dropped, and a later plugin's request loads it anew", async () => {
        document.head.innerHTML = '<script src="/static/react-intl.X.js" defer data-host-module="react-intl"></script>';
        const m = new HostModules({'react-intl': '/static/react-intl.X.js'}, document);
        const p = m.ensure(['react-intl']);
        document.head.querySelector('script')!.dispatchEvent(new Event('error'));
        await expect(p).rejects.toThrow('host module react-intl failed to load from /static/react-intl.X.js');
        expect(document.head.querySelectorAll('script')).toHaveLength(0);
        m.ensure(['react-intl']).catch(() => undefined);
        expect(document.head.querySelectorAll('script[data-host-module="react-intl"]')).toHaveLength(1);
    });

    it('loads a module with its stylesheet, and a style-only module, and resolves only when both apply', async () => {
        const m = new HostModules({'react-intl': '/static/react-intl.X.js'}, document, '', {'react-intl': '/static/react-intl.S.css', icons: '/static/icons.I.css'});
        let done = false;
        const p = m.ensure(['react-intl', 'icons']).then(() => {
            done = true;
        });
        m.ensure(['icons']).catch(() => undefined);
        const links = document.head.querySelectorAll<HTMLLinkElement>('link[rel="stylesheet"]');
        expect([...links].map((l) => [l.dataset.hostStyle, l.getAttribute('href')])).toEqual([
            ['react-intl', '/static/react-intl.S.css'],
            ['icons', '/static/icons.I.css'],
        ]);
        w.ReactIntl = {};
        document.head.querySelector('script')!.dispatchEvent(new Event('load'));
        links[0].dispatchEvent(new Event('load'));
        await Promise.resolve();
        await Promise.resolve();
        expect(done).toBe(false); // icons has not applied yet
        links[1].dispatchEvent(new Event('load'));
        await p;
        expect(done).toBe(true);
    });

    it('puts a stylesheet before the host\'s own; a failed one is reported, not fatal, and asked again later', async () => {
        document.head.innerHTML = '<link rel="stylesheet" href="/static/main.M.css">';
        const m = new HostModules({}, document, '', {icons: '/static/icons.I.css'});
        const p = m.ensure(['icons']);
        expect([...document.head.querySelectorAll('link')].map((l) => l.getAttribute('href'))).toEqual(['/static/icons.I.css', '/static/main.M.css']);
        const errors: unknown[] = [];
        const orig = console.error;
        console.error = (...a: unknown[]) => errors.push(a.join(' '));
        try {
            document.head.querySelector('link[data-host-style]')!.dispatchEvent(new Event('error'));
            await p;
        } finally {
            console.error = orig;
        }
        expect(errors).toEqual(['host module icons: stylesheet /static/icons.I.css failed to load; its plugins run unstyled']);
        expect(document.head.querySelectorAll('link[data-host-style]')).toHaveLength(0);
        m.ensure(['icons']).catch(() => undefined);
        expect(document.head.querySelectorAll('link[data-host-style="icons"]')).toHaveLength(1);
    });
});
