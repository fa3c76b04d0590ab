const fs = require('fs');

module.exports = async function globalTeardown() {
  const server = globalThis.__mmtoolkitServer;
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.on('exit', resolve));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }
  if (process.env.MMTOOLKIT_TEST_TMP) fs.rmSync(process.env.MMTOOLKIT_TEST_TMP, {recursive: true, force: true});
};
