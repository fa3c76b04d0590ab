// The map reference plugin's React Native renderer (plugins/map/mobile): a
// custom_map_location post drawn offline as a rasterized map (land as runs of
// Views over the sea), with the marker, label and coordinates; the place's
// geography is checked against the projection; theme colours are used.
import React from 'react';
import {render, screen} from '@testing-library/react-native';
import {StyleSheet} from 'react-native';

import {initialize} from '../../plugins/map/mobile';
import {LocationPost, MAP_HEIGHT, MAP_ROWS, MAP_WIDTH, landRuns} from '../../plugins/map/mobile/location_post';
import {mapColors} from '../../plugins/map/shared/colors';
import {DEFAULT_ZOOM, projectionFor} from '../../plugins/map/shared/geo';
import {createRegistry, type Registration} from '../src/registry';

const eiffel = {id: 'p1', type: 'custom_map_location', message: '📍 Eiffel Tower (48.8584, 2.2945)', props: {latitude: 48.8584, longitude: 2.2945, label: 'Eiffel Tower'}};

/** Whether a point (longitude, latitude) of the Paris map falls on a land run. */
function onLand(lng: number, lat: number): boolean {
  const projection = projectionFor({latitude: 48.8584, longitude: 2.2945, width: MAP_WIDTH, height: MAP_HEIGHT, zoom: DEFAULT_ZOOM});
  const [x, y] = projection([lng, lat])!;
  const row = Math.floor(y / (MAP_HEIGHT / MAP_ROWS));
  return landRuns(48.8584, 2.2945).some((r) => r.y === row && r.x0 <= x && x < r.x1);
}

test('initialize registers the renderer for custom_map_location', () => {
  const regs: Registration[] = [];
  initialize(createRegistry('mmtoolkit.map', '1.0.0', regs, () => {}) as never);
  expect(regs).toHaveLength(1);
  expect(regs[0]).toMatchObject({slot: 'post_type', postType: 'custom_map_location', component: LocationPost});
});

test('a location post draws the land around the place, the marker and the label', async () => {
  await render(<LocationPost post={eiffel} />);
  const map = screen.getByTestId('map-view');
  expect(map.props.accessibilityRole).toBe('image');
  expect(map.props.accessibilityLabel).toBe('Map of Eiffel Tower, France at 48.8584° N, 2.2945° E');
  const land = screen.getAllByTestId('map-land');
  expect(land.length).toBeGreaterThan(MAP_ROWS); // several runs a row: coasts, islands
  // Every run lies inside the map.
  for (const run of land) {
    const s = StyleSheet.flatten(run.props.style);
    expect(s.left).toBeGreaterThanOrEqual(0);
    expect(s.left + s.width).toBeLessThanOrEqual(MAP_WIDTH);
    expect(s.top).toBeGreaterThanOrEqual(0);
    expect(s.top).toBeLessThan(MAP_HEIGHT);
  }
  expect(screen.getByTestId('map-marker')).toBeTruthy();
  expect(screen.getAllByText('Eiffel Tower').length).toBeGreaterThan(0);
  expect(screen.getByText(/48\.8584° N, 2\.2945° E in France/)).toBeTruthy();
  // Its own /location message is not repeated as a caption.
  expect(screen.queryByText(eiffel.message)).toBeNull();
});

test('the raster has the geography right', () => {
  expect(onLand(2.2945, 48.8584)).toBe(true); // Paris
  expect(onLand(-0.1276, 51.5072)).toBe(true); // London
  expect(onLand(-4.5, 45.5)).toBe(false); // Bay of Biscay
  expect(onLand(-2.5, 50.1)).toBe(false); // English Channel
  // The South Pacific, 2,000 km from any island: all sea.
  expect(landRuns(-45, -130)).toEqual([]);
  // The middle of Australia: all land.
  const outback = landRuns(-25, 134);
  expect(outback).toHaveLength(MAP_ROWS);
  expect(outback.every((r) => r.x0 === 0 && r.x1 === MAP_WIDTH)).toBe(true);
});

test('colours come from the theme', async () => {
  const dark = {centerChannelBg: '#191b1f', centerChannelColor: '#e3e4e8', linkColor: '#4a7ce8', buttonBg: '#4a7ce8', buttonColor: '#ffffff'};
  await render(<LocationPost post={{...eiffel, message: 'Customer visit next week.'}} theme={dark} />);
  const colors = mapColors(dark);
  expect(StyleSheet.flatten(screen.getByTestId('map-view').props.style).backgroundColor).toBe(colors.sea);
  expect(StyleSheet.flatten(screen.getAllByTestId('map-land')[0].props.style).backgroundColor).toBe(colors.land);
  expect(StyleSheet.flatten(screen.getByTestId('map-marker').props.style).backgroundColor).toBe('#4a7ce8');
  expect(screen.getByText('Customer visit next week.')).toBeTruthy(); // a caption of its own is shown
});

test('a post without valid coordinates says so and keeps its message', async () => {
  await render(<LocationPost post={{id: 'p2', type: 'custom_map_location', message: 'somewhere', props: {latitude: 'north'}}} />);
  expect(screen.getByText('somewhere')).toBeTruthy();
  expect(screen.getByText('This location post has no valid coordinates.')).toBeTruthy();
  expect(screen.queryByTestId('map-view')).toBeNull();
});

test('German when the app passes its locale', async () => {
  await render(<LocationPost post={{id: 'p3', message: '', props: {}}} locale='de-DE' />);
  expect(screen.getByText('Dieser Ortsbeitrag hat keine gültigen Koordinaten.')).toBeTruthy();
});
