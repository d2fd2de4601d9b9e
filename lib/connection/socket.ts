/**
 * Opening a transport: TCP (noDelay, keepalive), TLS (verification on unless the
 * caller turns it off explicitly), or a unix socket, within a connect timeout.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ConnectError, ConnectTimeoutError } from '../errors.js';

export interface Endpoint {
  host: string;
  port: number;
  /** Unix socket path; when set, host and port are ignored. */
  path?: string;
  /** TLS options (`rejectUnauthorized` defaults to true, `servername` to the host). */
  tls?: tls.ConnectionOptions;
}

export interface SocketOptions {
  connectTimeout: number;
  /** TCP keepalive initial delay in ms; 0 disables. */
  keepAlive: number;
  noDelay: boolean;
}

export function describeEndpoint(e: Endpoint): string {
  if (e.path) return e.path;
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/**
 * Open a socket and resolve once it can carry bytes (after the TLS handshake for TLS). `signal`: the attempt was
 * abandoned (close(), disconnect(), a newer attempt): the socket is destroyed and its timer cleared at once, not at
 * connectTimeout, so nothing of it keeps the process alive; the promise then rejects with the signal's reason.
 */
export function openSocket(endpoint: Endpoint, opts: SocketOptions, signal?: AbortSignal): Promise<net.Socket> {
  const node = describeEndpoint(endpoint);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let socket: net.Socket;
    const readyEvent = endpoint.tls ? 'secureConnect' : 'connect';
    if (endpoint.path) {
      socket = endpoint.tls
        ? tls.connect({ ...endpoint.tls, path: endpoint.path })
        : net.connect({ path: endpoint.path });
    } else if (endpoint.tls) {
      socket = tls.connect({
        servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
        ...endpoint.tls,
        host: endpoint.host,
        port: endpoint.port,
      });
    } else {
      socket = net.connect({ host: endpoint.host, port: endpoint.port });
    }
    // TLS to a server that does not speak it: TCP connects, then the handshake waits for ever. Say which it was.
    let tcpUp = false;
    if (endpoint.tls) socket.once('connect', () => (tcpUp = true));
    const timer =
      opts.connectTimeout > 0
        ? setTimeout(() => {
            cleanup();
            socket.destroy();
            const what = tcpUp ? `connected, but the TLS handshake did not finish within ${opts.connectTimeout} ms (does the server speak TLS on this port?)` : `no connection within ${opts.connectTimeout} ms`;
            reject(new ConnectTimeoutError(what, { node }));
          }, opts.connectTimeout)
        : undefined;
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(new ConnectError(`could not connect: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { node, cause: err }));
    };
    const onReady = () => {
      cleanup();
      if (!endpoint.path) {
        socket.setNoDelay(opts.noDelay);
        if (opts.keepAlive > 0) socket.setKeepAlive(true, opts.keepAlive);
      }
      resolve(socket);
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(signal!.reason);
    };
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      socket.off('error', onError);
      socket.off(readyEvent, onReady);
      signal?.removeEventListener('abort', onAbort);
    };
    socket.once('error', onError);
    socket.once(readyEvent, onReady);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
