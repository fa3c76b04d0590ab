// React side of the host: <PluginHostProvider>, <Slot> and the error
// boundary every registration renders in.
import {Component, createContext, ErrorInfo, ReactNode, useContext, useSyncExternalStore} from 'react';
import {Pressable} from 'react-native';

import type {PluginHost} from './host';
import type {Registration} from './registry';
import type {SlotName} from './types';

const HostContext = createContext<PluginHost | null>(null);

export function PluginHostProvider({host, children}: {host: PluginHost; children?: ReactNode}) {
  return <HostContext.Provider value={host}>{children}</HostContext.Provider>;
}

export function usePluginHost(): PluginHost {
  const host = useContext(HostContext);
  if (!host) throw new Error('usePluginHost: render inside <PluginHostProvider host={...}>');
  return host;
}

/** The registrations of a slot; re-renders when plugins change. */
export function useSlot(name: SlotName): Registration[] {
  const host = usePluginHost();
  const all = useSyncExternalStore(host.subscribe, host.getSnapshot, host.getSnapshot);
  return all[name];
}

interface BoundaryProps {
  host: PluginHost;
  registration: Registration;
  slot: SlotName;
  children?: ReactNode;
}

/**
 * Isolates one registration (Mattermost's PluggableErrorBoundary): a throw
 * in it renders nothing in its place and tells the host, which decides
 * whether the version is bad (it never rendered) and falls back.
 */
export class PluginErrorBoundary extends Component<BoundaryProps, {failed: boolean}> {
  state = {failed: false};

  static getDerivedStateFromError() {
    return {failed: true};
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    if (info?.componentStack && error && !error.stack?.includes(info.componentStack)) {
      try {
        error.stack = `${error.stack ?? error.message}\n${info.componentStack}`;
      } catch {
        // frozen errors keep their stack
      }
    }
    this.props.host.renderCrashed(this.props.registration, error, this.props.slot);
  }

  componentDidMount() {
    if (!this.state.failed) this.props.host.rendered(this.props.registration);
  }

  render() {
    return this.state.failed ? null : this.props.children;
  }
}

export type SlotProps = {
  name: SlotName;
  /** Rendered when no plugin fills the slot (e.g. the app's own post body). */
  fallback?: ReactNode;
  [prop: string]: unknown;
};

/**
 * Renders every registration of a slot with the props given, each in its
 * own error boundary. post_type renders the registrations for post.type.
 */
export function Slot({name, fallback = null, ...props}: SlotProps) {
  const host = usePluginHost();
  let regs = useSlot(name);
  if (name === 'post_type') {
    const type = (props.post as {type?: string} | undefined)?.type;
    regs = regs.filter((r) => r.postType === type).slice(-1); // the last registration wins, as in Mattermost
  }
  if (regs.length === 0) return <>{fallback}</>;
  return (
    <>
      {regs.map((r) => (
        <PluginErrorBoundary key={r.id} host={host} registration={r} slot={name}>
          {renderRegistration(r, props)}
        </PluginErrorBoundary>
      ))}
    </>
  );
}

function renderRegistration(r: Registration, props: Record<string, unknown>): ReactNode {
  if (r.component) {
    const C = r.component;
    return <C {...props} />;
  }
  // Mattermost's element form of a call button: press runs the action.
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={r.text}
      testID={`plugin-${r.pluginId}-call-button`}
      onPress={() => r.action?.(props.channel, props.channelMember)}>
      {r.element as ReactNode}
    </Pressable>
  );
}
