// window.openInteractiveDialog: Mattermost's interactive dialog, reduced to
// text-like elements. Submitting posts the values to the integration's URL
// through Client4, as Mattermost does.
import {useState} from 'react';

import {Client4} from '../mattermost/client';
import {modalStore} from '../modals';

export interface Dialog {
    url?: string;
    trigger_id?: string;
    dialog: {
        callback_id?: string;
        title: string;
        introduction_text?: string;
        elements?: Array<{display_name: string; name: string; type: string; default?: string; placeholder?: string; optional?: boolean}>;
        submit_label?: string;
        state?: string;
    };
}

export function InteractiveDialog({dialog}: {dialog: Dialog}) {
    const d = dialog.dialog;
    const [values, setValues] = useState<Record<string, string>>(
        Object.fromEntries((d.elements ?? []).map((e) => [e.name, e.default ?? ''])));
    const [error, setError] = useState('');
    const close = () => modalStore.close('interactive_dialog');
    const submit = async () => {
        try {
            if (dialog.url) {
                await Client4.submitInteractiveDialog({
                    url: dialog.url, callback_id: d.callback_id ?? '', state: d.state ?? '', submission: values,
                    channel_id: '', team_id: '', cancelled: false,
                } as never);
            }
            close();
        } catch (e) {
            setError(String((e as Error).message ?? e));
        }
    };
    return (
        <div className='modal' role='dialog' aria-label={d.title}>
            <h2>{d.title}</h2>
            {d.introduction_text && <p>{d.introduction_text}</p>}
            {(d.elements ?? []).map((e) => (
                <label key={e.name} className='field'>
                    {e.display_name}
                    <input
                        value={values[e.name] ?? ''}
                        placeholder={e.placeholder}
                        onChange={(ev) => setValues({...values, [e.name]: ev.target.value})}
                    />
                </label>
            ))}
            {error && <p className='error'>{error}</p>}
            <div className='modal-actions'>
                <button type='button' onClick={close}>{'Cancel'}</button>
                <button type='button' className='primary' onClick={submit}>{d.submit_label || 'Submit'}</button>
            </div>
        </div>
    );
}
