export interface Post {
    id: string;
    message: string;
    props?: Record<string, unknown>;
}

export type Renderer<P> = (props: P) => JSX.Element | null;

export enum Level {
    Low = 1,
    High,
}

export const LEVEL_NAMES = {[Level.Low]: 'low', [Level.High]: 'high'} as const;
