// Jest with React Native's preset. The tests talk to a real mmtoolkit server
// that test/globalSetup.js builds and starts (and pushes fixture plugins to).
module.exports = {
  preset: '@react-native/jest-preset',
  testMatch: ['<rootDir>/test/**/*.test.ts?(x)'],
  testPathIgnorePatterns: ['/node_modules/', '/tools/', '/preview/'],
  // @noble/* and the map plugin's vendored d3-geo, d3-array and
  // topojson-client ship ES modules only (.mjs too): compile them like
  // react-native's own.
  transform: {'^.+\\.mjs$': 'babel-jest'},
  // topojson-client's "main" is a UMD build the map plugin's pruned copy
  // leaves out: take its ES "module" entry, as esbuild does.
  moduleNameMapper: {'^topojson-client$': '<rootDir>/../plugins/map/node_modules/topojson-client/src/index.js'},
  transformIgnorePatterns: ['node_modules/(?!((jest-)?react-native|@react-native(-community)?|@noble|d3-[a-z]+|topojson-client)/)'],
  // Reference plugin sources (../plugins/*/mobile) resolve react, react-native
  // and Babel's runtime from this package's node_modules.
  moduleDirectories: ['node_modules', '<rootDir>/node_modules'],
  globalSetup: '<rootDir>/test/globalSetup.js',
  globalTeardown: '<rootDir>/test/globalTeardown.js',
  testTimeout: 30000,
};
