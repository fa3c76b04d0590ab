// mmtoolkit.map, web part: registers the location post renderer, the
// /location command, the "Show on map" post action and its sidebar.
import type {Plugin, PluginRegistry, PluginStore, Post, SlashCommandHookResult} from '@mmtoolkit/webapp';
import {FormattedMessage} from 'react-intl';

import {findCoordinates, isLocationCommand, locationFromProps, locationPost, parseLocationCommand} from '../shared/coords';
import {defaultMessages, messagesFor, translate} from '../shared/i18n';

import {createPost} from './client';
import {LocationPost} from './location_post';
import {makeMapRHS} from './rhs';
import {PLUGIN_ID, reducer, show, type Shown} from './state';

const POST_TYPE = 'custom_map_location';

/** The signed-in user's locale (Mattermost keeps it on the profile). */
function userLocale(store: PluginStore): string | undefined {
    const users = store.getState().entities.users;
    return users.profiles[users.currentUserId]?.locale;
}

/** The place a post shows on the map: a location post's props, or coordinates in its message. */
export function placeOf(post: Post | undefined): Shown | null {
    if (!post) {
        return null;
    }
    if ((post.type as string) === POST_TYPE) {
        const location = locationFromProps(post.props);
        if (location) {
            return {location, postId: post.id, message: ''};
        }
    }
    const found = findCoordinates(post.message ?? '');
    if (!found) {
        return null;
    }
    const {latitude, longitude, label} = found;
    return {location: {latitude, longitude, label}, postId: post.id, message: post.message};
}

class MapPlugin implements Plugin {
    initialize(registry: PluginRegistry, store: PluginStore) {
        registry.registerTranslations((locale) => messagesFor(locale));
        registry.registerReducer(reducer);

        // Renders every custom_map_location post, in the centre and the RHS.
        registry.registerPostTypeComponent(POST_TYPE, LocationPost);

        // /location <lat>,<lng> [label]: posts a location through the proxy
        // and swallows the command ({}), or refuses it with a message the
        // composer shows ({error}); other commands pass through unchanged.
        registry.registerSlashCommandWillBePostedHook(async (message, args): Promise<SlashCommandHookResult> => {
            if (!isLocationCommand(message)) {
                return {message, args};
            }
            const locale = userLocale(store);
            const parsed = parseLocationCommand(message);
            if (!parsed.ok) {
                return {error: {message: translate(locale, parsed.error)}};
            }
            try {
                await createPost(locationPost(args.channel_id, args.root_id ?? '', parsed.location));
            } catch (e) {
                return {error: {message: translate(locale, 'map.command.failed', {error: (e as Error).message})}};
            }
            return {};
        });

        // "Show on map" in the post menu of posts with a place: the RHS shows it.
        const rhs = registry.registerRightHandSidebarComponent(
            makeMapRHS(store),
            <FormattedMessage id='map.rhs.title' defaultMessage={defaultMessages['map.rhs.title']}/>,
        );
        const postById = (postId: string) => store.getState().entities.posts.posts[postId] as Post | undefined;
        registry.registerPostDropdownMenuAction(
            <FormattedMessage id='map.action.show' defaultMessage={defaultMessages['map.action.show']}/>,
            (postId) => {
                const place = placeOf(postById(postId));
                if (place) {
                    store.dispatch(show(place));
                    store.dispatch(rhs.showRHSPlugin as never);
                }
            },
            (postId) => placeOf(postById(postId)) !== null,
        );
    }
}

window.registerPlugin(PLUGIN_ID, new MapPlugin());
