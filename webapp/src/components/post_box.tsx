// The post box. Slash commands go through plugins' slash command hooks
// first (they may rewrite, reject or swallow them); messages go through
// message-will-be-posted hooks, then POST /api/v4/posts.
import type {Post} from '@mattermost/types/posts';
import {useState, type FormEvent, type KeyboardEvent} from 'react';

import {useHost} from '../host';
import {receivedNewPost} from '../mattermost/actions';
import {Client4} from '../mattermost/client';
import {runMessageWillBePostedHooks, runSlashCommandHooks} from '../plugins/events';
import {useAppSelector} from '../store';

export function PostBox() {
    const host = useHost();
    const channelId = useAppSelector((s) => s.entities.channels.currentChannelId);
    const teamId = useAppSelector((s) => s.entities.teams.currentTeamId);
    const channel = useAppSelector((s) => s.entities.channels.channels[channelId]);
    const userId = useAppSelector((s) => s.entities.users.currentUserId);
    const [message, setMessage] = useState('');
    const [error, setError] = useState('');
    const [busy, setBusy] = useState(false);

    async function send() {
        const text = message.trim();
        if (!text || !channelId) {
            return;
        }
        setBusy(true);
        setError('');
        try {
            if (text.startsWith('/')) {
                const res = await runSlashCommandHooks(host.slots, host.report, text, {channel_id: channelId, team_id: teamId});
                if ('error' in res) {
                    setError(res.error.message);
                    return;
                }
                setMessage('');
                if ('swallowed' in res) {
                    return;
                }
                try {
                    await Client4.executeCommand(res.message, res.args as never);
                } catch (e) {
                    setError(`Command ${res.message.split(' ')[0]} failed: ${(e as Error).message}`);
                }
                return;
            }
            const draft = {channel_id: channelId, message: text, user_id: userId, root_id: '', props: {}, pending_post_id: `${userId}:${Date.now()}`, create_at: 0} as unknown as Post;
            const res = await runMessageWillBePostedHooks(host.slots, host.report, draft);
            if ('error' in res) {
                setError(res.error.message);
                return;
            }
            const created = await Client4.createPost(res.post);
            receivedNewPost(host.store.dispatch, created);
            setMessage('');
        } catch (e) {
            setError((e as Error).message || 'Could not post');
        } finally {
            setBusy(false);
        }
    }

    const onSubmit = (e: FormEvent) => {
        e.preventDefault();
        send();
    };
    const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
        if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            send();
        }
    };
    return (
        <form className='post-box' onSubmit={onSubmit}>
            {error && <p className='error' role='alert'>{error}</p>}
            <div className='post-box-row'>
                <textarea
                    aria-label='Write a message'
                    placeholder={channel ? `Write to ${channel.display_name}` : 'Write a message'}
                    value={message}
                    rows={1}
                    onChange={(e) => setMessage(e.target.value)}
                    onKeyDown={onKeyDown}
                />
                <button className='primary' type='submit' disabled={busy || !message.trim()}>{'Send'}</button>
            </div>
        </form>
    );
}
