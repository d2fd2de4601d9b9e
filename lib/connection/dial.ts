/**
 * Everything a connection attempt needs before its handshake: where to
 * connect (the fixed endpoint, or, with the `locate` option (Sentinel),
 * wherever its owner says the server is now), the open socket, and the
 * credentials to present (the `credentials` provider, asked afresh for every
 * connection, so a rotated token is picked up).
 *
 * The provider is asked once the socket is open (TCP connected, TLS done),
 * never before: an attempt at a server that is down (refused, unreachable,
 * timed out) never reaches authentication, so it must not cost a call to a
 * token service. A health checker or a reconnect loop retries a down endpoint
 * about once a second for as long as it is down; asked first, the provider
 * was called at that rate.
 */
import type * as net from 'node:net';
import { ConnectError, ConnectTimeoutError, InvalidArgumentError } from '../errors.js';
import type { Credentials, CredentialsProvider, HandshakeOptions } from './handshake.js';
import type { Located, MultiplexerOptions } from './options.js';
import { describeEndpoint, openSocket } from './socket.js';

export interface Dialed {
  socket: net.Socket;
  /** What the node was announced as, for the handshake to confirm. */
  role: Located['role'];
  /** From the provider, for this connection only (and when it fetched them). */
  credentials: (Credentials & { fetchedAt: number }) | undefined;
}

export interface DialHooks {
  /** The attempt is still wanted (not disconnected, not relocated meanwhile). */
  current(): boolean;
  /** The endpoint was found: errors name it from now on. */
  located(node: string): void;
  /** Nobody could say where the server is, or the provider failed: the commands waiting fail now (never sent). */
  unlocated(err: ConnectError): void;
  /** Aborted when the attempt is abandoned (close, disconnect, a newer attempt): its socket and timers go at once. */
  signal?: AbortSignal | undefined;
}

/**
 * Resolves with an open socket, or undefined when the attempt stopped being
 * current first (a socket opened meanwhile is destroyed); rejects with why
 * it could not connect.
 */
export async function dial(opts: MultiplexerOptions, hooks: DialHooks): Promise<Dialed | undefined> {
  let endpoint = opts.endpoint;
  let role: Located['role'];
  let credentials: Dialed['credentials'];
  const stopped = (err: unknown): never | undefined => {
    if (!hooks.current()) return undefined;
    const cause = err instanceof ConnectError ? err : new ConnectError('could not find where to connect', { cause: err });
    hooks.unlocated(cause);
    throw cause;
  };
  if (opts.locate !== undefined) {
    let located: Located;
    try {
      located = await opts.locate();
    } catch (err) {
      return stopped(err);
    }
    if (!hooks.current()) return undefined;
    endpoint = located.endpoint;
    role = located.role;
  }
  const node = describeEndpoint(endpoint);
  hooks.located(node);
  let socket: net.Socket;
  try {
    socket = await openSocket(endpoint, opts, hooks.signal);
  } catch (err) {
    if (hooks.signal?.aborted) return undefined;
    throw err;
  }
  if (!hooks.current()) {
    socket.destroy();
    return undefined;
  }
  if (opts.credentials !== undefined) {
    // The socket waits idle meanwhile: its error or close is kept (an 'error' nobody listens to would throw).
    let gone: Error | undefined;
    const onError = (err: Error) => (gone ??= err);
    const onClose = () => (gone ??= new Error('the connection closed'));
    socket.on('error', onError);
    socket.on('close', onClose);
    try {
      credentials = { ...(await askProvider(opts.credentials, opts.connectTimeout || 10_000, hooks.signal)), fetchedAt: Date.now() };
    } catch (err) {
      socket.destroy();
      return stopped(err);
    } finally {
      socket.off('error', onError);
      socket.off('close', onClose);
    }
    if (!hooks.current()) {
      socket.destroy();
      return undefined;
    }
    if (gone !== undefined) {
      socket.destroy();
      throw new ConnectError(`could not connect: the connection ended while the credentials provider was asked (${(gone as NodeJS.ErrnoException).code ?? gone.message})`, { node, cause: gone });
    }
  }
  return { socket, role, credentials };
}

/** The handshake options of a dialed connection: its announced role, its provider's credentials. */
export function dialedOptions<O extends HandshakeOptions>(opts: O, dialed: Dialed): O {
  if (dialed.role === undefined && dialed.credentials === undefined) return opts;
  const c = dialed.credentials;
  return { ...opts, role: dialed.role, ...(c && { username: c.username, password: c.password }) };
}

/**
 * Ask a credentials provider, within `bound` ms. A failure, a late answer or
 * an answer that is not `{ username?, password, expiresAt? }` is a
 * `ConnectError` whose cause says why; no message ever holds a credential.
 */
export async function askProvider(provider: CredentialsProvider, bound: number, signal?: AbortSignal): Promise<Credentials> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  // Abandoned (`signal`): no wait for the provider's answer, and its timer goes now (it would keep the process alive).
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectTimeoutError(`the credentials provider did not answer within ${bound} ms`)), bound);
    onAbort = () => reject(signal!.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  let c: Credentials;
  try {
    c = await Promise.race([Promise.resolve().then(provider), late]);
  } catch (err) {
    throw new ConnectError('the credentials provider failed; see the cause', { cause: err });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort!);
  }
  const ok =
    c !== null && typeof c === 'object' && typeof c.password === 'string' &&
    (c.username === undefined || typeof c.username === 'string') &&
    (c.expiresAt === undefined || (typeof c.expiresAt === 'number' && Number.isFinite(c.expiresAt)));
  if (!ok) {
    const cause = new InvalidArgumentError('a credentials provider must resolve { username?: string, password: string, expiresAt?: epoch ms }');
    throw new ConnectError('the credentials provider gave something that is not credentials', { cause });
  }
  if (c.expiresAt !== undefined && c.expiresAt < EPOCH_MS_2001) {
    // Taken as ms it is long past: every live connection would ask again and send AUTH each second, for ever.
    const cause = new InvalidArgumentError("a credentials provider's expiresAt is epoch milliseconds; this one is before 2001, so seconds (a JWT's exp): multiply by 1000");
    throw new ConnectError('the credentials provider gave an expiresAt in seconds, not milliseconds', { cause });
  }
  return { username: c.username, password: c.password, expiresAt: c.expiresAt };
}

/** 2001-09-09 in epoch ms (1e12): an expiresAt below it is seconds (now is about 1.8e9 s), never a real expiry. */
const EPOCH_MS_2001 = 1e12;
