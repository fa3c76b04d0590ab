// No React import: the automatic runtime brings jsx() in.
import {useState} from 'react';

import {Item} from './item';

function List({items}: {items: string[]}) {
    const [selected] = useState(1);
    return (
        <>
            <ul className='list'>
                {items.map((it, i) => <Item key={it} label={it} active={i === selected}/>)}
            </ul>
            <span {...{title: 'spread'}} key='after-spread'>tail</span>
        </>
    );
}

window.registerPlugin('com.example.automatic', {
    initialize(registry: any) {
        registry.registerRootComponent(() => <List items={['a', 'b', 'c']}/>);
    },
});
