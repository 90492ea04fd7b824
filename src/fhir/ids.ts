// Ids the server assigns to new resources (a POST's, an AuditEvent's): UUIDs whose first 48 bits are the time in
// milliseconds (RFC 9562 version 7), the other 74 random. Every index keyed by (type, id) then takes new rows at its
// right-hand end instead of on a random page: a store that writes an AuditEvent per request otherwise dirties a new
// page of each such index per event, and after every checkpoint writes a full 8 KB image of each to the WAL.
import { randomUUID } from 'node:crypto';

export function newResourceId(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  // A version 4 UUID's random bits and variant, with its version nibble (index 14) and the 48 bits before it replaced.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
