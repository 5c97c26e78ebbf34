/** The transport: see transport.ts and docs/protocol.md. */
export { createTransport, MAX_BATCH_BYTES, MAX_BATCH_ITEMS } from './transport';
export type { CreateTransportOptions, OutgoingItem, OutgoingKind, StartResult, Transport } from './transport';
