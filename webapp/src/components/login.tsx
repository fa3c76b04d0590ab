import {useState, type FormEvent} from 'react';

import {useHost} from '../host';
import {navigate} from '../router';

export function Login() {
    const host = useHost();
    const [loginId, setLoginId] = useState('');
    const [password, setPassword] = useState('');
    const [error, setError] = useState('');
    const [busy, setBusy] = useState(false);
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
            </form>
        </div>
    );
}

/** The same-origin path of ?redirect_to= (as Mattermost's login takes it), or ''. */
export function returnPath(search: string): string {
    const to = new URLSearchParams(search).get('redirect_to') ?? '';
    return to.startsWith('/') && !to.startsWith('//') && !to.startsWith('/\\') ? to : '';
}
