/**
 * The error hierarchy. Two branches: `ClientError` (the fault is on our side of
 * the wire: bad input, transport, timeouts, protocol, closed) and `ServerError`
 * (the server answered with an error reply). Every error carries a stable
 * `code`, and where it concerns one command, the command's name and the node,
 * never its arguments: values and passwords stay out of messages.
 */

export interface ErrorContext {
  /** Command name as sent (upper-cased), e.g. `GET`. Never the arguments. */
  command?: string;
  /** `host:port` or socket path of the server involved. */
  node?: string;
  cause?: unknown;
}

function suffix(ctx: ErrorContext | undefined): string {
  if (!ctx) return '';
  const parts: string[] = [];
  if (ctx.command) parts.push(`command ${ctx.command}`);
  if (ctx.node) parts.push(`node ${ctx.node}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export class RedisError extends Error {
  /** Stable machine-readable code. */
  code: string;
  command?: string;
  node?: string;

  constructor(message: string, code: string, ctx?: ErrorContext) {
    super(message + suffix(ctx), ctx?.cause !== undefined ? { cause: ctx.cause } : undefined);
    this.code = code;
    if (ctx?.command) this.command = ctx.command;
    if (ctx?.node) this.node = ctx.node;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

// ---------------------------------------------------------------- client side

export class ClientError extends RedisError {}

/** Bad input. Nothing was sent to the server. */
export class InvalidArgumentError extends ClientError {
  constructor(message: string, ctx?: ErrorContext) {
    super(message, 'ERR_INVALID_ARGUMENT', ctx);
  }
}

/**
 * The keys of a command (or of a transaction, or a WATCH) hash to different
 * cluster slots and the command cannot be split. Nothing was sent. Use hash
 * tags (`{user:1}:name`, `{user:1}:age`) to keep related keys in one slot.
 */
export class CrossSlotError extends InvalidArgumentError {}

export class ConnectionError extends ClientError {}

/** The connection could not be opened (refused, DNS, TLS, handshake failure). */
export class ConnectError extends ConnectionError {
  constructor(message: string, ctx?: ErrorContext, code = 'ERR_CONNECT') {
    super(message, code, ctx);
  }
}

/**
 * The connection dropped while the command was in flight or queued.
 * `maybeExecuted` is true when the command had been written to the socket and
 * no reply came back: the server may or may not have run it.
 */
export class ConnectionLostError extends ConnectionError {
  readonly maybeExecuted: boolean;
  constructor(message: string, maybeExecuted: boolean, ctx?: ErrorContext) {
    super(message, 'ERR_CONNECTION_LOST', ctx);
    this.maybeExecuted = maybeExecuted;
  }
}

/**
 * Too many commands wait to be written (disconnected, or the socket is not
 * draining). The command was not sent. Bounded by `maxQueued`.
 */
export class OfflineQueueFullError extends ConnectionError {
  constructor(message: string, ctx?: ErrorContext) {
    super(message, 'ERR_QUEUE_FULL', ctx);
  }
}

/**
 * Base of the three timeouts; tell them apart by class. `ConnectTimeoutError`
 * is both a `ConnectError` (its class chain) and a `TimeoutError` (through
 * `instanceof`), as DESIGN.md's hierarchy lists it under both.
 */
export class TimeoutError extends ClientError {
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return this === TimeoutError && value instanceof ConnectTimeoutError;
  }
}

/** Waiting to connect took too long. */
export class ConnectTimeoutError extends ConnectError {
  constructor(message: string, ctx?: ErrorContext) {
    super(message, ctx, 'ERR_CONNECT_TIMEOUT');
  }
}

/**
 * The error of a command whose connection never opened and will not be tried
 * again, `cause` being why the last try failed: a ConnectTimeoutError when it
 * timed out (a timeout stays one for `instanceof`), else a ConnectError.
 */
export function couldNotConnect(message: string, ctx: ErrorContext & { cause: ConnectError }): ConnectError {
  return ctx.cause instanceof ConnectTimeoutError ? new ConnectTimeoutError(message, ctx) : new ConnectError(message, ctx);
}

/** Waiting for a pooled (blocking / WATCH) connection took longer than `maxWait`. */
export class PoolTimeoutError extends TimeoutError {
  constructor(message: string, ctx?: ErrorContext) {
    super(message, 'ERR_POOL_TIMEOUT', ctx);
  }
}

/**
 * The reply did not arrive before the command's deadline. `sent` tells whether
 * the command had been written: if false it was never sent (safe to retry); if
 * true the server may have executed it.
 */
export class ReplyTimeoutError extends TimeoutError {
  readonly sent: boolean;
  constructor(message: string, sent: boolean, ctx?: ErrorContext) {
    super(message, 'ERR_REPLY_TIMEOUT', ctx);
    this.sent = sent;
  }
}

/** The server sent bytes that are not RESP, or broke a configured bound. */
export class ProtocolError extends ClientError {
  constructor(message: string, ctx?: ErrorContext) {
    super(message, 'ERR_PROTOCOL', ctx);
  }
}

/**
 * The caller's `AbortSignal` (`db.with({ signal })`) fired. `sent` tells
 * whether the command had been written: if false it was never sent and never
 * runs; if true the server may run it (its reply is dropped when it comes).
 * `cause` is the signal's `reason`.
 */
export class AbortError extends ClientError {
  readonly sent: boolean;
  constructor(message: string, sent: boolean, ctx?: ErrorContext) {
    super(message, 'ABORT_ERR', ctx);
    this.sent = sent;
  }
}

/** The client (or the connection's owner) was closed. */
export class ClosedError extends ClientError {
  constructor(message = 'the client is closed', ctx?: ErrorContext) {
    super(message, 'ERR_CLOSED', ctx);
  }
}

// ---------------------------------------------------------------- server side

/** The server answered with an error reply. `code` is its prefix: `WRONGTYPE`, `ERR`, ... */
export class ServerError extends RedisError {
  /** The server's message without our suffix (redacted of argument echoes). */
  readonly serverMessage: string;
  constructor(serverMessage: string, code: string, ctx?: ErrorContext) {
    super(serverMessage, code, ctx);
    this.serverMessage = serverMessage;
  }
}

export class WrongTypeError extends ServerError {}
export class BusyLoadingError extends ServerError {}
export class ReadOnlyError extends ServerError {}
export class NoReplicasError extends ServerError {}
export class TryAgainError extends ServerError {}
export class ClusterDownError extends ServerError {}
export class MasterDownError extends ServerError {}
export class NoScriptError extends ServerError {}
export class BusyScriptError extends ServerError {}
export class AuthError extends ServerError {}
export class NoPermError extends AuthError {}
export class OutOfMemoryError extends ServerError {}
export class UnknownCommandError extends ServerError {}
/**
 * EXEC refused because a queued command failed (`EXECABORT`). When raised by
 * `db.multi`, `errors` holds the per-command queue-time errors (index = position
 * in the block, `undefined` where the command queued fine).
 */
export class ExecAbortError extends ServerError {
  errors: (ServerError | undefined)[] = [];
}
export class MovedError extends ServerError {}
export class AskError extends ServerError {}
/**
 * A command was redirected (MOVED / ASK) more than `cluster.maxRedirects`
 * times: the cluster's slot map does not converge. `code` is the last
 * redirection's (MOVED or ASK); the command did not run on any node that
 * redirected it.
 */
export class ClusterRedirectError extends ServerError {}

type ServerErrorClass = new (message: string, code: string, ctx?: ErrorContext) => ServerError;

/**
 * A `Map`, never an object literal: the code is whatever the server (or a
 * script's `redis.error_reply`) sent, and `constructor`, `toString` or
 * `__proto__` must find nothing rather than an `Object.prototype` member.
 */
const BY_CODE: ReadonlyMap<string, ServerErrorClass> = new Map<string, ServerErrorClass>([
  ['WRONGTYPE', WrongTypeError],
  ['LOADING', BusyLoadingError],
  ['READONLY', ReadOnlyError],
  ['NOREPLICAS', NoReplicasError],
  ['TRYAGAIN', TryAgainError],
  ['CLUSTERDOWN', ClusterDownError],
  ['MASTERDOWN', MasterDownError],
  ['NOSCRIPT', NoScriptError],
  ['BUSY', BusyScriptError],
  ['NOAUTH', AuthError],
  ['WRONGPASS', AuthError],
  ['NOPERM', NoPermError],
  ['OOM', OutOfMemoryError],
  ['EXECABORT', ExecAbortError],
  ['MOVED', MovedError],
  ['ASK', AskError],
]);

/**
 * Redis echoes the first arguments of an unknown command back in its error
 * ("... with args beginning with: 'secret'"). Those are user values, so they are
 * cut before the message reaches an Error.
 */
const ARG_ECHO = /(with args beginning with:).*$/s;
/**
 * ACL SETUSER quotes the modifier it refused ("Error in ACL SETUSER modifier
 * '<pass': ..."), and modifiers are where passwords and their hashes go
 * (`>pass`, `<pass`, `#sha256`): the quote is cut, the reason kept. Greedy up
 * to the last "': " (a password may hold one); without it, to the end.
 */
const ACL_MODIFIER_ECHO = /(ACL SETUSER modifier ')(?:[\s\S]*(': )|[\s\S]*$)/;

/**
 * Redis quotes back a name it does not know: the command ("unknown command
 * 'X', with args ..."), a subcommand ("unknown subcommand 'X'. Try CONFIG
 * HELP.", Redis 6: "Unknown subcommand or wrong number of arguments for
 * 'X'. Try ..."), a CONFIG SET parameter ("... for CONFIG SET - 'X'"). A name
 * is one word; a quote holding whitespace is arguments written into one
 * string (`db.reply('CONFIG', 'SET requirepass <password>')`), so it is cut.
 * Greedy up to the server's own closing text: the quote may hold a `'`.
 */
const NAME_ECHOES: readonly RegExp[] = [
  /(unknown command ')([\s\S]*)(', with args beginning with:)/,
  /(unknown subcommand(?: or wrong number of arguments for)? ')([\s\S]*)('\. Try )/i,
  /(for CONFIG SET - ')([\s\S]*)(')$/,
];

function withoutWordsEcho(line: string): string {
  if (!line.includes("'")) return line;
  for (const echo of NAME_ECHOES) {
    line = line.replace(echo, (all, head: string, quoted: string, tail: string) => (/\s/.test(quoted) ? `${head}(redacted)${tail}` : all));
  }
  return line;
}

/** The server's message without the arguments it quotes back (values, passwords). */
function redacted(line: string): string {
  if (ARG_ECHO.test(line)) line = line.replace(ARG_ECHO, '$1 (redacted)');
  line = withoutWordsEcho(line);
  if (ACL_MODIFIER_ECHO.test(line)) line = line.replace(ACL_MODIFIER_ECHO, (_all, head: string, tail?: string) => `${head}(redacted)${tail ?? "'"}`);
  return line;
}

/**
 * Build the right `ServerError` subclass from an error line such as
 * `WRONGTYPE Operation ...`. With `withStack` false the error carries no stack
 * frames: the decoder asks that for errors inside an aggregate (EXEC results,
 * script tables), whose frames would only show the decoder, and where a
 * captured stack is most of the heap an error costs (~500 of ~600 bytes), so
 * that a reply full of errors stays within the element budget's arithmetic.
 */
export function serverErrorFrom(line: string, withStack = true): ServerError {
  const space = line.indexOf(' ');
  const code = space === -1 ? line : line.slice(0, space);
  const message = redacted(line);
  let Cls = BY_CODE.get(code);
  if (!Cls && code === 'ERR' && /^ERR unknown (sub)?command/.test(message)) Cls = UnknownCommandError;
  if (withStack) return new (Cls ?? ServerError)(message, code);
  // Reflect.set: never throws, even where intrinsics are frozen (then the stack is kept).
  const limit = Error.stackTraceLimit;
  Reflect.set(Error, 'stackTraceLimit', 0);
  try {
    return new (Cls ?? ServerError)(message, code);
  } finally {
    Reflect.set(Error, 'stackTraceLimit', limit);
  }
}

/** Attach the command name and node to a server error produced by the decoder. */
export function annotate<E extends RedisError>(err: E, command: string | undefined, node: string | undefined): E {
  if (err.command === undefined && command !== undefined) {
    err.command = command;
    err.node = node;
    err.message += suffix({ command, node });
  }
  return err;
}

/**
 * Server errors that Redis returns before running the command (the dataset is
 * loading, a script is busy, the node is a replica, the cluster is down, ...):
 * retrying such a command cannot make it run twice.
 */
export function refusedBeforeRunning(err: unknown): boolean {
  return (
    err instanceof BusyLoadingError ||
    err instanceof TryAgainError ||
    err instanceof ClusterDownError ||
    err instanceof MasterDownError ||
    err instanceof BusyScriptError ||
    err instanceof ReadOnlyError ||
    err instanceof NoReplicasError
  );
}
