// The App Center view (registerNeedsTeamRoute: /<team>/mmtoolkit.appcenter/...):
// the team's apps with install/uninstall for its admins, and the views of
// the apps below it.
import {useState, type CSSProperties, type ReactNode} from 'react';

import type {HostProps, Theme} from '@mmtoolkit/webapp';

import {APPS, type AppInfo} from '../shared/apps';
import {changeOpacity} from '../shared/theme';

import {canManageApps, selectMeId, useCurrentTeam, useHostState, useSubPath, viewURL, type TeamInfo} from './host';
import {useT} from './i18n';
import {Guide} from './guides';
import {changeInstalled, loadInstalled, useInstalled} from './installed';
import {ViewLink} from './links';
import {ReviewApp} from './review';

import './appcenter.css';

/** The theme as CSS variables on the view's root: appcenter.css uses only these colours. */
export function themeVars(theme: Theme): CSSProperties {
    const fg = theme.centerChannelColor;
    return {
        '--ac-bg': theme.centerChannelBg,
        '--ac-fg': fg,
        '--ac-fg-72': changeOpacity(fg, 0.72),
        '--ac-fg-56': changeOpacity(fg, 0.56),
        '--ac-fg-16': changeOpacity(fg, 0.16),
        '--ac-fg-08': changeOpacity(fg, 0.08),
        '--ac-fg-04': changeOpacity(fg, 0.04),
        '--ac-button-bg': theme.buttonBg,
        '--ac-button-bg-08': changeOpacity(theme.buttonBg, 0.08),
        '--ac-button-bg-16': changeOpacity(theme.buttonBg, 0.16),
        '--ac-button-color': theme.buttonColor,
        '--ac-link': theme.linkColor,
        '--ac-error': theme.errorTextColor,
        '--ac-error-08': changeOpacity(theme.errorTextColor, 0.08),
        '--ac-online': theme.onlineIndicator,
        '--ac-online-16': changeOpacity(theme.onlineIndicator, 0.16),
    } as CSSProperties;
}

export function AppCenterRoute({theme}: HostProps) {
    const t = useT();
    const team = useCurrentTeam();
    const sub = useSubPath();
    let view: ReactNode;
    if (!team) {
        view = <p className='appcenter-note'>{t('appcenter.no_team')}</p>;
    } else if (sub[0] === 'review') {
        view = <ReviewApp team={team} sub={sub.slice(1)}/>;
    } else if (sub[0] === 'jira' || sub[0] === 'github') {
        view = <Guide team={team} app={sub[0]}/>;
    } else {
        view = <Home team={team}/>;
    }
    return (
        <div className='appcenter' style={themeVars(theme)} data-team={team?.name}>
            {view}
        </div>
    );
}

function Home({team}: {team: TeamInfo}) {
    const t = useT();
    const state = useInstalled(team.id);
    const admin = useHostState((s) => canManageApps(s, team.id));
    return (
        <>
            <header className='appcenter-header'>
                <h1>{t('appcenter.title')}</h1>
                <p>{t('appcenter.subtitle', {team: team.displayName})}</p>
            </header>
            <p id='appcenter-permission' className='appcenter-note' role='note'>
                {t(admin ? 'appcenter.admin_note' : 'appcenter.member_note')}
            </p>
            {state.status === 'error' && (
                <p className='appcenter-error' role='alert'>
                    {t('appcenter.load_error', {message: state.error ?? ''})}{' '}
                    <button type='button' className='appcenter-button small' onClick={() => loadInstalled(team.id)}>{t('appcenter.retry')}</button>
                </p>
            )}
            <ul className='appcenter-list' aria-busy={state.status === 'loading'}>
                {APPS.map((app) => (
                    <AppCard
                        key={app.id}
                        app={app}
                        team={team}
                        admin={admin}
                        loading={state.status === 'loading'}
                        installed={Boolean(state.installed.apps[app.id])}
                    />
                ))}
            </ul>
        </>
    );
}

function AppCard({app, team, admin, installed, loading}: {app: AppInfo; team: TeamInfo; admin: boolean; installed: boolean; loading: boolean}) {
    const t = useT();
    const meId = useHostState(selectMeId);
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState('');
    const name = t(app.name);
    const headingId = `appcenter-app-${app.id}`;
    const toggle = async () => {
        setBusy(true);
        setError('');
        try {
            await changeInstalled(team.id, app.id, !installed, meId);
        } catch (e) {
            setError(t('appcenter.install_error', {app: name, message: (e as Error).message}));
        } finally {
            setBusy(false);
        }
    };
    let label = t(installed ? 'appcenter.uninstall' : 'appcenter.install');
    if (busy) {
        label = t(installed ? 'appcenter.uninstalling' : 'appcenter.installing');
    }
    return (
        <li className='appcenter-card' data-app={app.id} data-installed={installed} aria-labelledby={headingId}>
            <div className='appcenter-card-mark' aria-hidden='true' style={{background: app.color}}>{app.mark}</div>
            <div className='appcenter-card-body'>
                <h2 id={headingId}>{name}</h2>
                <p className='appcenter-card-meta'>
                    <span>{t(app.kind === 'app' ? 'appcenter.kind.app' : 'appcenter.kind.integration')}</span>
                    {!loading && (
                        <span className={'appcenter-badge' + (installed ? ' on' : '')}>
                            {t(installed ? 'appcenter.installed' : 'appcenter.not_installed')}
                        </span>
                    )}
                </p>
                <p>{t(app.description)}</p>
                {error && <p className='appcenter-error' role='alert'>{error}</p>}
            </div>
            <div className='appcenter-card-actions'>
                {app.kind === 'app' && installed && (
                    <ViewLink to={viewURL(team.name, app.id)} className='appcenter-button primary'>{t('appcenter.open_app')}</ViewLink>
                )}
                {app.kind === 'integration' && (
                    <ViewLink to={viewURL(team.name, app.id)} className='appcenter-button'>{t('appcenter.read_guide')}</ViewLink>
                )}
                <button
                    type='button'
                    className={'appcenter-button' + (installed ? ' danger' : '')}
                    disabled={!admin || busy || loading}
                    aria-describedby={admin ? undefined : 'appcenter-permission'}
                    title={admin ? undefined : t('appcenter.member_note')}
                    aria-label={`${label}: ${name}`}
                    onClick={toggle}
                >
                    {label}
                </button>
            </div>
        </li>
    );
}
