/**
 * A raw test connection to one redis-server or redis-sentinel process, on our
 * sans-IO codec and nothing else: no routing, no retries, no reconnection. The
 * cluster and sentinel harnesses drive their processes with it, and specs use
 * it to see a node's replies as the server sent them, in RESP2 or RESP3.
 *
 * Every wait is bounded: the connect and each call by `timeout`. A call that
 * times out closes the connection, since a late reply would put the stream
 * out of step with the calls behind it.
 */
import net from 'node:net';
import { ServerError } from '../../lib/errors.js';
import { Decoder } from '../../lib/resp/decoder.js';
import { encodeCommand, type Arg } from '../../lib/resp/encoder.js';
import { DECODE_BUFFERS, type Reply } from '../../lib/resp/types.js';

export interface NodeClientOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 2 (default, no HELLO) or 3 (HELLO 3 first). */
  protocol?: 2 | 3;
  /** Authenticate on connect: `AUTH [username] password` (in RESP3, within the HELLO). */
  auth?: { username?: string; password: string };
  /** Bound of the connect and of every call, in ms (default 10 s). */
  timeout?: number;
}

interface Waiter {
  resolve(value: Reply): void;
  reject(err: Error): void;
  flags: number;
  timer: NodeJS.Timeout;
}

/**
 * `call(...args)` resolves with the decoded reply (our decoder's defaults:
 * strings, RESP3 maps as null-prototype objects) and rejects with the
 * `ServerError` of an error reply. Push frames are dropped. Once closed (or
 * the process died), every call rejects.
 */
export class NodeClient {
  private readonly waiters: Waiter[] = [];
  private readonly decoder: Decoder;
  private closedWith: Error | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly timeout: number,
  ) {
    this.decoder = new Decoder({
      replyFlags: () => this.waiters[0]?.flags ?? 0,
      onReply: (value) => {
        const w = this.waiters.shift();
        if (!w) return;
        clearTimeout(w.timer);
        if (value instanceof ServerError) w.reject(value);
        else w.resolve(value);
      },
      onPush: () => {},
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.feed(chunk);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static async connect(port: number, opts: NodeClientOptions = {}): Promise<NodeClient> {
    const timeout = opts.timeout ?? 10_000;
    const socket = net.connect(port, opts.host ?? '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to ${port} within ${timeout} ms`));
      }, timeout);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const client = new NodeClient(socket, timeout);
    const auth = opts.auth;
    try {
      if (opts.protocol === 3) {
        await (auth ? client.call('HELLO', 3, 'AUTH', auth.username ?? 'default', auth.password) : client.call('HELLO', 3));
      } else if (auth) {
        await (auth.username ? client.call('AUTH', auth.username, auth.password) : client.call('AUTH', auth.password));
      }
    } catch (err) {
      client.close(); // a refused handshake must not leave the socket open
      throw err;
    }
    return client;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Send one command; strings come back as strings. */
  call(...args: Arg[]): Promise<Reply> {
    return this.send(0, args);
  }

  /** Send one command; bulk strings come back as Buffers (binary keys). */
  callBuffers(...args: Arg[]): Promise<Reply> {
    return this.send(DECODE_BUFFERS, args);
  }

  /** Send one command, decoding its reply with these `DECODE_*` flags. */
  callWith(flags: number, ...args: Arg[]): Promise<Reply> {
    return this.send(flags, args);
  }

  close(): void {
    this.socket.destroy();
    this.fail(new Error('connection closed'));
  }

  private send(flags: number, args: Arg[]): Promise<Reply> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        this.fail(new Error(`no reply to ${String(args[0])} within ${this.timeout} ms`));
      }, this.timeout);
      this.waiters.push({ resolve, reject, flags, timer });
      this.socket.write(encodeCommand(args));
    });
  }

  private fail(err: Error): void {
    this.closedWith ??= err;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.closedWith);
    }
  }
}
