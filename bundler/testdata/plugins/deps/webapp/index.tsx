import tiny from 'tiny';
import {used} from 'esm-only';
import feature from '@scope/multi/feature';
import extra from '@scope/multi/extra';

const Deps = () => <ul>{[tiny(), used, feature, extra].map((s) => <li key={s}>{s}</li>)}</ul>;

window.registerPlugin('com.example.deps', {
    initialize(registry: any) {
        registry.registerRootComponent(Deps);
    },
});
