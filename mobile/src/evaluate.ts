// Evaluation of a plugin bundle: the contract of bundler.Build (Go).
//
//   const module = {exports: {}};
//   new Function("require", "module", "exports", js)(hostRequire, module, module.exports);
//
// Bytecode bundles call globalThis.__mmtoolkitDefine(factory) when the
// app's native evaluator runs them; factory is the same function.

export type HostRequire = (name: string) => unknown;
export type ModuleFactory = (require: HostRequire, module: {exports: any}, exports: any) => void;

/** The global a bytecode bundle calls (bundler.DefineGlobal in Go). */
export const DEFINE_GLOBAL = '__mmtoolkitDefine';

/** Runs hbc bytes in the app's Hermes (a native module); not possible from JS. */
export interface BytecodeEvaluator {
  /** The app's HermesInternal.getRuntimeProperties()['Bytecode Version']. */
  version: number;
  /** Evaluates the bytecode synchronously, in the global scope. */
  evaluate(bytes: Uint8Array, url: string): void;
}

export function hostRequireFor(modules: Record<string, unknown>): HostRequire {
  return (name: string) => {
    if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
    throw new Error(`module "${name}" is not provided by the host; host modules: ${Object.keys(modules).join(', ')}`);
  };
}

export function factoryFromJS(js: string, url: string): ModuleFactory {
  // The sourceURL names the bundle in stack traces.
  // eslint-disable-next-line no-new-func
  return new Function('require', 'module', 'exports', js + '\n//# sourceURL=' + url) as ModuleFactory;
}

export function factoryFromBytecode(evaluator: BytecodeEvaluator, bytes: Uint8Array, url: string): ModuleFactory {
  const g = globalThis as any;
  let defined: ModuleFactory | undefined;
  const previous = g[DEFINE_GLOBAL];
  g[DEFINE_GLOBAL] = (f: ModuleFactory) => {
    defined = f;
  };
  try {
    evaluator.evaluate(bytes, url);
  } finally {
    g[DEFINE_GLOBAL] = previous;
  }
  if (!defined) throw new Error(`bytecode bundle ${url} did not call ${DEFINE_GLOBAL}`);
  return defined;
}

/** Runs a factory and returns module.exports. */
export function runFactory(factory: ModuleFactory, require: HostRequire): any {
  const module = {exports: {} as any};
  factory(require, module, module.exports);
  return module.exports;
}
