import type {Post, Renderer} from './types';
import {Level, LEVEL_NAMES} from './types';

abstract class Base<T> {
    protected abstract value(): T;
    describe(): string {
        return String(this.value());
    }
}

class Counter extends Base<number> {
    #count = 0;
    protected value(): number {
        this.#count += Level.High;
        return this.#count;
    }
}

function first<T>(xs: readonly T[]): T | undefined {
    return xs[0];
}

const PostView: Renderer<{post: Post}> = ({post}) => {
    const level = post.message.length > 3 ? Level.High : Level.Low;
    const config = {level, name: LEVEL_NAMES[level]} satisfies {level: Level; name: string};
    return (
        <div className={`post-${config.name}`}>
            {post.message!}{' '}{new Counter().describe()}{' '}{first(['x', 'y'] as const)}
            {post.props?.missing ?? 'no props'}
        </div>
    );
};

window.registerPlugin('com.example.typed', {
    initialize(registry: {registerPostTypeComponent(type: string, c: unknown): string}) {
        registry.registerPostTypeComponent('custom_typed', PostView);
    },
});
