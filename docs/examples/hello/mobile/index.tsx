import React from 'react';
import {Text, View} from 'react-native';

type Post = {id: string; message: string; props?: Record<string, unknown>};

function HelloPost({post}: {post: Post}) {
    const name = typeof post.props?.name === 'string' ? post.props.name : 'world';
    return (
        <View>
            <Text>{`Hello, ${name}!`}</Text>
        </View>
    );
}

export function initialize(registry: {registerPostTypeComponent(type: string, c: unknown): string}) {
    registry.registerPostTypeComponent('custom_hello', HelloPost);
}
