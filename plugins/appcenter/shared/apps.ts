// The apps the App Center offers. `review` is a working app inside the
// plugin; `jira` and `github` are guides to Mattermost's own integrations.
import type {MessageId} from './i18n';

export type AppKind = 'app' | 'integration';

export interface AppInfo {
    id: 'review' | 'jira' | 'github';
    kind: AppKind;
    name: MessageId;
    description: MessageId;
    /** A letter and a colour for the card's badge (the brand colours). */
    mark: string;
    color: string;
}

export const APPS: readonly AppInfo[] = [
    {id: 'review', kind: 'app', name: 'app.review.name', description: 'app.review.description', mark: '★', color: '#7a5af8'},
    {id: 'jira', kind: 'integration', name: 'app.jira.name', description: 'app.jira.description', mark: 'J', color: '#0052cc'},
    {id: 'github', kind: 'integration', name: 'app.github.name', description: 'app.github.description', mark: 'G', color: '#24292f'},
];

export const appById = (id: string) => APPS.find((a) => a.id === id);
