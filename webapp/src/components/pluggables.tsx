// The places of Mattermost's pluggables that have no component of their
// own here: a small dropdown menu for action registrations, the global
// components, the user guide ("?") menu, the search box with plugin search
// components, the product header, the user popover and the user settings
// modal. Each renders registrations where Mattermost's webapp renders them
// (docs/webapp.md has the table).
import type {UserProfile} from '@mattermost/types/users';
import {getStatusForUserId} from 'mattermost-redux/selectors/entities/users';
import {useEffect, useRef, useState, type ReactNode} from 'react';

import {useHost} from '../host';
import * as mm from '../mattermost/actions';
import {Client4} from '../mattermost/client';
import type {Registration, SlotName} from '../plugins/types';
import {useAppSelector} from '../store';

import {Boundary, Slot, useSafeCall, useSlot, useTheme} from './slot';

/** Closes an open menu on a click outside it or Escape. */
export function useDismiss(open: boolean, close: () => void) {
    const ref = useRef<HTMLDivElement>(null);
    useEffect(() => {
        if (!open) {
            return undefined;
        }
        const onDown = (e: MouseEvent) => {
            if (ref.current && !ref.current.contains(e.target as Node)) {
                close();
            }
        };
        const onKey = (e: KeyboardEvent) => e.key === 'Escape' && close();
        document.addEventListener('mousedown', onDown);
        document.addEventListener('keydown', onKey);
        return () => {
            document.removeEventListener('mousedown', onDown);
            document.removeEventListener('keydown', onKey);
        };
    }, [open, close]);
    return ref;
}

interface ActionMenuProps {
    /** The button's label and accessible name. */
    label: ReactNode;
    ariaLabel: string;
    className?: string;
    items: Registration[];
    /** Arguments passed to each item's action. */
    args?: unknown[];
    /** Extra entries before the plugins' (host items). */
    before?: ReactNode;
    /** An item's label (default: its icon and text). */
    itemLabel?: (r: Registration) => ReactNode;
}

/** A button opening a menu of action registrations: text (and icon), action(...args) on click. */
export function ActionMenu({label, ariaLabel, className, items, args = [], before, itemLabel}: ActionMenuProps) {
    const [open, setOpen] = useState(false);
    const call = useSafeCall();
    const ref = useDismiss(open, () => setOpen(false));
    if (items.length === 0 && (Array.isArray(before) ? before.length === 0 : !before)) {
        return null;
    }
    return (
        <div className={'menu-anchor ' + (className ?? '')} ref={ref}>
            <button type='button' className='icon-button' aria-label={ariaLabel} aria-haspopup='menu' aria-expanded={open} onClick={() => setOpen(!open)}>
                {label}
            </button>
            {open && (
                <ul className='host-menu' role='menu' aria-label={ariaLabel}>
                    {before}
                    {items.map((r) => (
                        <li key={r.id} role='none'>
                            <Boundary registration={r}>
                                <button
                                    type='button'
                                    role='menuitem'
                                    onClick={() => {
                                        setOpen(false);
                                        call(r, r.action, ...args);
                                    }}
                                >
                                    {itemLabel ? itemLabel(r) : <>{r.icon}{r.icon ? ' ' : ''}{r.text}</>}
                                </button>
                            </Boundary>
                        </li>
                    ))}
                </ul>
            )}
        </div>
    );
}

/** registerGlobalComponent: each rendered once, outside any view, as Mattermost's GlobalComponents. */
export function GlobalComponents() {
    return <div className='plugin-globals'><Slot name='Global'/></div>;
}

/** registerUserGuideDropdownMenuAction: the "?" menu of the global header. */
export function UserGuideMenu() {
    const items = useSlot('UserGuideDropdown');
    return <ActionMenu label='?' ariaLabel='Help' className='user-guide' items={items}/>;
}

/**
 * registerSearchComponents: the search box of the global header. A plugin
 * search (buttonComponent) can be picked; its suggestions and hints
 * components show while the box is focused, and Enter calls its
 * action(terms). Without a plugin search picked, Enter does nothing here
 * (the host has no message search).
 */
