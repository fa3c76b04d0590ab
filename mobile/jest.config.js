// Jest with React Native's preset. The tests talk to a real mmtoolkit server
// that test/globalSetup.js builds and starts (and pushes fixture plugins to).
module.exports = {
  preset: '@react-native/jest-preset',
  testMatch: ['<rootDir>/test/**/*.test.ts?(x)'],
  testPathIgnorePatterns: ['/node_modules/', '/tools/', '/preview/'],
  // @noble/* ship ES modules only: compile them like react-native's own.
  transformIgnorePatterns: ['node_modules/(?!((jest-)?react-native|@react-native(-community)?|@noble)/)'],
  // Reference plugin sources (../plugins/*/mobile) resolve react, react-native
  // and Babel's runtime from this package's node_modules.
  moduleDirectories: ['node_modules', '<rootDir>/node_modules'],
  globalSetup: '<rootDir>/test/globalSetup.js',
  globalTeardown: '<rootDir>/test/globalTeardown.js',
  testTimeout: 30000,
};
