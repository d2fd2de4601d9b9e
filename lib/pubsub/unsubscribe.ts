/**
 * The UNSUBSCRIBE (PUNSUBSCRIBE, SUNSUBSCRIBE) of entries nobody holds any
 * more: one command per group the server takes at once (perCommand).
 *
 * A command whose deadline passed before it could be written (its socket
 * held back by a server that does not read) was dropped by the connection,
 * while the SUBSCRIBE before it may still run: the server would hold a
 * name nobody holds until the connection closes. So it is sent again, with
 * a new deadline, for the entries `unwanted` still says nobody wants on the
 * same connection (not asked for again meanwhile: a later SUBSCRIBE of the
 * name must win). The call itself settles at its own deadline.
 */
import { commandInfo } from '../commands/index.js';
import { InternalCommand, type Command } from '../connection/command.js';
import { ClosedError, ConnectionLostError, ReplyTimeoutError } from '../errors.js';
import { UNSUBSCRIBE, perCommand, type Entry, type Kind } from './subscriptions.js';

/** Resolves once the server let go of every one; `send` hands each command to the hub's connection. */
export function unsubscribeEntries(kind: Kind, gone: Entry[], send: (cmd: Command) => void, unwanted: (e: Entry) => boolean): Promise<void> {
  const name = UNSUBSCRIBE[kind];
  const sent = perCommand(kind, gone).map((group) => new Promise<void>((resolve, reject) => {
    const cmd = new InternalCommand(name, group.map((e) => e.name), commandInfo(name), (err) => {
      // Lost with the connection: the next one never had it. Closed: the hub is done anyway.
      if (err === undefined || err instanceof ConnectionLostError || err instanceof ClosedError) resolve();
      else reject(err);
      const again = err instanceof ReplyTimeoutError && !err.sent ? group.filter(unwanted) : [];
      if (again.length > 0) void unsubscribeEntries(kind, again, send, unwanted).catch(() => {});
    });
    send(cmd);
  }));
  return Promise.all(sent).then(() => undefined);
}
