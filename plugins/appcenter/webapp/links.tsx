// Links between the plugin's views: real hrefs (open in a new tab works),
// history navigation on a plain click so the page is not reloaded.
import type {ReactNode} from 'react';

import {navigate, viewURL, type TeamInfo} from './host';
import {useT} from './i18n';

/** A link inside the plugin's views: a real href (open in a new tab works), history navigation on click. */
export function ViewLink({to, className, children}: {to: string; className?: string; children: ReactNode}) {
    return (
        <a
            href={to}
            className={className}
            onClick={(e) => {
                if (e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey) {
                    e.preventDefault();
                    navigate(to);
                }
            }}
        >
            {children}
        </a>
    );
}

export function BackLink({team}: {team: TeamInfo}) {
    const t = useT();
    return <ViewLink to={viewURL(team.name)} className='appcenter-back'>{'← '}{t('appcenter.back')}</ViewLink>;
}
