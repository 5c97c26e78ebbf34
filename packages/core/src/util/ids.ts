/** A random id (hex). Uses crypto.getRandomValues where present. */
export function randomId(bytes = 12): string {
  const buf = new Uint8Array(bytes);
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c?.getRandomValues) c.getRandomValues(buf);
  else for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
  let out = '';
  for (const b of buf) out += b.toString(16).padStart(2, '0');
  return out;
}
