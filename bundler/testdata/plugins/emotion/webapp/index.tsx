const Title = () => <h2 css='color: hotpink'>{'styled'}</h2>;

window.registerPlugin('com.example.emotion', {
    initialize(registry: any) {
        registry.registerRootComponent(Title);
    },
});
