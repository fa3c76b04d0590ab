// regenerator-runtime ships no types; the host only puts it on window.
declare module 'regenerator-runtime/runtime' {
    const runtime: unknown;
    export default runtime;
}