export function SearchBox() {
    const regs = useSlot('SearchButtons');
    const theme = useTheme();
    const call = useSafeCall();
    const [terms, setTerms] = useState('');
    const [focused, setFocused] = useState(false);
    const [picked, setPicked] = useState('');
    const ref = useDismiss(focused, () => setFocused(false));
    if (regs.length === 0) {
        return null;
    }
    const sel = regs.find((r) => r.id === picked);
    const Suggestions = sel?.extra?.suggestionsComponent as ((p: any) => ReactNode) | undefined;
    const Hints = sel?.extra?.hintsComponent as ((p: any) => ReactNode) | undefined;
    return (
        <div className='search-box' ref={ref}>
            <input
                type='search'
                aria-label='Search'
                placeholder='Search'
                value={terms}
                onFocus={() => setFocused(true)}
                onChange={(e) => setTerms(e.target.value)}
                onKeyDown={(e) => {
                    if (e.key === 'Enter' && sel) {
                        call(sel, sel.action, terms);
                    }
                }}
            />
            {focused && (
                <div className='search-popover host-menu'>
                    <div className='search-buttons' role='group' aria-label='Search in'>
                        {regs.map((r) => {
                            const B = r.component;
                            return (
                                <Boundary key={r.id} registration={r}>
                                    <button type='button' className={'search-button' + (r.id === picked ? ' active' : '')} onClick={() => setPicked(r.id === picked ? '' : r.id)}>
                                        {B ? <B theme={theme}/> : r.pluginId}
                                    </button>
                                </Boundary>
                            );
                        })}
                    </div>
                    {sel && Suggestions && <Boundary registration={sel}><Suggestions searchTerms={terms} theme={theme} onRunSearch={(t: string) => call(sel, sel.action, t)}/></Boundary>}
                    {sel && Hints && <Boundary registration={sel}><Hints searchTerms={terms} theme={theme} onChangeSearch={(t: string) => setTerms(t)}/></Boundary>}
                </div>
            )}
        </div>
    );
}

/** registerProduct's headerCentreComponent and headerRightComponent, while the product is open. */
export function ProductHeader({base}: {base: string}) {
    const theme = useTheme();
    const reg = useSlot('product').find((r) => r.route === base);
    if (!reg) {
        return null;
    }
    const Centre = reg.extra?.headerCentreComponent as ((p: any) => ReactNode) | undefined;
    const Right = reg.extra?.headerRightComponent as ((p: any) => ReactNode) | undefined;
    return (
        <>
            {Centre && <div className='product-header-centre'><Boundary registration={reg}><Centre theme={theme}/></Boundary></div>}
            {Right && <div className='product-header-right'><Boundary registration={reg}><Right theme={theme}/></Boundary></div>}
        </>
    );
}

/**
 * The profile popover of a post's author (Mattermost's ProfilePopover):
 * name, status, and the plugins' PopoverUserAttributes and
 * PopoverUserActions components with {user, hide, status}.
 */
export function UserPopover({user, hide}: {user: UserProfile; hide: () => void}) {
    const status = useAppSelector((s) => getStatusForUserId(s, user.id)) ?? '';
    const ref = useDismiss(true, hide);
    const props = {user, hide, status, fromWebhook: false};
    return (
        <div className='user-popover' role='dialog' aria-label={`Profile of ${user.username}`} ref={ref}>
            <div className='user-popover-name'>{[user.first_name, user.last_name].filter(Boolean).join(' ') || user.username}</div>
            <div className='hint'>{'@'}{user.username}{status ? ` · ${status}` : ''}</div>
            <div className='user-popover-attributes'><Slot name='PopoverUserAttributes' props={props}/></div>
            <div className='user-popover-actions'><Slot name='PopoverUserActions' props={props}/></div>
        </div>
    );
}

interface SettingOption {
    text?: ReactNode;
    value: string;
    helpText?: ReactNode;
}

interface PluginSetting {
    name: string;
    title?: ReactNode;
    helpText?: ReactNode;
    type?: string;
    default?: string;
    options?: SettingOption[];
    component?: (p: any) => ReactNode;
}

interface PluginSettingsSection {
    title: ReactNode;
    settings?: PluginSetting[];
    onSubmit?: (changes: Record<string, string>) => void;
    component?: (p: any) => ReactNode;
}

interface PluginUserSettings {
    id: string;
    uiName: ReactNode;
    icon?: string;
    sections?: PluginSettingsSection[];
    action?: {title: ReactNode; text?: ReactNode; buttonText: ReactNode; onClick: () => void};
}

/**
 * registerUserSettings: a user settings modal with one tab per plugin,
 * each section's radio settings (saved through the section's onSubmit)
 * and custom components. Values start at the preference
 * pp_<pluginid>/<name> when saved, else the setting's default.
 */
