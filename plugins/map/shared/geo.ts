// The map model both renderers draw: world geometry (parsed once, on first
// use), an azimuthal equidistant projection centred on the place, and what is
// drawn on it. The web part turns it into SVG paths; the mobile part into
// horizontal runs of Views (rasterize below).
import {geoAzimuthalEquidistant, geoBounds, geoContains, geoGraticule, geoPath, type GeoContext, type GeoPermissibleObjects, type GeoProjection} from 'd3-geo';
import type {Feature, FeatureCollection, GeoJsonProperties, Geometry, MultiLineString} from 'geojson';
import {feature, mesh} from 'topojson-client';
import type {GeometryCollection, Topology} from 'topojson-specification';

import {WORLD_TOPOJSON} from './world_data';

/** Mean Earth radius in km (the sphere d3-geo projects). */
export const EARTH_RADIUS_KM = 6371.0088;

/** Spans (km across the map's width) from far to near: the zoom levels. */
export const ZOOM_SPANS_KM = [20000, 8000, 4000, 2000, 1000, 500];
/** The post's default zoom: a region around the place (about 2,000 km across). */
export const DEFAULT_ZOOM = 3;

interface Country {
    name: string;
    feature: Feature<Geometry, GeoJsonProperties>;
    bounds: [[number, number], [number, number]];
}

export interface World {
    land: FeatureCollection | Feature;
    borders: MultiLineString;
    countries: Country[];
}

let world: World | undefined;

/**
 * The world geometry: the TopoJSON text is parsed and converted on first use
 * (about 20 ms), so loading the plugin costs no more than evaluating a string.
 */
export function loadWorld(): World {
    if (!world) {
        const topology = JSON.parse(WORLD_TOPOJSON) as Topology<{countries: GeometryCollection<{name: string}>; land: GeometryCollection}>;
        const countries = feature(topology, topology.objects.countries);
        world = {
            land: feature(topology, topology.objects.land),
            // Borders between countries only: coastlines are the land's outline.
            borders: mesh(topology, topology.objects.countries, (a, b) => a !== b),
            countries: countries.features.map((f) => ({
                name: String(f.properties?.name ?? ''),
                feature: f as Feature<Geometry, GeoJsonProperties>,
                bounds: geoBounds(f) as [[number, number], [number, number]],
            })),
        };
    }
    return world;
}

/** The country the point lies in (Natural Earth's short name), or ''. */
export function countryAt(longitude: number, latitude: number): string {
    for (const c of loadWorld().countries) {
        const [[w, s], [e, n]] = c.bounds;
        // geoBounds of a feature crossing the antimeridian has w > e.
        const inLng = w <= e ? longitude >= w && longitude <= e : longitude >= w || longitude <= e;
        if (latitude >= s && latitude <= n && inLng && geoContains(c.feature, [longitude, latitude])) {
            return c.name;
        }
    }
    return '';
}

export interface MapView {
    latitude: number;
    longitude: number;
    width: number;
    height: number;
    /** Index into ZOOM_SPANS_KM. */
    zoom: number;
}

export function clampZoom(zoom: number): number {
    return Math.max(0, Math.min(ZOOM_SPANS_KM.length - 1, Math.round(zoom)));
}

/** The projection of a view: the place at the centre, north up, clipped to the viewport. */
export function projectionFor(v: MapView): GeoProjection {
    const spanKm = ZOOM_SPANS_KM[clampZoom(v.zoom)];
    return geoAzimuthalEquidistant().
        rotate([-v.longitude, -v.latitude]).
        translate([v.width / 2, v.height / 2]).
        scale(v.width / (spanKm / EARTH_RADIUS_KM)).
        clipExtent([[0, 0], [v.width, v.height]]).
        precision(0.5);
}

/** Graticule spacing in degrees: a handful of lines across the view. */
export function graticuleStep(zoom: number): number {
    const degreesAcross = ZOOM_SPANS_KM[clampZoom(zoom)] / 111.2;
    const steps = [1, 2, 5, 10, 15, 30];
    return steps.find((s) => degreesAcross / s <= 6) ?? 30;
}

