import a from 'a';
import b from 'b';

window.registerPlugin('com.example.nested', {
    initialize(registry: any) {
        registry.registerRootComponent(() => <p>{`${a}, entry uses ${b}`}</p>);
    },
});
