/**
 * The connection handshake, restored on every (re)connect before any queued
 * command is written (DESIGN rule 3).
 *
 * RESP3: `HELLO 3 AUTH user pass SETNAME name` and `SELECT db`, pipelined in one
 * round trip. A server without HELLO (Redis < 6) answers an error; we then fall
 * back to RESP2: `AUTH`, `CLIENT SETNAME`, `SELECT`, again pipelined.
 */
import { learnCommands } from '../commands/index.js';
import { AuthError, ConnectError, ConnectTimeoutError, NoPermError, ServerError, UnknownCommandError, refusedBeforeRunning } from '../errors.js';
import type { Arg } from '../resp/encoder.js';
import type { Reply } from '../resp/types.js';
import type { TrackingSink } from './tracking.js';
import { askWhenFree } from './ask-when-free.js';

/** What a credentials provider resolves to: a password (a token), its user, and when it expires (epoch ms). */
export interface Credentials {
  username?: string;
  password: string;
  expiresAt?: number;
}

export type CredentialsProvider = () => Credentials | Promise<Credentials>;

export interface HandshakeOptions {
  /** 3 (default) tries HELLO 3 and falls back to 2; 2 forces RESP2. */
  protocol: 2 | 3;
  /** `protocol: 3` was asked for explicitly: no fallback; a server without HELLO fails the handshake. */
  requireResp3?: boolean;
  username?: string;
  password?: string;
  /**
   * Rotating credentials: called for every new connection, before it opens
   * (dial.ts), instead of a fixed username/password. A refusal of what it
   * gave is then no configuration error: the next attempt asks it again.
   */
  credentials?: CredentialsProvider;
  clientName?: string;
  db: number;
  /** Ask the server for its modules' commands and learn their flags (the shared connection does). */
  discoverModules?: boolean;
  /** Send READONLY: a cluster replica serves reads on this connection (cluster `readFrom`). */
  readOnly?: boolean;
  /**
   * A client-side cache listens to this connection: turn RESP3 key tracking
   * on (`CLIENT TRACKING ON`, default mode) in the same round trip as HELLO.
   */
  tracking?: TrackingSink;
  /**
   * Ask for maintenance notifications (RESP3 only): `CLIENT MAINT_NOTIFICATIONS
   * ON moving-endpoint-type <this>`, pipelined with HELLO; a refusal is no error.
   */
  maintenance?: string;
  /**
   * Confirm with `ROLE` that the server is what we were told it is (Sentinel
   * discovery): a mismatch fails the handshake with a `ConnectError`, so the
   * connection is dropped and its owner asks again where to connect.
   */
  role?: 'master' | 'replica';
  /**
   * Learn the server's mode even without RESP3's HELLO map (auto mode's first
   * connection): with `protocol: 2`, `INFO server` rides in the same round
   * trip and its `redis_mode` fills `server.mode`. A refusal leaves it unknown.
   */
  askMode?: boolean;
}

export interface HandshakeResult {
  protocol: 2 | 3;
  /** The server's HELLO map (RESP3 only): version, mode, role, id, ... */
  server?: Record<string, Reply>;
  /** Key tracking is on (asked for with `tracking`, and the server agreed: RESP3 and allowed by ACL). */
  tracking?: boolean;
  /** The server agreed to send maintenance notifications (asked for with `maintenance`). */
  maintenance?: boolean;
}

/** Sends one internal command; the promise settles with its reply or error. */
export type Send = (parts: Arg[]) => Promise<Reply>;

function settle(p: Promise<Reply>): Promise<{ ok: true; value: Reply } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error) => ({ ok: false as const, error }),
  );
}

function isNoHello(err: unknown): boolean {
  // Redis < 6: "ERR unknown command 'HELLO'"; a server refusing RESP3: "NOPROTO ...".
  return err instanceof UnknownCommandError || (err instanceof ServerError && err.code === 'NOPROTO');
}

/** Module names from a MODULE LIST reply (maps in RESP3, flat arrays in RESP2). */
function moduleNames(reply: Reply): string[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((m) => {
    if (Array.isArray(m)) {
      const i = m.indexOf('name');
      return i >= 0 && typeof m[i + 1] === 'string' ? [m[i + 1] as string] : [];
    }
    const name = m && typeof m === 'object' ? (m as Record<string, Reply>).name : undefined;
    return typeof name === 'string' ? [name] : [];
  });
}

/**
 * Learn the flags of the loaded modules' commands (so a module's blocking
 * command goes to the pool). Failures (ACL, old servers) only mean we keep
 * treating those commands as plain ones.
 */
async function discoverModules(send: Send, list: Promise<Reply>): Promise<void> {
  try {
    const modules = moduleNames(await list);
    for (const name of modules) {
      const names = (await send(['COMMAND', 'LIST', 'FILTERBY', 'MODULE', name])) as Reply[];
      if (Array.isArray(names) && names.length > 0) learnCommands(await send(['COMMAND', 'INFO', ...(names as string[])]));
    }
  } catch {
    // not allowed or not supported: nothing learned
  }
}

