// webpack "context" imports: the file is chosen at run time.
export default class Plugin {
    async initialize(registry) {
        registry.registerTranslations((locale) => require(`./i18n/${locale}.json`));
        const name = 'weather';
        const panel = await import('./panels/' + name + '.jsx');
        registry.registerRootComponent(panel.default);
        const missing = await import(`./panels/${name}-missing.jsx`).catch((e) => e.code);
        registry.registerRightHandSidebarComponent(() => <i>{missing}</i>, 'missing');
    }
}

window.registerPlugin('com.example.context', new Plugin());
