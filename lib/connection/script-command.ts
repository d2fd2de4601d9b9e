/**
 * A script call (EVALSHA / EVALSHA_RO) and what the connection does when the
 * server answers NOSCRIPT: the server does not know the script (never loaded,
 * SCRIPT FLUSH, a restart, a failover to a replica that never saw it, a slot
 * now served by another node). The server's NOSCRIPT means the call did not
 * run, so the connection that got it writes `SCRIPT LOAD <body>` followed by
 * the call again, contiguously, on itself: the script is loaded exactly where
 * the call runs (the node of its keys in a cluster, a replica for readFrom, a
 * leased connection), whatever routing sent it there.
 *
 * A script may return a NOSCRIPT of its own (`redis.error_reply('NOSCRIPT
 * ...')`, even in the server's exact words) after it ran: loading it and
 * calling it again would run it twice. So every NOSCRIPT is settled by asking
 * `SCRIPT EXISTS <sha1>` on the same connection: not known there, it did not
 * run (loaded and called again); known, the script ran and the error is its
 * answer. The question costs one round trip per NOSCRIPT (a script's first
 * call on a server). Without a clear answer (an ACL without SCRIPT EXISTS, a
 * cut), Redis's and Valkey's exact texts are taken for the server's, as a
 * fork's wording is not. (A SCRIPT FLUSH by another client between the
 * script's answer and that question would read as "did not run": the one case
 * left.)
 *
 * At most once per connection and call: a second NOSCRIPT on the same
 * connection (the script was flushed again in between) reaches the caller; a
 * new connection (a reconnect to a restarted server, a redirect to another
 * node) may load it again. Never EVAL: the body is sent only when a server
 * said it lacks it.
 */
import { commandInfo, type CommandInfo } from '../commands/index.js';
import { InvalidArgumentError, NoScriptError, ServerError, annotate, serverErrorFrom } from '../errors.js';
import { validateArgs, type Arg } from '../resp/encoder.js';
import { Command, InternalCommand, QUEUED, SETTLED, WRITTEN, type RetryDecision } from './command.js';
import { appendCallSite, type CallSite } from './observed.js';
import type { Reply } from '../resp/types.js';
import { Script, scriptBody } from '../script.js';

const SCRIPT_LOAD = commandInfo('SCRIPT', 'LOAD');
const SCRIPT_EXISTS = commandInfo('SCRIPT', 'EXISTS');

export class ScriptCommand<T = unknown> extends Command<T> {
  /** The connection (a multiplexer's socket state) that last loaded the script for this call after a NOSCRIPT. */
  loadedOn: object | undefined = undefined;
  /** Where the caller issued it (`callSiteStacks`): appended to the error it fails with, as for an ObservedCommand. */
  site: CallSite | undefined = undefined;

  constructor(name: string, args: Arg[], info: CommandInfo, decodeFlags: number, db: number, readonly body: string | Buffer) {
    super(name, args, info, decodeFlags, db);
  }

  override reject(err: Error): boolean {
    if (this.state !== SETTLED && this.site !== undefined) appendCallSite(err, this.site);
    return super.reject(err);
  }
}

/**
 * `cmd` was answered `err` on `connection` (of `node`): when it is a NOSCRIPT
 * for a script call, not yet reloaded on that connection, take it over and
 * return true. `send` writes a group on that connection, with the time left
 * before the call's deadline (0: none): first `SCRIPT EXISTS`, whose answer
 * decides (see the module comment), then `SCRIPT LOAD` and the call again if
 * it did not run. `cmd` settles either way.
 */