/**
 * Run the handshake within `connectTimeout`: a server that accepts the
 * connection but never answers must not hold it forever.
 */
export function handshake(send: Send, opts: HandshakeOptions & { connectTimeout: number }, node: string): Promise<HandshakeResult> {
  const ms = opts.connectTimeout || 10_000;
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectTimeoutError(`no answer to the handshake within ${ms} ms`, { node })), ms);
  });
  return Promise.race([run(send, opts, node), stuck]).finally(() => clearTimeout(timer));
}

async function run(send: Send, opts: HandshakeOptions, node: string): Promise<HandshakeResult> {
  const greeting = greet(send, opts); // writes HELLO (and SELECT) before its first await
  // MODULE LIST rides in the same write; more round trips only when modules are loaded.
  const list = opts.discoverModules ? send(['MODULE', 'LIST']) : undefined;
  list?.catch(() => {}); // observed even if the greeting fails
  const result = await greeting.catch((refusal: unknown) => {
    const err = withoutPassword(refusal, opts.password);
    // A rotated-out token is no configuration error: reconnecting asks the provider again.
    if (opts.credentials && err instanceof AuthError && !(err instanceof NoPermError)) {
      throw new ConnectError('the server refused the credentials the provider gave; it will be asked again on the next attempt', { cause: err });
    }
    throw err;
  });
  // After the greeting, which may have fallen back to RESP2's AUTH: READONLY needs it.
  if (opts.readOnly) await send(['READONLY']);
  if (opts.role) await confirmRole(send, opts.role, result);
  if (list) await discoverModules(send, list);
  // Asked again after a backoff, so after the connection reported itself ready (untracked, for the cache).
  const again = refusedWhileBusy.get(result);
  if (again) askWhenFree(send, again, (step) => step === TRACKING_ON && opts.tracking?.connected(node, true));
  return result;
}

/**
 * Why every command fails when the server refused the handshake (no reconnect
 * can fix options), saying what to change: a missing password (NOAUTH: the
 * server's text only says how HELLO works) or a refused one by name.
 */
export function refusedConfiguration(err: ServerError): string {
  if (err.code === 'NOAUTH') return 'the server needs a password: set the password option (or redis://:password@host). Not reconnecting';
  const what = err.code === 'WRONGPASS' ? 'the username or password' : "the connection's configuration";
  return `the server refused ${what} (${err.serverMessage}); fix the options. Not reconnecting`;
}

/**
 * A server error with the password it quoted back cut out. Redis never quotes
 * one (its own argument echo is cut in errors.ts), but a proxy or a hostile
 * server may, and no credential may reach an error (DESIGN.md, Credentials).
 */
export function withoutPassword(err: unknown, password: string | undefined): unknown {
  if (!password || !(err instanceof ServerError) || !err.serverMessage.includes(password)) return err;
  const Cls = err.constructor as new (message: string, code: string) => ServerError;
  return new Cls(err.serverMessage.split(password).join('(redacted)'), err.code);
}

/**
 * `ROLE` says `master`, `slave` or `sentinel`. An ACL that refuses ROLE
 * leaves HELLO's `role` field (RESP3) as the only witness; with neither, the
 * node is taken at its sentinel's word.
 */
async function confirmRole(send: Send, expected: 'master' | 'replica', result: HandshakeResult): Promise<void> {
  let said: string | undefined;
  try {
    const reply = await send(['ROLE']);
    if (Array.isArray(reply) && typeof reply[0] === 'string') said = reply[0];
  } catch (err) {
    if (!(err instanceof NoPermError)) throw err;
    const hello = result.server?.role;
    if (typeof hello === 'string') said = hello;
  }
  if (said === undefined) return;
  const role = said === 'slave' ? 'replica' : said;
  if (role !== expected) {
    throw new ConnectError(`the node says it is a ${role}, not the ${expected} it was announced as (a failover is under way, or the announcement was stale); asking again`);
  }
}

const TRACKING_ON: Arg[] = ['CLIENT', 'TRACKING', 'ON'];
const maintenanceOn = (endpointType: string): Arg[] => ['CLIENT', 'MAINT_NOTIFICATIONS', 'ON', 'moving-endpoint-type', endpointType];

/** The steps of a handshake's result that the server refused before running them (BUSY, LOADING): to be asked again. */
const refusedWhileBusy = new WeakMap<HandshakeResult, Arg[][]>();

/** Whether the handshake that gave `result` asks `CLIENT TRACKING ON` again: the server was busy (BUSY, LOADING), it did not refuse tracking. */
export function trackingAskedAgain(result: HandshakeResult): boolean {
  return refusedWhileBusy.get(result)?.includes(TRACKING_ON) === true;
}

/** Handshakes whose SELECT the server refused before running it, with its answer (BUSY, LOADING). */
const unselected = new WeakMap<HandshakeResult, Error>();

