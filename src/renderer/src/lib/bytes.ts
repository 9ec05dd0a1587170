/**
 * Byte payloads in call results: the services send typed arrays, which a transport may deliver as
 * a Uint8Array (Electron IPC), an ArrayBuffer, a base64 string, or a plain array / index-keyed object
 * (JSON of a typed array). Views read them through here and never care which.
 */
export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') {
    const bin = atob(value);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.type === 'Buffer' && Array.isArray(o.data)) return Uint8Array.from(o.data as number[]);
    const keys = Object.keys(o);
    return Uint8Array.from(keys.map((_, i) => Number(o[i]) || 0));
  }
  return new Uint8Array(0);
}

/** Numbers of a typed-array-like payload (e.g. Uint32Array indices sent as JSON). */
export function toNumbers(value: unknown): number[] {
  if (Array.isArray(value)) return value.map(Number);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return Object.keys(o).map((_, i) => Number(o[i]));
  }
  return [];
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}
