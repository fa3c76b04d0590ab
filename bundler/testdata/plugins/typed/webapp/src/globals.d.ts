declare global {
    interface Window {
        registerPlugin(id: string, plugin: unknown): void;
    }
}
export {};