export function UserSettingsModal({close}: {close: () => void}) {
    const regs = useSlot('UserSettings');
    const theme = useTheme();
    const call = useSafeCall();
    const prefs = useAppSelector((s) => s.entities.preferences.myPreferences);
    const userId = useAppSelector((s) => s.entities.users.currentUserId);
    const host = useHost();
    const [tab, setTab] = useState(0);
    const ref = useDismiss(true, close);
    const reg = regs[Math.min(tab, regs.length - 1)];
    const setting = reg?.extra?.setting as PluginUserSettings | undefined;
    const [changes, setChanges] = useState<Record<string, Record<string, string>>>({});
    return (
        <div className='host-modal-backdrop'>
            <div className='host-modal user-settings' role='dialog' aria-label='Settings' ref={ref}>
                <header className='rhs-header'>
                    <h3>{'Settings'}</h3>
                    <button type='button' className='icon-button' aria-label='Close' onClick={close}>{'×'}</button>
                </header>
                <div className='user-settings-body'>
                    <nav className='user-settings-tabs' role='tablist'>
                        {regs.map((r, i) => {
                            const st = r.extra?.setting as PluginUserSettings | undefined;
                            return (
                                <button key={r.id} type='button' role='tab' aria-selected={r === reg} onClick={() => setTab(i)}>
                                    {st?.icon && <img src={st.icon} alt='' width={16} height={16}/>}{' '}{st?.uiName ?? r.pluginId}
                                </button>
                            );
                        })}
                        {regs.length === 0 && <p className='hint'>{'No plugin has settings.'}</p>}
                    </nav>
                    {reg && setting && (
                        <Boundary registration={reg}>
                            <div className='user-settings-panel' data-plugin-id={reg.pluginId}>
                                <h4>{setting.uiName}</h4>
                                {setting.action && (
                                    <div className='user-settings-action'>
                                        <strong>{setting.action.title}</strong> {setting.action.text}{' '}
                                        <button type='button' className='link-button' onClick={() => call(reg, setting.action?.onClick)}>{setting.action.buttonText}</button>
                                    </div>
                                )}
                                {(setting.sections ?? []).map((sec, si) => {
                                    const key = `${reg.id}:${si}`;
                                    const C = sec.component;
                                    if (C) {
                                        return <section key={key} className='user-settings-section'><h5>{sec.title}</h5><C theme={theme}/></section>;
                                    }
                                    return (
                                        <section key={key} className='user-settings-section'>
                                            <h5>{sec.title}</h5>
                                            {(sec.settings ?? []).map((st) => {
                                                if (st.component) {
                                                    const SC = st.component;
                                                    return <div key={st.name}><SC theme={theme}/></div>;
                                                }
                                                const saved = prefs[`pp_${reg.pluginId}--${st.name}`]?.value;
                                                const value = changes[key]?.[st.name] ?? saved ?? st.default ?? '';
                                                return (
                                                    <fieldset key={st.name}>
                                                        <legend>{st.title ?? st.name}</legend>
                                                        {(st.options ?? []).map((o) => (
                                                            <label key={o.value} className='host-radio'>
                                                                <input
                                                                    type='radio'
                                                                    name={`${key}:${st.name}`}
                                                                    value={o.value}
                                                                    checked={value === o.value}
                                                                    onChange={() => setChanges({...changes, [key]: {...changes[key], [st.name]: o.value}})}
                                                                />
                                                                {' '}{o.text ?? o.value}
                                                            </label>
                                                        ))}
                                                    </fieldset>
                                                );
                                            })}
                                            {(sec.settings ?? []).length > 0 && (
                                                <button
                                                    type='button'
                                                    className='primary'
                                                    disabled={!changes[key]}
                                                    onClick={() => {
                                                        // As Mattermost: saved as preferences pp_<plugin id>/<name>, then onSubmit(changes).
                                                        const prefList = Object.entries(changes[key] ?? {}).map(([name, value]) =>
                                                            ({user_id: userId, category: `pp_${reg.pluginId}`, name, value}));
                                                        mm.receivedPreferences(host.store.dispatch, prefList);
                                                        Client4.savePreferences(userId, prefList).catch((e) => host.report({pluginId: reg.pluginId, where: 'handler', error: e, slot: reg.slot}));
                                                        call(reg, sec.onSubmit, changes[key] ?? {});
                                                        const rest = {...changes};
                                                        delete rest[key];
                                                        setChanges(rest);
                                                    }}
                                                >
                                                    {'Save'}
                                                </button>
                                            )}
                                        </section>
                                    );
                                })}
                            </div>
                        </Boundary>
                    )}
                </div>
            </div>
        </div>
    );
}

/** Registrations of a slot whose filter (when it has one) passes. */
export function useVisible(name: SlotName, pass: (r: Registration) => boolean): Registration[] {
    const host = useHost();
    return useSlot(name).filter((r) => {
        try {
            return pass(r);
        } catch (e) {
            host.report({pluginId: r.pluginId, where: 'handler', error: e, slot: r.slot, registrationId: r.id});
            return false;
        }
    });
}
