import {Text, View} from 'react-native';

type Post = {id: string; message?: string; props?: {title?: string}};

class Formatter {
    prefix = '> ';
    format(post: Post) {
        return this.prefix + (post.message ?? '') + (post.props?.title ?? '');
    }
}

const Card = ({post}: {post: Post}) => (
    <View>
        <Text>{new Formatter().format(post)}</Text>
    </View>
);

export default {
    initialize(registry: {registerPostTypeComponent(type: string, c: unknown): string}) {
        registry.registerPostTypeComponent('custom_mobile', Card);
    },
};
