// One message file per locale (react-intl's id -> text form). English is the
// source and the fallback; registerTranslations hands the host the others.
import de from './de.json';
import en from './en.json';

export type MessageId = keyof typeof en;
export type Messages = Record<MessageId, string>;

export const locales: Record<string, Partial<Messages>> = {en, de};

/** Messages for a locale ("de", "de-AT", ...), English for what it lacks. */
export function messagesFor(locale: string | undefined): Messages {
    const lang = (locale ?? 'en').toLowerCase().split(/[-_]/)[0];
    return {...en, ...(locales[lang] ?? {})};
}

/** {name} placeholders only: what the mobile part needs without react-intl. */
export function format(messages: Messages, id: MessageId, values: Record<string, string | number> = {}): string {
    return (messages[id] ?? en[id] ?? id).replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}

export {en};
