// The post box. Slash commands go through plugins' slash command hooks
// first (they may rewrite, reject or swallow them); messages go through
// message-will-be-posted hooks, then POST /api/v4/posts. Around it: the
// channel composer banners, the attachment menu (the computer's files and
// registerFileUploadMethod entries; chosen files go through
// files-will-upload hooks, then POST /api/v4/files), the AI action menu,
// the post editor action components and the composer placeholder hooks.
import type {Post} from '@mattermost/types/posts';
import {useRef, useState, type FormEvent, type KeyboardEvent} from 'react';

import {useHost} from '../host';
import {receivedNewPost} from '../mattermost/actions';
import {Client4} from '../mattermost/client';
import {composerPlaceholder, runFilesWillUploadHooks, runMessageWillBePostedHooks, runSlashCommandHooks} from '../plugins/events';
import {useAppSelector} from '../store';

import {ActionMenu} from './pluggables';
import {Boundary, Slot, useSlot, useTheme} from './slot';

export function PostBox() {
    const host = useHost();
    const channelId = useAppSelector((s) => s.entities.channels.currentChannelId);
    const teamId = useAppSelector((s) => s.entities.teams.currentTeamId);
    const channel = useAppSelector((s) => s.entities.channels.channels[channelId]);
    const userId = useAppSelector((s) => s.entities.users.currentUserId);
    const [message, setMessage] = useState('');
    const [error, setError] = useState('');
    const [busy, setBusy] = useState(false);
    const [files, setFiles] = useState<File[]>([]);
    const fileInput = useRef<HTMLInputElement>(null);
    const textarea = useRef<HTMLTextAreaElement>(null);
    useSlot('ComposerPlaceholder'); // re-render when placeholders change
    const uploadMethods = useSlot('FileUploadMethod');
    const aiItems = [...useSlot('AIActionMenuItem')].sort((a, b) => Number(a.extra?.sortOrder ?? 0) - Number(b.extra?.sortOrder ?? 0));
    const theme = useTheme();
    const placeholder = composerPlaceholder(host.slots, host.report, channel ? `Write to ${channel.display_name}` : 'Write a message', channel);

    /** Files chosen (or handed over by a plugin's upload method): the files-will-upload hooks decide. */
    const addFiles = (chosen: File[]) => {
        const res = runFilesWillUploadHooks(host.slots, host.report, chosen, (fs) => setFiles((cur) => cur.concat(fs)));
        if ('error' in res) {
            setError(res.error);
            return;
        }
        setFiles((cur) => cur.concat(res.files));
    };

    async function send() {
        const text = message.trim();
        if ((!text && files.length === 0) || !channelId) {
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
            let fileIds: string[] = [];
            if (files.length) {
                const form = new FormData();
                form.append('channel_id', channelId);
                files.forEach((f) => form.append('files', f, f.name));
                const up = await Client4.uploadFile(form);
                fileIds = up.file_infos.map((f) => f.id);
            }
            const draft = {channel_id: channelId, message: text, user_id: userId, root_id: '', props: {}, pending_post_id: `${userId}:${Date.now()}`, create_at: 0,
                ...(fileIds.length ? {file_ids: fileIds} : {})} as unknown as Post;
            const res = await runMessageWillBePostedHooks(host.slots, host.report, draft);
            if ('error' in res) {
                setError(res.error.message);
                return;
            }
            const created = await Client4.createPost(res.post);
            receivedNewPost(host.store.dispatch, created);
            setMessage('');
            setFiles([]);
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
    const editorProps = {
        draft: {message, channelId, rootId: '', fileInfos: []},
        getSelectedText: () => {
            const t = textarea.current;
            return t ? {start: t.selectionStart, end: t.selectionEnd} : {start: 0, end: 0};
        },
        updateText: (m: string) => setMessage(m),
    };
    return (
        <form className='post-box' onSubmit={onSubmit}>
            <div className='composer-banners'><Slot name='ChannelComposerBanner' props={{channelId}}/></div>
            {error && <p className='error' role='alert'>{error}</p>}
            {files.length > 0 && (
                <ul className='pending-files' aria-label='Attachments'>
                    {files.map((f, i) => (
                        <li key={i}>
                            {f.name}{' '}
                            <button type='button' className='icon-button' aria-label={`Remove ${f.name}`} onClick={() => setFiles(files.filter((_, j) => j !== i))}>{'×'}</button>
                        </li>
                    ))}
                </ul>
            )}
            <div className='post-box-row'>
                <input
                    ref={fileInput}
                    type='file'
                    multiple={true}
                    hidden={true}
                    aria-label='Files to attach'
                    onChange={(e) => {
                        addFiles([...(e.target.files ?? [])]);
                        e.target.value = '';
                    }}
                />
                <ActionMenu
                    label='📎'
                    ariaLabel='Attach files'
                    className='attach-menu'
                    items={uploadMethods}
                    args={[addFiles]}
                    before={(
                        <li role='none'>
                            <button type='button' role='menuitem' onClick={() => fileInput.current?.click()}>{'Your computer'}</button>
                        </li>
                    )}
                />
                <textarea
                    ref={textarea}
                    aria-label='Write a message'
                    placeholder={placeholder}
                    value={message}
                    rows={1}
                    onChange={(e) => setMessage(e.target.value)}
                    onKeyDown={onKeyDown}
                />
                <span className='post-editor-actions'><Slot name='PostEditorAction' props={editorProps}/></span>
                <ActionMenu
                    label='✨'
                    ariaLabel='AI actions'
                    className='ai-menu'
                    items={aiItems.filter((r) => !r.component)}
                    args={[{message, channelId}]}
                    before={aiItems.filter((r) => r.component).map((r) => {
                        const C = r.component!;
                        return <li key={r.id} role='none'><Boundary registration={r}><C theme={theme} channelId={channelId}/></Boundary></li>;
                    })}
                />
                <button className='primary' type='submit' disabled={busy || (!message.trim() && files.length === 0)}>{'Send'}</button>
            </div>
        </form>
    );
}
