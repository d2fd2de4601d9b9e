/**
 * Command flag bits. The generated table (`table.ts`) stores the server's own
 * flags; `OVERRIDES` adds what the server does not say but the multiplexer must
 * know (which commands would corrupt a shared connection's state).
 */

/** The server marks it read-only: safe to resend after a lost connection if the retry policy allows. */
export const READONLY = 1 << 0;
/** The server marks it as a write. */
export const WRITE = 1 << 1;
/** May block the connection: routed to a leased side connection, never the shared socket. */
export const BLOCKING = 1 << 2;
/** Blocks only when a `BLOCK` argument is present (XREAD, XREADGROUP). */
export const BLOCKING_WITH_ARG = 1 << 3;
/** Publishes or inspects pub/sub (PUBLISH, PUBSUB ...): fine on the shared socket. */
export const PUBSUB = 1 << 4;
/** Enters or leaves subscribe mode: only the subscriber may send it. */
export const SUBSCRIBE = 1 << 5;
/** Changes per-connection state the multiplexer owns (SELECT, AUTH, MULTI, ...): refused on shared connections. */
export const CONNECTION_STATE = 1 << 6;
/** Key positions depend on the arguments (needs COMMAND GETKEYS in cluster mode). */
export const MOVABLE_KEYS = 1 << 7;
/** Has subcommands: look the second word up as `name|sub`. */
export const CONTAINER = 1 << 8;
/** Not known to the table (module command, newer server): treated as a write that does not block. */
export const UNKNOWN = 1 << 9;
/** Marked `noscript` / administrative: no special handling yet, kept for routing decisions. */
export const ADMIN = 1 << 10;

/** Server flag name -> bit, as `COMMAND INFO` reports them. */
export const SERVER_FLAGS: Record<string, number> = {
  readonly: READONLY,
  write: WRITE,
  blocking: BLOCKING,
  pubsub: PUBSUB,
  movablekeys: MOVABLE_KEYS,
  admin: ADMIN,
};
