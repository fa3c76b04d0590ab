import {defineConfig} from 'vitest/config';

export default defineConfig({
    esbuild: {jsx: 'automatic'},
    test: {
        environment: 'jsdom',
        include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
        // One worker: the machine has two cores and the Go tests run too.
        pool: 'threads',
        poolOptions: {threads: {singleThread: true}},
    },
});
