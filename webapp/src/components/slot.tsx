// <Slot name="..."> renders every registration of a slot, each inside its
// own error boundary (Mattermost's Pluggable + PluggableErrorBoundary). A
// plugin that crashed shows one small notice where its registrations were;
// the rest of the slot, and the page, keep working.
import {getTheme} from 'mattermost-redux/selectors/entities/preferences';
import {Component, useCallback, useSyncExternalStore, type ErrorInfo, type ReactNode} from 'react';

import {useHost} from '../host';
import type {Registration, SlotName} from '../plugins/types';
import {useAppDispatch, useAppSelector} from '../store';
import {pluginsActions} from '../store/plugins_slice';

export function useSlot(name: SlotName): Registration[] {
    const {slots} = useHost();
    useSyncExternalStore(slots.subscribe, slots.getVersion);
    return slots.list(name);
}

export function useTheme() {
    return useAppSelector(getTheme);
}

/** Calls a plugin callback the host invokes (button, menu item), isolating a throw. */
export function useSafeCall() {
    const {report} = useHost();
    return useCallback((r: Registration, fn: ((...a: any[]) => unknown) | undefined, ...args: unknown[]) => {
        const fail = (error: unknown) => report({pluginId: r.pluginId, where: 'handler', error, slot: r.slot, registrationId: r.id});
        try {
            const res = fn?.(...args);
            if (res && typeof (res as Promise<unknown>).catch === 'function') {
                (res as Promise<unknown>).catch(fail);
            }
            return res;
        } catch (e) {
            fail(e);
            return undefined;
        }
    }, [report]);
}

export function PluginNotice({pluginId, registrationId}: {pluginId: string; registrationId?: string}) {
    const dispatch = useAppDispatch();
    const retry = () => dispatch(registrationId ? pluginsActions.crashCleared(registrationId) : pluginsActions.recovered(pluginId));
    return (
        <div className='plugin-error' role='alert' data-plugin-id={pluginId}>
            {`An error occurred in the ${pluginId} plugin.`}{' '}
            <button type='button' className='link-button' onClick={retry}>{'Refresh?'}</button>
        </div>
    );
}

interface BoundaryProps {
    registration: Registration;
    crashed: boolean;
    onCrash: (error: unknown) => void;
    children: ReactNode;
}

class PluginErrorBoundary extends Component<BoundaryProps, {error: boolean}> {
    override state = {error: false};

    static getDerivedStateFromError() {
        return {error: true};
    }

    override componentDidCatch(error: unknown, _info: ErrorInfo) {
        this.props.onCrash(error);
    }

    override componentDidUpdate(prev: BoundaryProps) {
        // The notice's "Refresh?" cleared the crash in the store: try again.
        if (prev.crashed && !this.props.crashed && this.state.error) {
            this.setState({error: false});
        }
    }

    override render() {
        const {registration: r, crashed, children} = this.props;
        if (this.state.error || crashed) {
            return <PluginNotice pluginId={r.pluginId} registrationId={r.id}/>;
        }
        return children;
    }
}

/** One registration inside its boundary, marked with its plugin for tests and tools. */
export function Boundary({registration: r, children}: {registration: Registration; children: ReactNode}) {
    const {report} = useHost();
    const crashed = useAppSelector((s) => Boolean(s.plugins.crashedRegistrations[r.id]));
    const onCrash = useCallback((error: unknown) =>
        report({pluginId: r.pluginId, where: 'render', error, slot: r.slot, registrationId: r.id}), [report, r]);
    return (
        <PluginErrorBoundary registration={r} crashed={crashed} onCrash={onCrash}>
            <span className='plugin-slot' data-plugin-id={r.pluginId} data-slot={r.slot}>{children}</span>
        </PluginErrorBoundary>
    );
}

/** Plugins that crashed as a whole (initialize, load, an uncaught handler error) and belong in this slot. */
export function useCrashedPlugins(name: SlotName, regs: Registration[]): string[] {
    const status = useAppSelector((s) => s.plugins.status);
    const manifests = useAppSelector((s) => s.plugins.plugins);
    return Object.keys(status).filter((id) => status[id].phase === 'crashed' &&
        (regs.some((r) => r.pluginId === id) || manifests[id]?.slots.some((f) => f.slot === name)));
}

interface SlotProps {
    name: SlotName;
    /** Props Mattermost passes in this place; theme and webSocketClient are added. */
    props?: Record<string, unknown>;
    /** For action slots (buttons, menu items): how to render one registration. */
    render?: (r: Registration) => ReactNode;
    /** Only this registration (the RHS shows one). */
    only?: string;
}

export function Slot({name, props, render, only}: SlotProps) {
    const host = useHost();
    const theme = useTheme();
    const all = useSlot(name);
    const regs = only ? all.filter((r) => r.id === only) : all;
    const crashed = useCrashedPlugins(name, regs);
    return (
        <>
            {regs.filter((r) => !crashed.includes(r.pluginId)).map((r) => {
                const C = r.component;
                return (
                    <Boundary key={r.id} registration={r}>
                        {render ? render(r) : C ? <C {...props} theme={theme} webSocketClient={host.mmSocket}/> : null}
                    </Boundary>
                );
            })}
            {!only && crashed.map((id) => <PluginNotice key={id} pluginId={id}/>)}
        </>
    );
}
