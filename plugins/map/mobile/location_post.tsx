// The custom_map_location post on mobile. React Native has no vector drawing
// without a native module (react-native-svg is not a host module), so the
// map is the same projection as the web's, rasterized: land is drawn as
// horizontal runs of Views, one row every 2 px (shared/geo rasterize), over
// a sea-coloured box, with the marker and label on top. Borders and the
// graticule are left out at this resolution.
import {useMemo} from 'react';
import {StyleSheet, Text, View} from 'react-native';

import {mapColors, type MapTheme} from '../shared/colors';
import {formatCoordinates, locationFromProps, locationPost} from '../shared/coords';
import {DEFAULT_ZOOM, countryAt, rasterize, shapes, type Run} from '../shared/geo';
import {translate} from '../shared/i18n';

export const MAP_WIDTH = 300;
export const MAP_HEIGHT = 160;
export const MAP_ROWS = 80;

export interface LocationPostProps {
    post: {id: string; message: string; type?: string; props?: Record<string, unknown> | null};
    theme?: Partial<MapTheme>;
    /** The app's locale, when it passes one: English otherwise. */
    locale?: string;
}

/** The land of a view as runs, memoized per place. */
export function landRuns(latitude: number, longitude: number): Run[] {
    const view = {latitude, longitude, width: MAP_WIDTH, height: MAP_HEIGHT, zoom: DEFAULT_ZOOM};
    return rasterize(view, shapes(view).land, MAP_ROWS);
}

export function LocationPost({post, theme, locale}: LocationPostProps) {
    const location = useMemo(() => locationFromProps(post.props), [post.props]);
    const runs = useMemo(() => (location ? landRuns(location.latitude, location.longitude) : []), [location]);
    const country = useMemo(() => (location ? countryAt(location.longitude, location.latitude) : ''), [location]);
    const colors = mapColors(theme);
    if (!location) {
        return (
            <View testID='map-post-invalid'>
                {post.message ? <Text style={{color: colors.text}}>{post.message}</Text> : null}
                <Text style={{color: colors.text, fontStyle: 'italic'}}>{translate(locale, 'map.post.invalid')}</Text>
            </View>
        );
    }
    const coordinates = formatCoordinates(location.latitude, location.longitude);
    const place = [location.label, country].filter(Boolean).join(', ') || coordinates;
    const caption = post.message && post.message !== locationPost('', '', location).message ? post.message : '';
    const rowHeight = MAP_HEIGHT / MAP_ROWS;
    return (
        <View testID='map-post'>
            {caption ? <Text style={[styles.caption, {color: colors.text}]}>{caption}</Text> : null}
            <View
                testID='map-view'
                accessible={true}
                accessibilityRole='image'
                accessibilityLabel={translate(locale, 'map.post.aria', {place, coordinates})}
                style={[styles.map, {backgroundColor: colors.sea}]}
            >
                {runs.map((r) => (
                    <View
                        key={`${r.y}:${r.x0}`}
                        testID='map-land'
                        style={{position: 'absolute', top: r.y * rowHeight, left: r.x0, width: r.x1 - r.x0, height: rowHeight + 0.5, backgroundColor: colors.land}}
                    />
                ))}
                <View testID='map-marker' style={[styles.marker, {backgroundColor: colors.marker, borderColor: colors.markerStroke}]}/>
                {location.label ? (
                    <Text numberOfLines={1} style={[styles.label, {color: colors.text, textShadowColor: colors.halo}]}>{location.label}</Text>
                ) : null}
            </View>
            <Text style={[styles.place, {color: colors.text}]}>
                {location.label ? <Text style={styles.bold}>{`${location.label}  `}</Text> : null}
                {coordinates}
                {country ? ` ${translate(locale, 'map.post.country', {country})}` : ''}
            </Text>
        </View>
    );
}

const MARKER = 12;

const styles = StyleSheet.create({
    caption: {marginBottom: 6},
    map: {width: MAP_WIDTH, height: MAP_HEIGHT, borderRadius: 4, overflow: 'hidden'},
    marker: {
        position: 'absolute', left: (MAP_WIDTH - MARKER) / 2, top: (MAP_HEIGHT - MARKER) / 2,
        width: MARKER, height: MARKER, borderRadius: MARKER / 2, borderWidth: 2,
    },
    label: {
        position: 'absolute', left: (MAP_WIDTH / 2) + 10, top: (MAP_HEIGHT / 2) - 9, maxWidth: (MAP_WIDTH / 2) - 14,
        fontWeight: '600', fontSize: 13, textShadowRadius: 3, textShadowOffset: {width: 0, height: 0},
    },
    place: {marginTop: 6},
    bold: {fontWeight: '600'},
});
