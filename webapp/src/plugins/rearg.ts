// reArg is Mattermost's calling convention for registry methods (utils/func.ts):
// a method takes positional arguments in its documented order, or one plain
// object whose keys are a subset of the parameter names.

function isPlainObject(v: unknown): v is Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        return false;
    }
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
}

export function reArg<A extends unknown[], R>(keyOrder: string[], fn: (...args: A) => R): (...args: unknown[]) => R {
    return (...args: unknown[]) => {
        const [first] = args;
        // React elements are plain objects too, but carry $$typeof, which is
        // not a parameter name, so an element passed positionally stays one.
        if (args.length === 1 && isPlainObject(first) && Object.keys(first).every((k) => keyOrder.includes(k))) {
            return fn(...(keyOrder.map((k) => first[k]) as A));
        }
        return fn(...(args as A));
    };
}
