/**
 * Command flag bits. The generated table (`table.ts`) stores the server's own
 * flags; `OVERRIDES` adds what the server does not say but the multiplexer must
 * know (which commands would corrupt a shared connection's state).
 */

/** The server marks it read-only (it reads the dataset and changes nothing). For "may it be resent", read RESENDABLE. */
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
/** Key positions depend on the arguments (numkeys, STREAMS, STORE): keys.ts commandKeys reads them from the key specs. */
export const MOVABLE_KEYS = 1 << 7;
/** Has subcommands: look the second word up as `name|sub`. */
export const CONTAINER = 1 << 8;
/** Not known to the table (module command, newer server): treated as a write that does not block. */
export const UNKNOWN = 1 << 9;
/** Marked `admin` by the server: no special handling yet, kept for routing decisions. */
export const ADMIN = 1 << 10;
/**
 * Safe to send twice: running it again after a cut (when it may already have
 * run) has no effect beyond running it once. DESIGN rule 2 resends a written,
 * unanswered command only when this bit is set (or the caller declared it
 * idempotent) and its retry policy agrees.
 *
 * The rule, applied by scripts/gen-commands.mjs to the server's COMMAND reply:
 *  - a container (CLIENT, CONFIG, ...) is never resendable: its subcommand
 *    decides, and an unrecognised subcommand is not resendable;
 *  - a command the server flags `readonly` is resendable (it reads the
 *    dataset and changes nothing; this includes XREAD BLOCK and EVAL_RO);
 *  - any other command is resendable only if it has none of these effects:
 *    `write` or `may_replicate` (changes the dataset or the replication
 *    stream), `admin` (server administration), `pubsub` (PUBLISH, SPUBLISH,
 *    SUBSCRIBE), `blocking` (also WAIT, WAITAOF), `no_multi` (SAVE, SYNC,
 *    SHUTDOWN), a script effect (ACL category `@scripting` with the `noscript`
 *    flag: EVAL, EVALSHA, FCALL, SCRIPT ..., FUNCTION ...) or a change of
 *    connection state (CONNECTION_STATE, plus CLIENT SETNAME, CLIENT CACHING,
 *    READONLY, READWRITE, ASKING, ...). Flags that say nothing about effects
 *    (`loading`, `stale`, `fast`, `skip_*`, `no_auth`, `allow_busy`,
 *    `movablekeys`, `denyoom` (always with `write`), ...) and the command tips
 *    (`nondeterministic_output`: TIME, INFO, CLIENT LIST read a later value,
 *    which any read does; `request_policy` / `response_policy`: routing) are
 *    ignored.
 *  - hand-made exceptions (the generator's OVERRIDES, one comment each):
 *    inspection-only admin, pub/sub and script subcommands are resendable
 *    (CONFIG GET, CLIENT LIST, SLOWLOG GET, PUBSUB CHANNELS, SCRIPT EXISTS,
 *    and SCRIPT LOAD, which only adds a content-addressed script).
 * Commands unknown to the table (module commands, newer servers) are never
 * resendable, unless the connected server reports them `readonly` (learned at
 * connect, see learnCommands).
 */
export const RESENDABLE = 1 << 11;

/** Server flag name -> bit, as `COMMAND INFO` reports them. */
export const SERVER_FLAGS: Record<string, number> = {
  readonly: READONLY,
  write: WRITE,
  blocking: BLOCKING,
  pubsub: PUBSUB,
  movablekeys: MOVABLE_KEYS,
  admin: ADMIN,
};
