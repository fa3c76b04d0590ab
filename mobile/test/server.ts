// Helpers to talk to the server globalSetup started.
import {execFileSync} from 'child_process';
import * as path from 'path';

export const serverURL = (): string => {
  const url = process.env.MMTOOLKIT_TEST_SERVER;
  if (!url) throw new Error('no test server: run through jest (globalSetup starts it)');
  return url;
};

/** Runs the mmtoolkit CLI as a sandbox user. */
export function cli(user: string, ...args: string[]): string {
  return execFileSync(process.env.MMTOOLKIT_TEST_BIN as string, args, {
    env: {...process.env, MMTOOLKIT_SERVER: serverURL(), MMTOOLKIT_USER: user, MMTOOLKIT_PASSWORD: 'mmtoolkit'},
    encoding: 'utf8',
  });
}

export const fixture = (name: string) => path.join(__dirname, 'fixtures', name);

export async function login(user: string): Promise<string> {
  const res = await fetch(`${serverURL()}/api/v4/users/login`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({login_id: user, password: 'mmtoolkit'}),
  });
  const token = res.headers.get('Token');
  if (res.status !== 200 || !token) throw new Error(`login ${user}: ${res.status}`);
  return token;
}

export async function publicKey(): Promise<string> {
  const res = await fetch(`${serverURL()}/api/v1/mobile/public-key`);
  return ((await res.json()) as {public_key: string}).public_key;
}

/** A fetch whose response bodies pass through edit (for tampering tests). */
export function tamperingFetch(match: (url: string) => boolean, edit: (b: Uint8Array) => Uint8Array): typeof fetch {
  return (async (input: any, init?: any) => {
    const res = await fetch(input, init);
    const url = String(input);
    if (!match(url) || res.status !== 200) return res;
    const body = edit(new Uint8Array(await res.arrayBuffer()));
    return fakeResponse(res.status, res.headers, body);
  }) as typeof fetch;
}

export function fakeResponse(status: number, headers: Headers, body: Uint8Array): Response {
  return {
    status,
    ok: status >= 200 && status < 300,
    headers,
    arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength),
    text: async () => new TextDecoder().decode(body),
    json: async () => JSON.parse(new TextDecoder().decode(body)),
  } as unknown as Response;
}

export const offlineFetch: typeof fetch = (async () => {
  throw new TypeError('Network request failed');
}) as typeof fetch;
