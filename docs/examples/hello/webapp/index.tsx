import React from 'react';

import './hello.css';

type Post = {id: string; message: string; props?: Record<string, unknown>};

function HelloPost({post}: {post: Post}) {
    const name = typeof post.props?.name === 'string' ? post.props.name : 'world';
    return <div className='hello-post'>{`Hello, ${name}!`} <small>{post.message}</small></div>;
}

const manifest = {id: 'com.example.hello'};

class Plugin {
    initialize(registry: any) {
        registry.registerPostTypeComponent('custom_hello', HelloPost);
        registry.registerChannelHeaderButtonAction(
            <span aria-label='Say hello'>{'👋'}</span>,
            () => window.alert('Hello from a plugin'),
            'Say hello',
            'Say hello',
        );
    }
}

declare global {
    interface Window {
        registerPlugin(id: string, plugin: Plugin): void;
    }
}

window.registerPlugin(manifest.id, new Plugin());