/** A scale bar: a round distance and its length in pixels, about a fifth of the width. */
export function scaleBar(projection: GeoProjection, width: number): {km: number; px: number} {
    // Azimuthal equidistant: distances from the centre are true to scale.
    const kmPerPx = EARTH_RADIUS_KM / projection.scale();
    const target = (width / 5) * kmPerPx;
    const pow = 10 ** Math.floor(Math.log10(target));
    const km = [5, 2, 1].map((m) => m * pow).find((d) => d <= target) ?? pow;
    return {km, px: km / kmPerPx};
}

export interface MapShapes {
    /** The globe's outline: the sea. */
    sphere: GeoPermissibleObjects;
    land: GeoPermissibleObjects;
    borders: GeoPermissibleObjects;
    graticule: GeoPermissibleObjects;
}

export function shapes(zoom: number): MapShapes {
    const w = loadWorld();
    const step = graticuleStep(zoom);
    return {
        sphere: {type: 'Sphere'},
        land: w.land,
        borders: w.borders,
        graticule: geoGraticule().step([step, step]).precision(1)(),
    };
}

/** SVG path data of each shape in a view (the web renderer). */
export function svgPaths(v: MapView): {sphere: string; land: string; borders: string; graticule: string; marker: [number, number]} {
    const projection = projectionFor(v);
    const path = geoPath(projection);
    const s = shapes(v.zoom);
    const marker = projection([v.longitude, v.latitude]) ?? [v.width / 2, v.height / 2];
    return {
        sphere: path(s.sphere) ?? '',
        land: path(s.land) ?? '',
        borders: path(s.borders) ?? '',
        graticule: path(s.graticule) ?? '',
        marker: [marker[0], marker[1]],
    };
}

/** One filled run of a raster row: [x0, x1) at row y, in pixels. */
export interface Run {
    y: number;
    x0: number;
    x1: number;
}

/** Collects projected polygon rings from geoPath (a GeoContext). */
class RingCollector implements GeoContext {
    rings: Array<Array<[number, number]>> = [];
    private ring: Array<[number, number]> | null = null;

    moveTo(x: number, y: number) {
        this.ring = [[x, y]];
        this.rings.push(this.ring);
    }

    lineTo(x: number, y: number) {
        this.ring?.push([x, y]);
    }

    closePath() {
        this.ring = null;
    }

    beginPath() {
        // Nothing: rings start at moveTo.
    }

    arc() {
        // Points are not drawn.
    }
}

/**
 * Rasterizes a polygon shape of a view into horizontal runs, `rows` rows of
 * the view's height, by even-odd scanline fill at each row's centre. The
 * mobile renderer draws each run as a View (React Native has no vector
 * drawing without a native module).
 */
export function rasterize(v: MapView, shape: GeoPermissibleObjects, rows: number): Run[] {
    const collector = new RingCollector();
    geoPath(projectionFor(v), collector)(shape);
    const rowHeight = v.height / rows;
    const runs: Run[] = [];
    const xs: number[] = [];
    for (let r = 0; r < rows; r++) {
        const y = (r + 0.5) * rowHeight;
        xs.length = 0;
        for (const ring of collector.rings) {
            for (let i = 0, n = ring.length; i < n; i++) {
                const [ax, ay] = ring[i];
                const [bx, by] = ring[(i + 1) % n];
                if ((ay <= y && by > y) || (by <= y && ay > y)) {
                    xs.push(ax + ((y - ay) / (by - ay)) * (bx - ax));
                }
            }
        }
        xs.sort((a, b) => a - b);
        for (let i = 0; i + 1 < xs.length; i += 2) {
            const x0 = Math.max(0, Math.round(xs[i]));
            const x1 = Math.min(v.width, Math.round(xs[i + 1]));
            if (x1 > x0) {
                runs.push({y: r, x0, x1});
            }
        }
    }
    return runs;
}