export function reloadScript(cmd: Command, err: ServerError, node: string, connection: object | undefined, send: (group: Command[], timeout: number) => void): boolean {
  if (!(err instanceof NoScriptError) || !(cmd instanceof ScriptCommand)) return false;
  const on = connection ?? {};
  if (cmd.loadedOn === on) return false;
  // The server's exact text is trusted only when the question cannot be answered: a script can answer it word for word.
  const serverText = SERVER_NOSCRIPT.has(err.serverMessage);
  // It stays WRITTEN, in no FIFO, while the question is out: an abort or a close settles it as "may have run".
  let askedThere = false;
  const exists = new InternalCommand('SCRIPT', ['EXISTS', cmd.args[0]!], SCRIPT_EXISTS, (failure, value) => {
    if (cmd.state === SETTLED) return; // aborted meanwhile: nothing is loaded or sent again
    const known = askedThere && failure === undefined ? scriptKnown(value) : undefined;
    // Without a clear answer from the connection that answered the NOSCRIPT (refused by an ACL, cut, malformed, or
    // the question went to the next connection), the server's exact text is taken for the server's, as it was before
    // the question was asked; another text is not.
    if (known === false || (known === undefined && serverText)) send(reload(cmd, node, on), timeLeft(cmd));
    // Known (it ran: its own answer), or another text without an answer to trust: the call's own error.
    else cmd.reject(annotate(err, cmd.info.name, node));
  });
  send([exists], timeLeft(cmd));
  // Only the server that answered the NOSCRIPT knows whether the script ran: a question that had to wait (the
  // connection reconnects, READONLY) is answered by the next connection, maybe a restarted server or another node.
  askedThere = exists.state === WRITTEN;
  return true;
}

/** The time left before `cmd`'s deadline, for what is written on its behalf (0: none). */
function timeLeft(cmd: Command): number {
  return cmd.deadline > 0 ? Math.max(1, cmd.deadline - Date.now()) : 0;
}

/** SCRIPT EXISTS's answer for one SHA1: known (1), not known (0), or undefined for anything else. */
function scriptKnown(value: Reply | undefined): boolean | undefined {
  if (!Array.isArray(value) || value.length !== 1) return undefined;
  const known = value[0];
  return known === 1 || known === true ? true : known === 0 || known === false ? false : undefined;
}

/**
 * The server's own NOSCRIPT, exactly: Redis writes it before running anything
 * (src/server.c shared.noscripterr), Valkey 8 shortened it. Trusted only when
 * SCRIPT EXISTS is refused (a script can return these texts word for word).
 */
const SERVER_NOSCRIPT: ReadonlySet<string> = new Set(['NOSCRIPT No matching script. Please use EVAL.', 'NOSCRIPT No matching script.']);

/**
 * The commands to write instead of `cmd` on `connection` (of `node`), which
 * did not run there: `SCRIPT LOAD`, then `cmd` again, as one contiguous group.
 */
function reload(cmd: ScriptCommand, node: string, connection: object): Command[] {
  cmd.loadedOn = connection;
  if (cmd.attempts > 0) cmd.attempts--; // it did not run
  cmd.state = QUEUED;
  const load = new InternalCommand('SCRIPT', ['LOAD', cmd.body], SCRIPT_LOAD, (loadError) => {
    // The body does not compile (or the ACL refuses SCRIPT LOAD): that is the
    // caller's answer. The call keeps its FIFO slot; its NOSCRIPT is dropped.
    if (loadError instanceof ServerError) cmd.reject(annotate(serverErrorFrom(loadError.serverMessage), cmd.info.name, node));
  }, 0, cmd.db);
  return [load, cmd];
}

/**
 * The server's own refusals, written before a command runs, exactly (Redis
 * src/server.c shared.*err, src/script.c scriptPrepareForRun, src/cluster.c
 * getNodeByQuery; Valkey names itself where Redis does). A script can answer
 * with these codes itself (`redis.error_reply('LOADING ...')`) after it ran:
 * for a call that runs a script, anything else is the script's answer.
 */
const SERVER_REFUSALS: readonly RegExp[] = [
  /^LOADING \S+ is loading the dataset in memory$/,
  /^BUSY \S+ is busy running a (?:script\. You can only call (?:SCRIPT|FUNCTION) KILL or SHUTDOWN NOSAVE\.|module command\.)$/,
  /^READONLY You can't write against a read only replica\.$/,
  /^READONLY Can not run script with write flag on readonly replica$/,
  /^MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'\.$/,
  /^MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script\.$/,
  /^NOREPLICAS Not enough good replicas to write\.$/,
  /^TRYAGAIN Multiple keys request during rehashing of slot$/,
  /^CLUSTERDOWN (?:The cluster is down|The cluster is down and only accepts read commands|Hash slot not served)$/,
];

