/**
 * Finding where to connect and opening the socket there: the fixed endpoint,
 * or, with the `locate` option (Sentinel), wherever its owner says the server
 * is now, asked again before every attempt.
 */
import type net from 'node:net';
import { ConnectError } from '../errors.js';
import type { Located, MultiplexerOptions } from './options.js';
import { describeEndpoint, openSocket } from './socket.js';

export interface Dialed {
  socket: net.Socket;
  /** What the node was announced as, for the handshake to confirm. */
  role: Located['role'];
}

export interface DialHooks {
  /** The attempt is still wanted (not disconnected, not relocated meanwhile). */
  current(): boolean;
  /** The endpoint was found: errors name it from now on. */
  located(node: string): void;
  /** Nobody could say where the server is: the commands waiting for it fail now (never sent). */
  unlocated(err: ConnectError): void;
}

/**
 * Resolves with an open socket, or undefined when the attempt stopped being
 * current first (a socket opened meanwhile is destroyed); rejects with why
 * it could not connect.
 */
export async function dial(opts: MultiplexerOptions, hooks: DialHooks): Promise<Dialed | undefined> {
  let endpoint = opts.endpoint;
  let role: Located['role'];
  if (opts.locate !== undefined) {
    let located: Located;
    try {
      located = await opts.locate();
    } catch (err) {
      if (!hooks.current()) return undefined;
      const cause = err instanceof ConnectError ? err : new ConnectError('could not find where to connect', { cause: err });
      hooks.unlocated(cause);
      throw cause;
    }
    if (!hooks.current()) return undefined;
    endpoint = located.endpoint;
    role = located.role;
    hooks.located(describeEndpoint(endpoint));
  }
  const socket = await openSocket(endpoint, opts);
  if (hooks.current()) return { socket, role };
  socket.destroy();
  return undefined;
}
