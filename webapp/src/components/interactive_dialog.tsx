// window.openInteractiveDialog: Mattermost's interactive dialog. Every
// element type Mattermost's dialogs have: text (subtypes email, number,
// password, tel, url), textarea, select (static options; data_source
// "users" and "channels" as a free-text id), bool (a checkbox) and radio.
// Submitting posts the values to the integration's URL through Client4
// with the current channel and team, as Mattermost does; the answer's
// per-field errors are shown under their fields, and a top-level error
// above the buttons.
import {useState, type ChangeEvent} from 'react';
import {useSelector} from 'react-redux';

import {Client4} from '../mattermost/client';
import {modalStore} from '../modals';

export interface DialogElement {
    display_name: string;
    name: string;
    type: 'text' | 'textarea' | 'select' | 'bool' | 'radio' | string;
    subtype?: string;
    default?: string | boolean;
    placeholder?: string;
    help_text?: string;
    optional?: boolean;
    min_length?: number;
    max_length?: number;
    data_source?: string;
    options?: Array<{text: string; value: string}>;
}

export interface Dialog {
    url?: string;
    trigger_id?: string;
    dialog: {
        callback_id?: string;
        title: string;
        introduction_text?: string;
        elements?: DialogElement[];
        submit_label?: string;
        notify_on_cancel?: boolean;
        state?: string;
    };
}

export const INTERACTIVE_DIALOG = 'interactive_dialog';

type Value = string | number | boolean;

function initial(e: DialogElement): Value {
    if (e.type === 'bool') {
        return e.default === true || e.default === 'true';
    }
    return e.default === undefined ? '' : String(e.default);
}

export function InteractiveDialog({dialog}: {dialog: Dialog}) {
    const d = dialog.dialog;
    const elements = d.elements ?? [];
    // Mattermost's getCurrentChannelId / getCurrentTeamId, read directly:
    // their modules would add 30 KiB of selectors to every page.
    const channelId = useSelector((s: any) => s.entities?.channels?.currentChannelId as string | undefined) ?? '';
    const teamId = useSelector((s: any) => s.entities?.teams?.currentTeamId as string | undefined) ?? '';
    const [values, setValues] = useState<Record<string, Value>>(Object.fromEntries(elements.map((e) => [e.name, initial(e)])));
    const [errors, setErrors] = useState<Record<string, string>>({});
    const [error, setError] = useState('');
    const close = () => modalStore.close(INTERACTIVE_DIALOG);
    const submission = () => Object.fromEntries(elements.map((e) => {
        const v = values[e.name];
        return [e.name, e.type === 'text' && e.subtype === 'number' && v !== '' ? Number(v) : v];
    }));
    const send = (cancelled: boolean) => Client4.submitInteractiveDialog({
        url: dialog.url ?? '', callback_id: d.callback_id ?? '', state: d.state ?? '', submission: cancelled ? {} : submission(),
        channel_id: channelId, team_id: teamId, cancelled,
    } as never);
    const submit = async () => {
        const missing: Record<string, string> = {};
        for (const e of elements) {
            if (!e.optional && e.type !== 'bool' && (values[e.name] === '' || values[e.name] === undefined)) {
                missing[e.name] = 'This field is required.';
            }
        }
        if (Object.keys(missing).length) {
            setErrors(missing);
            return;
        }
        try {
            const r = dialog.url ? await send(false) as {error?: string; errors?: Record<string, string>} | undefined : undefined;
            if (r?.errors && Object.keys(r.errors).length || r?.error) {
                setErrors(r.errors ?? {});
                setError(r.error ?? '');
                return;
            }
            close();
        } catch (e) {
            setError(String((e as Error).message ?? e));
        }
    };
    const cancel = () => {
        if (d.notify_on_cancel && dialog.url) {
            send(true).catch(() => undefined);
        }
        close();
    };
    const set = (name: string, v: Value) => setValues({...values, [name]: v});
    return (
        <div className='host-modal interactive-dialog' role='dialog' aria-label={d.title}>
            <h2>{d.title}</h2>
            {d.introduction_text && <p>{d.introduction_text}</p>}
            {elements.map((e) => (
                <div key={e.name} className='field' data-element={e.name}>
                    <Field element={e} value={values[e.name]} onChange={(v) => set(e.name, v)}/>
                    {e.help_text && <small className='help-text'>{e.help_text}</small>}
                    {errors[e.name] && <p className='error'>{errors[e.name]}</p>}
                </div>
            ))}
            {error && <p className='error'>{error}</p>}
            <div className='modal-actions'>
                <button type='button' onClick={cancel}>{'Cancel'}</button>
                <button type='button' className='primary' onClick={submit}>{d.submit_label || 'Submit'}</button>
            </div>
        </div>
    );
}

function Field({element: e, value, onChange}: {element: DialogElement; value: Value; onChange: (v: Value) => void}) {
    const label = <span className='field-label'>{e.display_name}{e.optional ? ' (optional)' : ''}</span>;
    const text = (ev: ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) => onChange(ev.target.value);
    switch (e.type) {
    case 'textarea':
        return <label>{label}<textarea name={e.name} value={String(value)} placeholder={e.placeholder} maxLength={e.max_length} onChange={text}/></label>;
    case 'select':
        if (e.data_source === 'users' || e.data_source === 'channels') {
            return <label>{label}<input name={e.name} value={String(value)} placeholder={e.placeholder ?? `${e.data_source === 'users' ? 'User' : 'Channel'} id`} onChange={text}/></label>;
        }
        return (
            <label>{label}
                <select name={e.name} value={String(value)} onChange={text}>
                    <option value=''>{e.placeholder ?? ''}</option>
                    {(e.options ?? []).map((o) => <option key={o.value} value={o.value}>{o.text}</option>)}
                </select>
            </label>
        );
    case 'bool':
        return <label>{label}<input type='checkbox' name={e.name} checked={value === true} onChange={(ev) => onChange(ev.target.checked)}/>{e.placeholder}</label>;
    case 'radio':
        return (
            <fieldset>
                <legend>{label}</legend>
                {(e.options ?? []).map((o) => (
                    <label key={o.value}>
                        <input type='radio' name={e.name} value={o.value} checked={value === o.value} onChange={() => onChange(o.value)}/>
                        {o.text}
                    </label>
                ))}
            </fieldset>
        );
    default: {
        const type = ['email', 'number', 'password', 'tel', 'url'].includes(e.subtype ?? '') ? e.subtype : 'text';
        return <label>{label}<input type={type} name={e.name} value={String(value)} placeholder={e.placeholder} minLength={e.min_length} maxLength={e.max_length} onChange={text}/></label>;
    }
    }
}
