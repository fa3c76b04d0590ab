// Signature and hash checks. @noble/ed25519 and @noble/hashes are audited,
// dependency-free and synchronous, so they run in Hermes as they do in Jest.
import * as ed from '@noble/ed25519';
import {sha256, sha512} from '@noble/hashes/sha2.js';
import {bytesToHex} from '@noble/hashes/utils.js';

import {fromBase64} from './bytes';

ed.hashes.sha512 = sha512;

/** Decodes pinned public keys (base64, as GET /api/v1/mobile/public-key gives them). */
export function parsePublicKeys(keys: string | readonly string[]): Uint8Array[] {
  const list = typeof keys === 'string' ? [keys] : keys;
  if (list.length === 0) throw new Error('PluginHost: pin at least one public key');
  return list.map((k) => {
    const raw = fromBase64(k);
    if (raw.length !== 32) throw new Error(`PluginHost: public key ${k} is not a 32-byte ed25519 key`);
    return raw;
  });
}

/** Reports whether signature (base64) signs body under any pinned key. */
export function verifySignature(keys: Uint8Array[], body: Uint8Array, signature: string | null): boolean {
  if (!signature) return false;
  let sig: Uint8Array;
  try {
    sig = fromBase64(signature);
  } catch {
    return false;
  }
  if (sig.length !== 64) return false;
  return keys.some((k) => {
    try {
      return ed.verify(sig, body, k, {zip215: false});
    } catch {
      return false;
    }
  });
}

export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}