/**
 * Why the handshake that gave `result` selected no database, if it did not:
 * its SELECT was refused before running (BUSY while another client's script
 * runs: HELLO and AUTH are allowed then, SELECT is not). The connection opens
 * without its database and selects it when the server is free (select.ts):
 * failing the handshake instead would keep it closed for as long as the script
 * runs, SCRIPT KILL (the way out) included.
 */
export function selectRefusal(result: HandshakeResult): Error | undefined {
  return unselected.get(result);
}

async function greet(send: Send, opts: HandshakeOptions): Promise<HandshakeResult> {
  // A username alone authenticates as that user with an empty password (a `nopass` user accepts it; any
  // other is refused with WRONGPASS), never silently as the default user.
  // An empty username is no user (as in a URL, and in RESP2's AUTH below): the default user, never one named ''.
  const username = opts.username || undefined;
  const password = opts.password ?? (username ? '' : undefined);
  if (opts.protocol === 3) {
    const hello: Arg[] = ['HELLO', '3'];
    if (password !== undefined) hello.push('AUTH', username ?? 'default', password);
    if (opts.clientName) hello.push('SETNAME', opts.clientName);
    const helloReply = settle(send(hello));
    const select = opts.db !== 0 ? settle(send(['SELECT', opts.db])) : undefined;
    // Pipelined too: on a server without RESP3 it fails (tracking needs RESP3 here), and is not needed.
    const track = opts.tracking ? settle(send(TRACKING_ON)) : undefined;
    // Maintenance notifications (maintenance.ts): servers that do not know them refuse, and stay silent.
    const maint = opts.maintenance ? settle(send(maintenanceOn(opts.maintenance))) : undefined;
    const h = await helloReply;
    const s = select ? await select : undefined;
    const t = track ? await track : undefined;
    const m = maint ? await maint : undefined;
    if (h.ok) {
      if (s && !s.ok && !refusedBeforeRunning(s.error)) throw s.error;
      // Refused (an ACL without CLIENT): the cache passes reads through on this connection.
      const result: HandshakeResult = { protocol: 3, server: h.value as Record<string, Reply> };
      if (s && !s.ok) unselected.set(result, s.error as Error);
      if (t) result.tracking = t.ok;
      if (m) result.maintenance = m.ok;
      // BUSY (a script runs: HELLO is allowed then, CLIENT is not) or LOADING refused the step before running it: no
      // refusal, so it is asked again once the server is free (ask-when-free.ts). Failing the handshake instead would
      // keep the connection closed for as long as the script runs, SCRIPT KILL (the way out of a runaway one) included.
      const again: Arg[][] = [];
      if (t && !t.ok && refusedBeforeRunning(t.error)) again.push(TRACKING_ON);
      if (m && !m.ok && refusedBeforeRunning(m.error)) again.push(maintenanceOn(opts.maintenance!));
      if (again.length > 0) refusedWhileBusy.set(result, again);
      return result;
    }
    if (!isNoHello(h.error) || opts.requireResp3) throw h.error;
    // Fall through: the SELECT above failed or ran unauthenticated; redo everything in RESP2.
  }
  const auth = password !== undefined ? settle(send(username ? ['AUTH', username, password] : ['AUTH', password])) : undefined;
  const setName: Arg[] | undefined = opts.clientName ? ['CLIENT', 'SETNAME', opts.clientName] : undefined;
  const named = setName && settle(send(setName));
  const select = opts.db !== 0 ? settle(send(['SELECT', opts.db])) : undefined;
  // Only where RESP2 was asked for: a server without HELLO (Redis < 6) keeps its handshake as it was.
  const info = opts.askMode && opts.protocol === 2 ? settle(send(['INFO', 'server'])) : undefined;
  const a = auth && (await auth);
  if (a && !a.ok) throw a.error;
  // CLIENT SETNAME answered BUSY (a script runs; RESP3 names the connection in HELLO, which a busy server runs):
  // no refusal, asked again when the server is free, as CLIENT TRACKING is.
  const n = named && (await named);
  if (n && !n.ok && !refusedBeforeRunning(n.error)) throw n.error;
  const s = select && (await select); // after AUTH's refusal, which makes it fail too
  if (s && !s.ok && !refusedBeforeRunning(s.error)) throw s.error;
  const said = info && (await info);
  const mode = said?.ok ? /^redis_mode:(\w+)/m.exec(String(said.value))?.[1] : undefined;
  const server = mode === undefined ? undefined : { mode };
  // RESP2 gets no tracking: its invalidations would need a second connection (REDIRECT), out of order with replies.
  const result: HandshakeResult = { protocol: 2, ...(server && { server }), ...(opts.tracking && { tracking: false }) };
  if (s && !s.ok) unselected.set(result, s.error as Error);
  if (n && !n.ok) refusedWhileBusy.set(result, [setName!]);
  return result;
}
