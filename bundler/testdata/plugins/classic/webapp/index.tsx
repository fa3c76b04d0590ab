import React from 'react';

type Props = {name: string};

class Hello extends React.Component<Props> {
    render() {
        return (
            <React.Fragment>
                <h1 className='title'>{'Hello ' + this.props.name}</h1>
                <p>{'classic runtime'}</p>
            </React.Fragment>
        );
    }
}

const Root = () => <Hello name='classic'/>;

class Plugin {
    public async initialize(registry: any) {
        registry.registerRootComponent(Root);
    }
}

window.registerPlugin('com.example.classic', new Plugin());
