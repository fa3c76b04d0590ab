// @mmtoolkit/mobile: the React Native host of mmtoolkit plugins. See
// docs/mobile.md for the protocol and a complete example.
export {PluginHost, HOST_RUNTIME_VERSION, SIGNATURE_HEADER} from './host';
export type {PluginHostOptions, LoadResult, PluginStatus, PluginState, MobilePlugin, HostContext} from './host';
export {PluginHostProvider, Slot, PluginErrorBoundary, usePluginHost, useSlot} from './react';
export type {SlotProps} from './react';
export {MemoryStorage, asyncStorageAdapter} from './storage';
export type {PluginStorage, AsyncStorageLike} from './storage';
export {DEFINE_GLOBAL} from './evaluate';
export type {BytecodeEvaluator} from './evaluate';
export type {Registration} from './registry';
export * from './types';
