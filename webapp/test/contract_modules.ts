// What the contract tests (contracts.test.ts, contracts_build.test.ts)
// share about the host modules.

/** The host modules in the main bundle, set by installGlobals; react-dom/client is folded into react-dom. */
export const coreModules = {react: true, 'react-dom': true, 'react-dom/client': true, redux: true, 'react-redux': true, 'prop-types': true};

/** build.mjs's entry point of a lazy host module. */
export function lazyEntry(module: string): string {
    return `src/modules/${module.replace(/-/g, '_')}.ts`;
}
