/**
 * Switching a socket's database in the stream (commands carry the database
 * they must run in; the multiplexer writes a SELECT before the first command
 * of another database). Every switch waits for the SELECT's answer before
 * anything behind it is written: a SELECT the server refuses leaves it in the
 * previous database, and whatever was pipelined behind the refused SELECT
 * would run there. The server can refuse a database it selected before on
 * this very socket: an ACL that lost SELECT meanwhile (NOPERM: the commands
 * behind it run, in the previous database), or another client's runaway
 * script (BUSY: the commands behind it are refused too, until the script
 * ends between two reads of the pipeline). Writing a switch's commands
 * before the answer once put a SET meant for database 1 in database 0.
 *
 * The price is a round trip per switch: traffic that alternates between
 * databases on one connection is paced by it (one client per database, each
 * with its own connection, avoids it: see README, Databases).
 */
import { ReplyTimeoutError, ServerError, annotate, refusedBeforeRunning } from '../errors.js';
import type { Arg } from '../resp/encoder.js';
import type { Reply } from '../resp/types.js';
import { askWhenFree } from './ask-when-free.js';
import type { Command } from './command.js';
import type { CommandQueue } from './queue.js';
import type { Send } from './handshake.js';
import { NO_DATABASE, type Link } from './link.js';

export interface SelectHost {
  /** The server, as errors name it (it may change: a \`locate\` option). */
  node(): string;
  /** Whether `link` is still the connection's socket. */
  current(link: Link): boolean;
  /** Write a command of the connection's own on `link`. */
  sendInternal(link: Link, parts: Arg[], done: (err: Error | undefined, value?: Reply) => void): void;
  /** Drop the connection. */
  lose(cause: Error): void;
  /** The server refused database `db`: reject what is queued for it with `err`. */
  refuse(db: number, err: ServerError): void;
  /** Write what is queued, now that the SELECT answered. */
  pump(): void;
}

/** Switch `link` to database `db`: the queue waits for the answer (see the module comment). */
export function selectDatabase(host: SelectHost, link: Link, db: number): void {
  const previous = link.db;
  link.db = db; // what the stream selects once the server agrees; nothing is written meanwhile
  link.probing = true;
  host.sendInternal(link, ['SELECT', db], (err) => {
    if (!host.current(link)) return; // lost: the next socket selects for itself
    if (err instanceof ServerError && refusedBeforeRunning(err)) {
      selectWhenFree(host, link, db, err, previous); // BUSY, LOADING: no refusal, asked again when the server is free
      return;
    }
    link.probing = false;
    if (err instanceof ServerError) {
      link.db = previous; // the server stays in its previous database
      host.refuse(db, err);
    }
    host.pump();
  });
}

/**
 * A SELECT was refused before running (`why`: BUSY while another client's
 * script runs, or LOADING): the handshake's (`current` NO_DATABASE: the
 * connection opens with no database selected; handshake.ts selectRefusal) or
 * a switch's (`current`: the database the server stays in). It is asked
 * again with a backoff until the server runs it (ask-when-free.ts).
 * Meanwhile the queue waits as behind any SELECT (`link.probing`): a command
 * written now would run in `current`. Only what runs in no database is
 * written (runsInAnyDatabase), so SCRIPT KILL, the way out of the script,
 * gets through. Queued commands wait within their deadlines, then fail
 * unsent (unselectedTimeout says why).
 */
export function selectWhenFree(host: SelectHost, link: Link, db: number, why: Error, current = NO_DATABASE): void {
  link.db = current;
  link.unselected = why;
  link.probing = true;
  const send: Send = (parts) => new Promise((resolve, reject) => host.sendInternal(link, parts, (err, value) => (err ? reject(err) : resolve(value!))));
  const selected = () => {
    if (!host.current(link)) return;
    link.db = db;
    link.unselected = undefined;
    link.probing = false;
    host.pump();
  };
  const refused = (_: Arg[], err: unknown) => {
    if (!(err instanceof ServerError) || !host.current(link)) return; // lost: the next socket selects for itself
    if (current === NO_DATABASE) {
      // The handshake's database refused for good (an index out of range on a server that changed meanwhile):
      // no database to run anything in; reconnect, and the handshake says so.
      host.lose(annotate(err, 'SELECT', host.node()));
      return;
    }
    link.unselected = undefined;
    link.probing = false;
    host.refuse(db, err); // the server stays in `current`; that database's commands fail, the others go on
    host.pump();
  };
  askWhenFree(send, [['SELECT', db]], selected, refused);
}

/**
 * What may be written on a connection whose database is not selected yet: what
 * runs in no database. The connection's own commands (db -1: the health PING)
 * and the kills of a runaway script, SCRIPT KILL and FUNCTION KILL: a busy
 * server runs them, and they are the way out of what keeps it busy.
 */
export function runsInAnyDatabase(cmd: Command): boolean {
  return cmd.db < 0 || cmd.info.name === 'SCRIPT KILL' || cmd.info.name === 'FUNCTION KILL';
}

/**
 * Take out of `queue` the commands that run in no database (queued before the
 * connection opened: a SCRIPT KILL sent while connecting), to be written ahead
 * of those waiting for the SELECT; the others keep their order, a transaction
 * stays whole and queued (`expired` settles one whose deadline passed).
 */
export function takeRunsInAnyDatabase(queue: CommandQueue, expired: (cmd: Command) => Error): Command[] {
  const taken: Command[] = [];
  const kept: Command[] = [];
  while (queue.length > 0) {
    const unit = queue.shiftUnit(expired); // empty: settled while queued
    if (unit.length === 1 && runsInAnyDatabase(unit[0]!)) taken.push(unit[0]!);
    else kept.push(...unit);
  }
  for (const c of kept) queue.push(c);
  return taken;
}

/** The error of a command whose deadline passed while the connection waited for the server to run its SELECT. */
export function unselectedTimeout(cmd: Command, node: string, why: Error): ReplyTimeoutError {
  const message = 'the deadline passed while the connection waited for the busy server to select its database; it was never sent';
  return new ReplyTimeoutError(message, false, { command: cmd.info.name, node, cause: why });
}
