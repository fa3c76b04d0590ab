import Foo from 'components/foo';
import {upper} from '@utils/strings';
import config from '@config';

window.registerPlugin('com.example.paths', {
    initialize(registry: any) {
        registry.registerRootComponent(() => <Foo text={upper(config.greeting)}/>);
    },
});
