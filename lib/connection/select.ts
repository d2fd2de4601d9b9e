/**
 * Switching a socket's database in the stream (commands carry the database
 * they must run in; the multiplexer writes a SELECT before the first command
 * of another database). A database this socket has selected before is
 * switched inline; an unknown one is probed first and the queue waits for the
 * answer, so a failing SELECT (index out of range) can never let later
 * commands run in the wrong database.
 */
import { ProtocolError, ServerError } from '../errors.js';
import type { Arg } from '../resp/encoder.js';
import type { Reply } from '../resp/types.js';
import type { Link } from './link.js';

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
  /** Write what is queued, now that the probe answered. */
  pump(): void;
}

export function selectDatabase(host: SelectHost, link: Link, db: number): void {
  const previous = link.db;
  link.db = db; // what the stream selects from here on, if the server agrees
  if (link.knownDbs.has(db)) {
    host.sendInternal(link, ['SELECT', db], (err) => {
      if (err instanceof ServerError && host.current(link)) {
        host.lose(new ProtocolError(`inline SELECT ${db} failed after succeeding before`, { node: host.node(), cause: err }));
      }
    });
    return;
  }
  link.probing = true;
  host.sendInternal(link, ['SELECT', db], (err) => {
    link.probing = false;
    if (!host.current(link)) return; // lost: the next socket selects for itself
    if (err === undefined) link.knownDbs.add(db);
    else if (err instanceof ServerError) {
      link.db = previous; // the server stays in its previous database
      host.refuse(db, err);
    }
    host.pump();
  });
}