/** Whether `err` is one of the server's own refusals, by its exact text (SERVER_REFUSALS). */
export function isServerRefusal(err: ServerError): boolean {
  return SERVER_REFUSALS.some((r) => r.test(err.serverMessage));
}

/** Commands that run a script (CommandInfo names). */
const RUNS_SCRIPT: ReadonlySet<string> = new Set(['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']);

/** Whether a command runs a script, so that an error it gets may be the script's own answer. */
export function runsScript(info: CommandInfo): boolean {
  return RUNS_SCRIPT.has(info.name);
}

/**
 * The retry decision of a call that runs a script: `policy`'s, except that a
 * server error is retried only when it is one of the server's own refusals by
 * its exact text (a refusal-like error of the script's own means it ran).
 */
export function scriptRetry(policy: RetryDecision): RetryDecision {
  return {
    delayFor: (attempt, err) => (err instanceof ServerError && !isServerRefusal(err) ? -1 : policy.delayFor(attempt, err)),
  };
}

/** What a call needs of a `Script` (script.ts). */
export interface ScriptSource {
  readonly lua: string | Buffer;
  readonly sha1: string;
  readonly readOnly: boolean;
}

/**
 * The arguments of a script call after its body or SHA1: `numkeys`, the keys,
 * the arguments. Throws `InvalidArgumentError` (nothing sent) for anything but
 * arrays of valid arguments.
 */
export function scriptArgs(head: Arg, keys: readonly Arg[] | undefined, args: readonly Arg[] | undefined, where: string): Arg[] {
  if (keys !== undefined && !Array.isArray(keys)) throw new InvalidArgumentError(`${where}(script, keys, args): keys must be an array`);
  if (args !== undefined && !Array.isArray(args)) throw new InvalidArgumentError(`${where}(script, keys, args): args must be an array`);
  const k = keys ?? [];
  const a = args ?? [];
  const all: Arg[] = new Array(2 + k.length + a.length);
  all[0] = head;
  all[1] = k.length;
  for (let i = 0; i < k.length; i++) all[2 + i] = k[i]!;
  for (let i = 0; i < a.length; i++) all[2 + k.length + i] = a[i]!;
  return all;
}

const EVALSHA = commandInfo('EVALSHA');
const EVALSHA_RO = commandInfo('EVALSHA_RO');

/** `db.run(script, keys, args)`: EVALSHA (EVALSHA_RO for a read-only script), validated; nothing sent yet. */
export function scriptCall<T>(script: ScriptSource, keys: readonly Arg[] | undefined, args: readonly Arg[] | undefined, decodeFlags: number, db: number, maxArgumentBytes?: number): ScriptCommand<T> {
  if (!isScript(script)) throw new InvalidArgumentError('db.run(script, keys, args): script must be a Script (new Script(lua))');
  const all = scriptArgs(script.sha1, keys, args, 'db.run');
  const name = script.readOnly ? 'EVALSHA_RO' : 'EVALSHA';
  validateArgs(name, all, 0, maxArgumentBytes);
  return new ScriptCommand<T>(name, all, script.readOnly ? EVALSHA_RO : EVALSHA, decodeFlags, db, scriptBody(script));
}

/** A `Script` (or one of the other build's: the ESM and CommonJS builds each have their own class). */
export function isScript(s: unknown): s is ScriptSource {
  if (s instanceof Script) return true; // without reading `lua`, a copy for a Buffer body
  const x = s as ScriptSource | null;
  return typeof x === 'object' && x !== null && typeof x.sha1 === 'string' && (typeof x.lua === 'string' || Buffer.isBuffer(x.lua));
}
