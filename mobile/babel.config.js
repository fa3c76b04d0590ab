// Jest compiles the host library and its tests with React Native's Babel
// preset, as Metro does in an app.
module.exports = {presets: ['module:@react-native/babel-preset']};
