/**
 * The UNSUBSCRIBE (PUNSUBSCRIBE, SUNSUBSCRIBE) of entries nobody holds any
 * more: one command per group the server takes at once (perCommand).
 */
import { commandInfo } from '../commands/index.js';
import { InternalCommand, type Command } from '../connection/command.js';
import { ClosedError, ConnectionLostError } from '../errors.js';
import { UNSUBSCRIBE, perCommand, type Entry, type Kind } from './subscriptions.js';

/** Resolves once the server let go of every one; `send` hands each command to the hub's connection. */
export function unsubscribeEntries(kind: Kind, gone: Entry[], send: (cmd: Command) => void): Promise<void> {
  const name = UNSUBSCRIBE[kind];
  const sent = perCommand(kind, gone).map((group) => new Promise<void>((resolve, reject) => {
    const cmd = new InternalCommand(name, group.map((e) => e.name), commandInfo(name), (err) => {
      // Lost with the connection: the next one never had it. Closed: the hub is done anyway.
      if (err === undefined || err instanceof ConnectionLostError || err instanceof ClosedError) resolve();
      else reject(err);
    });
    send(cmd);
  }));
  return Promise.all(sent).then(() => undefined);
}
