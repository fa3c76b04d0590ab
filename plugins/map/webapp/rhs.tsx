// The right-hand sidebar (registerRightHandSidebarComponent) opened by the
// "Show on map" post action: a larger map of the place found in a message,
// with zoom buttons.
import type {HostProps, PluginStore} from '@mmtoolkit/webapp';
import {useEffect, useMemo, useState, useSyncExternalStore} from 'react';
import {FormattedMessage, useIntl} from 'react-intl';

import {DEFAULT_ZOOM, ZOOM_SPANS_KM, countryAt} from '../shared/geo';
import {defaultMessages} from '../shared/i18n';

import {PlaceLine} from './location_post';
import {MapSvg} from './map_svg';
import {selectShown} from './state';

const RHS_SIZE = {width: 360, height: 320};

export function makeMapRHS(store: PluginStore) {
    const subscribe = (cb: () => void) => store.subscribe(cb);
    const getShown = () => selectShown(store.getState());

    return function MapRHS({theme}: HostProps) {
        const intl = useIntl();
        const shown = useSyncExternalStore(subscribe, getShown);
        const [zoom, setZoom] = useState(DEFAULT_ZOOM);
        useEffect(() => setZoom(DEFAULT_ZOOM), [shown]);
        const country = useMemo(() => (shown ? countryAt(shown.location.longitude, shown.location.latitude) : ''), [shown]);
        if (!shown) {
            return (
                <div className='mmtoolkit-map-rhs' style={{padding: 16}}>
                    <p><FormattedMessage id='map.rhs.empty' defaultMessage={defaultMessages['map.rhs.empty']}/></p>
                </div>
            );
        }
        const button = {
            width: 32, height: 32, fontSize: 18, lineHeight: '18px', cursor: 'pointer', borderRadius: 4,
            border: `1px solid ${theme.buttonBg}`, background: theme.centerChannelBg, color: theme.buttonBg,
        };
        const zoomIn = intl.formatMessage({id: 'map.zoom_in', defaultMessage: defaultMessages['map.zoom_in']});
        const zoomOut = intl.formatMessage({id: 'map.zoom_out', defaultMessage: defaultMessages['map.zoom_out']});
        return (
            <div className='mmtoolkit-map-rhs' style={{padding: 16}} data-post-id={shown.postId}>
                <div style={{position: 'relative'}}>
                    <MapSvg
                        location={shown.location}
                        theme={theme}
                        width={RHS_SIZE.width}
                        height={RHS_SIZE.height}
                        zoom={zoom}
                        country={country}
                    />
                    <div role='group' aria-label={`${zoomIn} / ${zoomOut}`} style={{position: 'absolute', top: 8, right: 8, display: 'flex', flexDirection: 'column', gap: 4}}>
                        <button type='button' className='map-zoom-in' aria-label={zoomIn} title={zoomIn} style={button} disabled={zoom >= ZOOM_SPANS_KM.length - 1} onClick={() => setZoom((z) => z + 1)}>{'+'}</button>
                        <button type='button' className='map-zoom-out' aria-label={zoomOut} title={zoomOut} style={button} disabled={zoom <= 0} onClick={() => setZoom((z) => z - 1)}>{'−'}</button>
                    </div>
                </div>
                <PlaceLine location={shown.location} country={country} theme={theme}/>
                {shown.message && (
                    <figure style={{margin: '12px 0 0'}}>
                        <figcaption style={{fontSize: 12, opacity: 0.78}}>
                            <FormattedMessage id='map.rhs.from_post' defaultMessage={defaultMessages['map.rhs.from_post']}/>
                        </figcaption>
                        <blockquote className='mmtoolkit-map-quote' style={{margin: '4px 0 0', paddingLeft: 8, borderLeft: `3px solid ${theme.buttonBg}`}}>
                            {shown.message}
                        </blockquote>
                    </figure>
                )}
            </div>
        );
    };
}
