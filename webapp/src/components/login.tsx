import {useState, type FormEvent} from 'react';

import type {Demo, ShellPageConfig} from '../generated/shell';
import {useHost} from '../host';
import {navigate} from '../router';


/**
 * The sandbox's demo logins, which the server puts in the page's config
 * (webapp.Config.Demo) only when it runs the sandbox: in front of a real
 * Mattermost there is none and the page says nothing about accounts.
 */
function demoLogins(): Demo | null {
    try {
        const c = JSON.parse(document.getElementById('mmtoolkit-config')?.textContent || '{}') as Partial<ShellPageConfig>;
        return c.demo && Array.isArray(c.demo.users) && c.demo.users.length > 0 ? c.demo : null;
    } catch {
        return null;
    }
}

function DemoLogins({demo, pick}: {demo: Demo; pick: (username: string) => void}) {
    return (
        <section className='demo-logins' aria-labelledby='demo-logins-title'>
            <h2 id='demo-logins-title'>{'Sandbox users'}</h2>
            <p>{'Every demo user\'s password is '}<code>{demo.password}</code>{'. Pick one:'}</p>
            <ul>
                {demo.users.map((u) => (
                    <li key={u.username}>
                        <button type='button' className='link-button' onClick={() => pick(u.username)}>{u.username}</button>
                        {u.role && <span className='hint'>{` ${u.role}`}</span>}
                    </li>
                ))}
            </ul>
        </section>
    );
}

export function Login() {
    const host = useHost();
    const [loginId, setLoginId] = useState('');
    const [password, setPassword] = useState('');
    const [error, setError] = useState('');
    const [busy, setBusy] = useState(false);
    const [demo] = useState(demoLogins);
    const submit = async (e: FormEvent) => {
        e.preventDefault();
        setBusy(true);
        setError('');
        try {
            await host.login(loginId, password);
            const back = returnPath(window.location.search);
            if (back) {
                // The admin console and the directory are server pages.
                window.location.assign(back);
            } else {
                navigate('/');
            }
        } catch (err) {
            setError((err as Error).message || 'Login failed');
        } finally {
            setBusy(false);
        }
    };
    return (
        <div className='login'>
            <form className='login-card' onSubmit={submit}>
                <h1>{'Log in to mmtoolkit'}</h1>
                <p className='hint'>{'Your Mattermost account'}</p>
                <label className='field'>
                    {'Email or username'}
                    <input name='loginId' autoComplete='username' autoFocus value={loginId} onChange={(e) => setLoginId(e.target.value)}/>
                </label>
                <label className='field'>
                    {'Password'}
                    <input name='password' type='password' autoComplete='current-password' value={password} onChange={(e) => setPassword(e.target.value)}/>
                </label>
                {error && <p className='error' role='alert'>{error}</p>}
                <button className='primary' type='submit' disabled={busy || !loginId || !password}>{busy ? 'Logging in…' : 'Log in'}</button>
                {demo && (
                    <DemoLogins
                        demo={demo}
                        pick={(username) => {
                            setLoginId(username);
                            setPassword(demo.password);
                        }}
                    />
                )}
            </form>
        </div>
    );
}

/**
 * The same-origin path of ?redirect_to= (as Mattermost's login takes it), or ''.
 *
 * Browsers read URLs loosely: they drop tabs and newlines anywhere in them and
 * take a backslash for a slash, so "/\t/evil.example" or "/\\evil.example" is
 * "//evil.example", another site. Only a path starting with one "/" and holding
 * no control character, white space or backslash is taken, and only if it
 * resolves to this origin; what is returned is the resolved path, query and
 * fragment (issue #15, F04).
 */
export function returnPath(search: string): string {
    const to = new URLSearchParams(search).get('redirect_to') ?? '';
    if (!to.startsWith('/') || to.startsWith('//') || /[\u0000-\u0020\u007f-\u00a0\s\\]/.test(to)) {
        return '';
    }
    const origin = 'https://same-origin.invalid';
    let u: URL;
    try {
        u = new URL(to, origin);
    } catch {
        return '';
    }
    if (u.origin !== origin || !u.pathname.startsWith('/') || u.pathname.startsWith('//')) {
        return '';
    }
    return u.pathname + u.search + u.hash;
}
