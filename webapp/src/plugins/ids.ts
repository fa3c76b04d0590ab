// Mattermost ids: 26 characters of [a-z0-9], what generateId() returns, so
// plugins that store or compare registration ids see the familiar shape.
const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function generateId(): string {
    const bytes = new Uint8Array(26);
    crypto.getRandomValues(bytes);
    let id = '';
    for (const b of bytes) {
        id += alphabet[b % alphabet.length];
    }
    return id;
}
