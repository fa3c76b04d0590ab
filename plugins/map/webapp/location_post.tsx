// The custom_map_location post renderer (registerPostTypeComponent): the
// post's caption, the map, and a line with the place, its coordinates and
// a link to open it in a full map.
import type {PostTypeProps} from '@mmtoolkit/webapp';
import {useMemo} from 'react';
import {FormattedMessage} from 'react-intl';

import {mapColors} from '../shared/colors';
import {formatCoordinates, locationFromProps, locationPost, type Location} from '../shared/coords';
import {DEFAULT_ZOOM, countryAt} from '../shared/geo';
import {defaultMessages} from '../shared/i18n';

import {MapSvg} from './map_svg';

export const POST_MAP_SIZE = {width: 480, height: 260};

/** openstreetmap.org at the place: a plain link, fetched only if the user follows it. */
export function osmURL({latitude, longitude}: Location, zoom = 12): string {
    return `https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=${zoom}/${latitude}/${longitude}`;
}

export function PlaceLine({location, country, theme}: {location: Location; country: string; theme: PostTypeProps['theme']}) {
    const colors = mapColors(theme);
    return (
        <div className='mmtoolkit-map-place' style={{marginTop: 6, display: 'flex', flexWrap: 'wrap', gap: '4px 12px', alignItems: 'baseline'}}>
            {location.label && <strong className='mmtoolkit-map-label'>{location.label}</strong>}
            <span className='mmtoolkit-map-coords' style={{color: colors.text, opacity: 0.78, fontVariantNumeric: 'tabular-nums'}}>
                {formatCoordinates(location.latitude, location.longitude)}
                {country && (
                    <>
                        {' '}
                        <FormattedMessage id='map.post.country' defaultMessage={defaultMessages['map.post.country']} values={{country}}/>
                    </>
                )}
            </span>
            <a
                href={osmURL(location)}
                target='_blank'
                rel='noopener noreferrer'
                style={{color: theme.linkColor}}
            >
                <FormattedMessage id='map.post.open_osm' defaultMessage={defaultMessages['map.post.open_osm']}/>
            </a>
        </div>
    );
}

export function LocationPost({post, theme, isRHS}: PostTypeProps) {
    const location = useMemo(() => locationFromProps(post.props), [post.props]);
    const country = useMemo(() => (location ? countryAt(location.longitude, location.latitude) : ''), [location]);
    if (!location) {
        return (
            <div className='mmtoolkit-map-post mmtoolkit-map-invalid'>
                {post.message && <p style={{margin: 0}}>{post.message}</p>}
                <p style={{margin: 0, color: theme.errorTextColor}} role='note'>
                    <FormattedMessage id='map.post.invalid' defaultMessage={defaultMessages['map.post.invalid']}/>
                </p>
            </div>
        );
    }
    // Posts made by /location carry the place in their message, for clients
    // without the plugin: no need to repeat it as a caption.
    const caption = post.message && post.message !== locationPost('', '', location).message ? post.message : '';
    const size = isRHS ? {width: 360, height: 220} : POST_MAP_SIZE;
    return (
        <div className='mmtoolkit-map-post' data-testid='map-post'>
            {caption && <p style={{margin: '0 0 6px'}}>{caption}</p>}
            <MapSvg location={location} theme={theme} width={size.width} height={size.height} zoom={DEFAULT_ZOOM} country={country}/>
            <PlaceLine location={location} country={country} theme={theme}/>
        </div>
    );
}
