// The map itself: an SVG drawn from shared/geo's model (sea, graticule,
// land, borders, the marker and its label, a scale bar), coloured from the
// theme. No tiles, no network: the geometry is in the bundle.
import type {Theme} from '@mmtoolkit/webapp';
import {useMemo} from 'react';
import {useIntl} from 'react-intl';

import {mapColors} from '../shared/colors';
import {formatCoordinates, type Location} from '../shared/coords';
import {EARTH_RADIUS_KM, ZOOM_SPANS_KM, clampZoom, projectionFor, scaleBar, svgPaths} from '../shared/geo';
import {defaultMessages} from '../shared/i18n';

export interface MapSvgProps {
    location: Location;
    theme: Theme;
    width: number;
    height: number;
    zoom: number;
    /** The country the place lies in, for the accessible label. */
    country?: string;
}

const MAX_LABEL_CHARS = 36;

function shorten(s: string): string {
    const chars = [...s];
    return chars.length > MAX_LABEL_CHARS ? `${chars.slice(0, MAX_LABEL_CHARS - 1).join('')}…` : s;
}

export function MapSvg({location, theme, width, height, zoom, country}: MapSvgProps) {
    const intl = useIntl();
    const {latitude, longitude, label} = location;
    const z = clampZoom(zoom);
    const view = useMemo(() => {
        const v = {latitude, longitude, width, height, zoom: z};
        const projection = projectionFor(v);
        return {paths: svgPaths(v), scale: scaleBar(projection, width), projectionScale: projection.scale()};
    }, [latitude, longitude, width, height, z]);
    const colors = mapColors(theme);
    const coordinates = formatCoordinates(latitude, longitude);
    const place = [label, country].filter(Boolean).join(', ') || coordinates;
    const aria = intl.formatMessage({id: 'map.post.aria', defaultMessage: defaultMessages['map.post.aria']}, {place, coordinates});
    const [mx, my] = view.paths.marker;
    // The label goes right of the marker, or left when it would run off.
    const text = shorten(label);
    const labelLeft = mx + 12 + (text.length * 7) > width;
    const barX = 12;
    const barY = height - 14;
    return (
        <svg
            className='mmtoolkit-map-svg'
            role='img'
            aria-label={aria}
            viewBox={`0 0 ${width} ${height}`}
            width='100%'
            preserveAspectRatio='xMidYMid meet'
            style={{display: 'block', maxWidth: width, borderRadius: 4, background: colors.sea}}
            data-center={`${longitude},${latitude}`}
            data-scale={view.projectionScale}
            data-span-km={ZOOM_SPANS_KM[z]}
            data-earth-radius-km={EARTH_RADIUS_KM}
        >
            <title>{aria}</title>
            <path className='map-sea' d={view.paths.sphere} fill={colors.sea}/>
            <path className='map-graticule' d={view.paths.graticule} fill='none' stroke={colors.graticule} strokeWidth={1}/>
            <path className='map-land' d={view.paths.land} fill={colors.land}/>
            <path className='map-coasts' d={view.paths.coasts} fill='none' stroke={colors.coast} strokeWidth={0.75}/>
            <path className='map-borders' d={view.paths.borders} fill='none' stroke={colors.border} strokeWidth={0.75} strokeDasharray='3 2'/>
            <g className='map-marker' transform={`translate(${mx},${my})`}>
                <circle r={11} fill={colors.marker} opacity={0.2}/>
                <circle r={5.5} fill={colors.marker} stroke={colors.markerStroke} strokeWidth={2}/>
            </g>
            {text && (
                <text
                    className='map-label'
                    x={labelLeft ? mx - 12 : mx + 12}
                    y={my + 4}
                    textAnchor={labelLeft ? 'end' : 'start'}
                    fill={colors.text}
                    stroke={colors.halo}
                    strokeWidth={3}
                    strokeLinejoin='round'
                    paintOrder='stroke'
                    style={{font: '600 13px sans-serif'}}
                >
                    {text}
                </text>
            )}
            <g className='map-scale' aria-hidden='true'>
                <path
                    d={`M${barX},${barY - 4}V${barY}H${barX + view.scale.px}V${barY - 4}`}
                    fill='none'
                    stroke={colors.text}
                    strokeWidth={1.5}
                />
                <text x={barX} y={barY - 7} fill={colors.text} stroke={colors.halo} strokeWidth={3} paintOrder='stroke' style={{font: '11px sans-serif'}}>
                    {intl.formatMessage({id: 'map.scale', defaultMessage: defaultMessages['map.scale']}, {distance: intl.formatNumber(view.scale.km)})}
                </text>
            </g>
        </svg>
    );
}
