// The plugin's messages, one file per locale (react-intl ids and syntax).
// The web part registers them with registerTranslations; text outside React
// (slash command errors, the mobile part) goes through translate().
import de from './de.json';
import en from './en.json';

export type MessageId = keyof typeof en;
export type Messages = Record<MessageId, string>;

const locales: Record<string, Messages> = {en, de};

/** The messages of a locale ("de", "de-AT" -> de), or undefined to let the host fall back. */
export function messagesFor(locale: string | undefined): Messages | undefined {
    if (!locale) {
        return undefined;
    }
    return locales[locale] ?? locales[locale.split(/[-_]/)[0].toLowerCase()];
}

/** A message with its {name} arguments filled in; English when the locale has none. */
export function translate(locale: string | undefined, id: MessageId, values: Record<string, string | number> = {}): string {
    const text = messagesFor(locale)?.[id] ?? en[id];
    return text.replace(/\{(\w+)\}/g, (all, name: string) => (name in values ? String(values[name]) : all));
}

export const defaultMessages: Messages = en;
