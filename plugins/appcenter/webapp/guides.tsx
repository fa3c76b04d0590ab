// Integration guides: how to connect Jira and GitHub to Mattermost with
// incoming webhooks and slash commands, step by step, and what needs the
// official Mattermost plugins instead. Code samples are not translated.
import {useState} from 'react';

import type {MessageId} from '../shared/i18n';

import {type TeamInfo} from './host';
import {useT} from './i18n';
import {BackLink} from './links';

const JIRA_BODY = `{
  "username": "Jira",
  "text": "#### [{{issue.key}}]({{issue.url}}) {{issue.summary.jsonEncode}}\\nCreated by {{issue.reporter.displayName.jsonEncode}} · Status: {{issue.status.name}}"
}`;

const GITHUB_WORKFLOW = `name: Mattermost
on:
  pull_request:
    types: [opened, closed]
  release:
    types: [published]
jobs:
  notify:
    runs-on: ubuntu-latest
    steps:
      - name: Post to Mattermost
        env:
          MATTERMOST_WEBHOOK_URL: \${{ secrets.MATTERMOST_WEBHOOK_URL }}
          # Event data goes through env, never into the script itself.
          TEXT: "[\${{ github.repository }}] \${{ github.event_name }} \${{ github.event.action }} by @\${{ github.actor }}: \${{ github.event.pull_request.html_url || github.event.release.html_url }}"
        run: |
          jq -n --arg text "$TEXT" '{username: "GitHub", text: $text}' |
            curl -fsS -X POST -H 'Content-Type: application/json' --data @- "$MATTERMOST_WEBHOOK_URL"`;

const WEBHOOK_TEST = `curl -i -X POST -H 'Content-Type: application/json' \\
  -d '{"text": "Hello from the App Center :tada:"}' \\
  https://your-mattermost.example.com/hooks/xxx-generatedkey-xxx`;

const SLASH_REPLY = '{"response_type": "ephemeral", "text": "Created PROJ-123"}';

interface GuideSpec {
    title: MessageId;
    trigger: string;
    product: string;
    api: string;
    source: {title: MessageId; steps: MessageId[]; code: string; codeLabel: string; after: MessageId[]; note: MessageId};
    plugin: MessageId;
}

const GUIDES: Record<'jira' | 'github', GuideSpec> = {
    jira: {
        title: 'app.jira.name',
        trigger: 'jira',
        product: 'Jira',
        api: "Jira's REST API (POST /rest/api/3/issue with an Atlassian API token)",
        source: {
            title: 'guide.jira.webhook.title',
            steps: ['guide.jira.webhook.1', 'guide.jira.webhook.2', 'guide.jira.webhook.3', 'guide.jira.webhook.4'],
            code: JIRA_BODY,
            codeLabel: 'Custom data',
            after: ['guide.jira.webhook.5'],
            note: 'guide.jira.webhook.note',
        },
        plugin: 'guide.jira.plugin',
    },
    github: {
        title: 'app.github.name',
        trigger: 'github',
        product: 'GitHub',
        api: "GitHub's REST API (for example POST /repos/{owner}/{repo}/issues with a fine-grained token)",
        source: {
            title: 'guide.github.webhook.title',
            steps: ['guide.github.webhook.1', 'guide.github.webhook.2'],
            code: GITHUB_WORKFLOW,
            codeLabel: '.github/workflows/mattermost.yml',
            after: ['guide.github.webhook.3'],
            note: 'guide.github.webhook.note',
        },
        plugin: 'guide.github.plugin',
    },
};

function Code({code, label}: {code: string; label: string}) {
    const t = useT();
    const [copied, setCopied] = useState(false);
    const copy = async () => {
        try {
            await navigator.clipboard.writeText(code);
            setCopied(true);
            setTimeout(() => setCopied(false), 2000);
        } catch {
            // No clipboard permission: the text stays selectable.
        }
    };
    return (
        <figure className='guide-code'>
            <figcaption>
                <span>{label}</span>
                <button type='button' className='appcenter-button small' onClick={copy} aria-label={`${t('guide.copy')}: ${label}`}>
                    {t(copied ? 'guide.copied' : 'guide.copy')}
                </button>
            </figcaption>
            <pre tabIndex={0}><code>{code}</code></pre>
        </figure>
    );
}

export function Guide({team, app}: {team: TeamInfo; app: 'jira' | 'github'}) {
    const t = useT();
    const g = GUIDES[app];
    const steps = (ids: MessageId[], values?: Record<string, string>) => ids.map((id) => <li key={id}>{t(id, values)}</li>);
    return (
        <article className='guide' data-guide={app} aria-labelledby='guide-title'>
            <BackLink team={team}/>
            <header className='appcenter-header'>
                <h1 id='guide-title'>{t(g.title)}</h1>
                <p>{t(`app.${app}.description`)}</p>
            </header>
            <p>{t('guide.intro')}</p>

            <section aria-labelledby='guide-enable'>
                <h2 id='guide-enable'>{t('guide.enable.title')}</h2>
                <ol>{steps(['guide.enable.1', 'guide.enable.2', 'guide.enable.3'])}</ol>
            </section>

            <section aria-labelledby='guide-webhook'>
                <h2 id='guide-webhook'>{t('guide.webhook.title')}</h2>
                <ol>{steps(['guide.webhook.1', 'guide.webhook.2', 'guide.webhook.3'])}</ol>
                <p>{t('guide.webhook.payload')}</p>
                <Code code={WEBHOOK_TEST} label='curl'/>
            </section>

            <section aria-labelledby='guide-source'>
                <h2 id='guide-source'>{t(g.source.title)}</h2>
                <ol>{steps(g.source.steps)}</ol>
                <Code code={g.source.code} label={g.source.codeLabel}/>
                <ol start={g.source.steps.length + 1}>{steps(g.source.after)}</ol>
                <p className='guide-note' role='note'>{t(g.source.note)}</p>
            </section>

            <section aria-labelledby='guide-slash'>
                <h2 id='guide-slash'>{t('guide.slash.title', {trigger: g.trigger})}</h2>
                <ol>
                    {steps(['guide.slash.1', 'guide.slash.2', 'guide.slash.3'], {trigger: g.trigger, product: g.product})}
                    <li>{t('guide.slash.4', {api: g.api, example: SLASH_REPLY})}</li>
                </ol>
            </section>

            <section aria-labelledby='guide-plugin'>
                <h2 id='guide-plugin'>{t('guide.plugin.title')}</h2>
                <p>{t(g.plugin)}</p>
            </section>
            <p className='appcenter-note'>{t('guide.ack')}</p>
        </article>
    );
}
