// The map plugin's pure coordinate code (plugins/map/shared/coords.ts): the
// /location parser, coordinates found in messages, props and formatting.
import {describe, expect, it} from 'vitest';

import {
    findCoordinates, formatCoordinates, isLocationCommand, locationFromProps, locationPost, parseLocationCommand,
} from '../../plugins/map/shared/coords';

describe('parseLocationCommand', () => {
    it.each([
        ['/location 48.8584,2.2945', 48.8584, 2.2945, ''],
        ['/location 48.8584, 2.2945', 48.8584, 2.2945, ''],
        ['/location 48.8584 2.2945', 48.8584, 2.2945, ''],
        ['/location 48.8584,2.2945 Eiffel Tower', 48.8584, 2.2945, 'Eiffel Tower'],
        ['/location   -33.8568 ,  151.2153   Sydney   Opera House ', -33.8568, 151.2153, 'Sydney Opera House'],
        ['/LOCATION 0,0 Null Island', 0, 0, 'Null Island'],
        ['/location +90,-180 edge', 90, -180, 'edge'],
        ['/location -90 180', -90, 180, ''],
        ['/location .5,-.25', 0.5, -0.25, ''],
        ['48.8584,2.2945 only the arguments', 48.8584, 2.2945, 'only the arguments'],
    ])('accepts %j', (input, latitude, longitude, label) => {
        expect(parseLocationCommand(input)).toEqual({ok: true, location: {latitude, longitude, label}});
    });

    it.each([
        ['/location', 'map.command.usage'],
        ['/location   ', 'map.command.usage'],
        ['/location 48.8584', 'map.command.usage'],
        ['/location 48.8584,', 'map.command.usage'],
        ['/location Paris', 'map.command.usage'],
        ['/location north,east', 'map.command.not_numbers'],
        ['/location 48.8584,east Eiffel', 'map.command.not_numbers'],
        ['/location 48.8.584,2.29', 'map.command.not_numbers'],
        ['/location 0x10,5', 'map.command.not_numbers'],
        ['/location 1e2,5', 'map.command.not_numbers'],
        ['/location 200,1', 'map.command.latitude_range'],
        ['/location -90.0001,1', 'map.command.latitude_range'],
        ['/location 45,180.5', 'map.command.longitude_range'],
        ['/location 45,-181', 'map.command.longitude_range'],
        [`/location 1,2 ${'x'.repeat(201)}`, 'map.command.label_too_long'],
    ])('rejects %j', (input, error) => {
        expect(parseLocationCommand(input)).toEqual({ok: false, error});
    });

    it('takes a label of exactly 200 characters', () => {
        const r = parseLocationCommand(`/location 1,2 ${'é'.repeat(200)}`);
        expect(r.ok && r.location.label.length).toBe(200);
    });
});

describe('isLocationCommand', () => {
    it('matches the trigger only', () => {
        expect(isLocationCommand('/location 1,2')).toBe(true);
        expect(isLocationCommand('/location')).toBe(true);
        expect(isLocationCommand('/Location 1,2')).toBe(true);
        expect(isLocationCommand('/locations 1,2')).toBe(false);
        expect(isLocationCommand('/away')).toBe(false);
        expect(isLocationCommand('location 1,2')).toBe(false);
    });
});

describe('findCoordinates', () => {
    it('finds a signed pair and labels it with the words before it, else after it', () => {
        expect(findCoordinates('Meet at the Eiffel Tower: 48.8584, 2.2945 at noon')).toMatchObject(
            {latitude: 48.8584, longitude: 2.2945, label: 'Meet at the Eiffel Tower'});
        expect(findCoordinates('52.52, 13.405 is the Berlin office.')).toMatchObject({label: 'is the Berlin office.'});
        expect(findCoordinates('-22.95, -43.21')).toMatchObject({latitude: -22.95, longitude: -43.21, label: ''});
        expect(findCoordinates('Sydney (-33.8568,151.2153)')).toMatchObject({latitude: -33.8568, longitude: 151.2153, label: 'Sydney'});
    });

    it('reads hemisphere letters', () => {
        expect(findCoordinates('Office at 40.7128° N, 74.0060° W.')).toMatchObject({latitude: 40.7128, longitude: -74.006});
        expect(findCoordinates('camp 33.9S 18.4E')).toMatchObject({latitude: -33.9, longitude: 18.4, label: 'camp'});
    });

    it('reads the message of a /location post back', () => {
        const post = locationPost('c', '', {latitude: 48.8584, longitude: 2.2945, label: 'Eiffel Tower'});
        expect(post.message).toBe('📍 Eiffel Tower (48.8584, 2.2945)');
        expect(findCoordinates(post.message)).toMatchObject({latitude: 48.8584, longitude: 2.2945, label: 'Eiffel Tower'});
    });

    it.each([
        'released 1.2, 3.4 and 5.6',
        'v1.2.3, 4.5.6',
        'meeting at 10, 12 people',
        'out of range 95.5, 10.1',
        'ratio 12.5,200.25',
        'no numbers here',
    ])('finds nothing in %j', (text) => {
        expect(findCoordinates(text)).toBeNull();
    });
});

describe('locationFromProps', () => {
    it('reads the sandbox shape', () => {
        expect(locationFromProps({latitude: 52.52, longitude: 13.405, label: 'Berlin office'})).toEqual(
            {latitude: 52.52, longitude: 13.405, label: 'Berlin office'});
        expect(locationFromProps({latitude: '1.5', longitude: '2'})).toEqual({latitude: 1.5, longitude: 2, label: ''});
    });

    it.each([null, undefined, 'x', {}, {latitude: 91, longitude: 0}, {latitude: 0, longitude: 'east'}, {latitude: NaN, longitude: 0}])(
        'refuses %j', (props) => {
            expect(locationFromProps(props)).toBeNull();
        });
});

describe('formatCoordinates', () => {
    it('writes hemispheres and at most 4 decimals', () => {
        expect(formatCoordinates(48.8584, 2.2945)).toBe('48.8584° N, 2.2945° E');
        expect(formatCoordinates(-33.856812, -151.2)).toBe('33.8568° S, 151.2° W');
    });
});
