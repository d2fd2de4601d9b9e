/**
 * Reading a cluster redirection: MOVED / ASK replies name the slot and the
 * node to go to (the ASKING written before a command sent where an ASK
 * pointed is connection/asking.ts).
 */
import { SLOT_COUNT } from '../../commands/slot.js';

/**
 * `MOVED <slot> <host>:<port>` / `ASK ...`; an empty host is the replying
 * node's (Redis 7 unknown endpoint). Undefined for anything else, a slot
 * outside 0..16383 or a port outside 1..65535 included: such a reply is not
 * followed, the command fails with it (it is the server's answer, not a
 * reason to drop the connection).
 */
export function redirectTarget(message: string, replyingHost: string): { slot: number; host: string; port: number } | undefined {
  const parts = message.split(' ');
  const slot = Number(parts[1]);
  const address = parts[2] ?? '';
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT || colon < 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { slot, host: host || replyingHost, port };
}

