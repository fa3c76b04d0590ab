// The map model both renderers draw: world geometry (parsed once, on first
// use), an azimuthal equidistant projection centred on the place, and what is
// drawn on it. The web part turns it into SVG paths; the mobile part into
// horizontal runs of Views (rasterize below).
import {geoAzimuthalEquidistant, geoContains, geoGraticule, geoPath, type GeoContext, type GeoPermissibleObjects, type GeoProjection} from 'd3-geo';
import type {Feature, FeatureCollection, GeoJsonProperties, Geometry, MultiLineString, Position} from 'geojson';
import {feature, mesh} from 'topojson-client';
import type {GeometryCollection, Topology} from 'topojson-specification';

import {WORLD_TOPOJSON} from './world_data';

/** Mean Earth radius in km (the sphere d3-geo projects). */
export const EARTH_RADIUS_KM = 6371.0088;

/** Spans (km across the map's width) from far to near: the zoom levels. */
export const ZOOM_SPANS_KM = [20000, 8000, 4000, 2000, 1000, 500];
/** The post's default zoom: a region around the place (about 2,000 km across). */
export const DEFAULT_ZOOM = 3;

/** A planar lon/lat box [west, south, east, north]; shapes crossing the antimeridian span -180..180. */
type Box = [number, number, number, number];

interface Country {
    name: string;
    feature: Feature<Geometry, GeoJsonProperties>;
    box: Box;
}

interface Line {
    coordinates: Position[];
    box: Box;
}

export interface World {
    countries: Country[];
    /** Coastlines (arcs of one country) and borders (arcs of two), as separate lines. */
    coasts: Line[];
    borders: Line[];
}

function boxOf(points: Position[][]): Box {
    let w = Infinity;
    let s = Infinity;
    let e = -Infinity;
    let n = -Infinity;
    for (const line of points) {
        for (const [x, y] of line) {
            w = Math.min(w, x);
            e = Math.max(e, x);
            s = Math.min(s, y);
            n = Math.max(n, y);
        }
    }
    return [w, s, e, n];
}

function ringsOf(g: Geometry): Position[][] {
    switch (g.type) {
    case 'Polygon': return g.coordinates;
    case 'MultiPolygon': return g.coordinates.flat();
    case 'GeometryCollection': return g.geometries.flatMap(ringsOf);
    default: return [];
    }
}

let world: World | undefined;

/**
 * The world geometry: the TopoJSON text is parsed and converted on first use
 * (tens of ms), so loading the plugin costs no more than evaluating a string.
 * Each country and line keeps its lon/lat box, so a view draws only what
 * is near it.
 */
export function loadWorld(): World {
    if (!world) {
        const topology = JSON.parse(WORLD_TOPOJSON) as Topology<{countries: GeometryCollection<{name: string}>; land: GeometryCollection}>;
        const countries = feature(topology, topology.objects.countries);
        const lines = (m: MultiLineString): Line[] => m.coordinates.map((c) => ({coordinates: c, box: boxOf([c])}));
        world = {
            countries: countries.features.map((f) => ({
                name: String(f.properties?.name ?? ''),
                feature: f as Feature<Geometry, GeoJsonProperties>,
                box: boxOf(ringsOf(f.geometry)),
            })),
            coasts: lines(mesh(topology, topology.objects.countries, (a, b) => a === b)),
            borders: lines(mesh(topology, topology.objects.countries, (a, b) => a !== b)),
        };
    }
    return world;
}

/** Whether lon/lat boxes overlap, taking longitudes modulo 360. */
function overlaps(a: Box, b: Box): boolean {
    if (a[1] > b[3] || b[1] > a[3]) {
        return false;
    }
    return [-360, 0, 360].some((k) => a[0] + k <= b[2] && b[0] <= a[2] + k);
}

/** The country the point lies in (Natural Earth's short name), or ''. */
export function countryAt(longitude: number, latitude: number): string {
    const at: Box = [longitude, latitude, longitude, latitude];
    const c = loadWorld().countries.find((x) => overlaps(x.box, at) && geoContains(x.feature, [longitude, latitude]));
    return c?.name ?? '';
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
        // No adaptive resampling: at these scales the 1:50m segments are
        // short enough, and resampling costs more than the rest together.
        precision(0);
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

/**
 * The lon/lat box around everything a view shows: the spherical cap
 * reaching the viewport's corners (the projection is azimuthal).
 */
export function viewBox(v: MapView): Box {
    const kmPerPx = ZOOM_SPANS_KM[clampZoom(v.zoom)] / v.width;
    const r = (Math.hypot(v.width, v.height) / 2) * kmPerPx / EARTH_RADIUS_KM; // radians
    const deg = (r * 180) / Math.PI;
    const lat = (v.latitude * Math.PI) / 180;
    if (r >= Math.PI / 2 || Math.abs(v.latitude) + deg >= 90) {
        return [-180, Math.max(-90, v.latitude - deg), 180, Math.min(90, v.latitude + deg)];
    }
    const dLng = (Math.asin(Math.min(1, Math.sin(r) / Math.cos(lat))) * 180) / Math.PI;
    return [v.longitude - dLng, v.latitude - deg, v.longitude + dLng, v.latitude + deg];
}

export interface MapShapes {
    /** The globe's outline: the sea. */
    sphere: GeoPermissibleObjects;
    land: FeatureCollection;
    coasts: MultiLineString;
    borders: MultiLineString;
    graticule: GeoPermissibleObjects;
}

/** What a view draws: the countries and lines near it, and a graticule. */
export function shapes(v: MapView): MapShapes {
    const w = loadWorld();
    const box = viewBox(v);
    const near = (lines: Line[]): MultiLineString => ({
        type: 'MultiLineString', coordinates: lines.filter((l) => overlaps(l.box, box)).map((l) => l.coordinates),
    });
    const step = graticuleStep(v.zoom);
    return {
        sphere: {type: 'Sphere'},
        land: {type: 'FeatureCollection', features: w.countries.filter((c) => overlaps(c.box, box)).map((c) => c.feature)},
        coasts: near(w.coasts),
        borders: near(w.borders),
        graticule: geoGraticule().step([step, step]).precision(0.5)(),
    };
}

/** SVG path data of each shape in a view (the web renderer). */
export function svgPaths(v: MapView): {sphere: string; land: string; coasts: string; borders: string; graticule: string; marker: [number, number]} {
    const projection = projectionFor(v);
    const path = geoPath(projection);
    const s = shapes(v);
    const marker = projection([v.longitude, v.latitude]) ?? [v.width / 2, v.height / 2];
    return {
        sphere: path(s.sphere) ?? '',
        land: path(s.land) ?? '',
        coasts: path(s.coasts) ?? '',
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
        const rowStart = runs.length;
        for (let i = 0; i + 1 < xs.length; i += 2) {
            const x0 = Math.max(0, Math.round(xs[i]));
            const x1 = Math.min(v.width, Math.round(xs[i + 1]));
            const last = runs.length > rowStart ? runs[runs.length - 1] : undefined;
            if (last && x0 <= last.x1) {
                // Neighbouring countries meet at a border: one run of land.
                last.x1 = Math.max(last.x1, x1);
            } else if (x1 > x0) {
                runs.push({y: r, x0, x1});
            }
        }
    }
    return runs;
}
