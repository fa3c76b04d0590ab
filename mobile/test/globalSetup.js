// Builds mmtoolkit (unless MMTOOLKIT_BIN names a binary), starts a real
// server on loopback with a fresh data directory, pushes the fixture
// plugins with the CLI as the sandbox's developer and enables them for team
// engineering as its team admin. Tests find the server through env vars.
const {execFileSync, spawn} = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');

module.exports = async function globalSetup() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmtoolkit-mobile-test-'));
  let bin = process.env.MMTOOLKIT_BIN;
  if (!bin) {
    bin = path.join(tmp, 'mmtoolkit');
    execFileSync('go', ['build', '-o', bin, './cmd/mmtoolkit'], {cwd: root, stdio: 'inherit'});
  }
  const data = path.join(tmp, 'data');
  // Without the reference plugins: these tests count the fixtures' registrations.
  const server = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', data, '--reference-plugins=false'], {stdio: ['ignore', 'pipe', 'pipe']});
  let log = '';
  server.stderr.on('data', (d) => (log += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('mmtoolkit serve did not start in 20 s:\n' + out + log)), 20000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`mmtoolkit serve exited ${code}:\n${out}${log}`)));
  });
  globalThis.__mmtoolkitServer = server;
  process.env.MMTOOLKIT_TEST_SERVER = url;
  process.env.MMTOOLKIT_TEST_BIN = bin;
  process.env.MMTOOLKIT_TEST_TMP = tmp;

  const cli = (user, ...args) =>
    execFileSync(bin, args, {
      env: {...process.env, MMTOOLKIT_SERVER: url, MMTOOLKIT_USER: user, MMTOOLKIT_PASSWORD: 'mmtoolkit'},
      encoding: 'utf8',
    });
  const fixtures = path.join(__dirname, 'fixtures');
  for (const f of ['hello-1.0.0', 'initcrash', 'future']) cli('dev', 'push', path.join(fixtures, f));
  for (const id of ['mmtoolkit.test.hello', 'mmtoolkit.test.initcrash', 'mmtoolkit.test.future']) {
    cli('alice', 'enable', '--team', 'engineering', '--plugin', id);
  }
};
