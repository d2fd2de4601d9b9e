/**
 * A scripted RESP server for protocol and fault tests: it decodes commands with
 * our own decoder and lets each test answer with whatever bytes it likes. By
 * default it answers HELLO like a Redis 7 server and runs everything else
 * against an ioredis-mock backend, so a test only scripts the misbehaviour.
 */
import net from 'node:net';
import RedisMock from 'ioredis-mock';
import { Decoder } from '../../lib/resp/decoder.js';

export type Responder = (args: string[], socket: net.Socket, server: ScriptedServer) => string | Buffer | undefined | Promise<string | Buffer | undefined>;

export interface ScriptedServer {
  port: number;
  url: string;
  /** Every command received, on every connection, in order. */
  received: string[][];
  /** Sockets of the live connections. */
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

/** Encode a JS value as RESP2/3 for the mock backend's answers. */
export function encodeReply(value: unknown): string {
  if (value === null || value === undefined) return '_\r\n';
  if (typeof value === 'number') return Number.isInteger(value) ? `:${value}\r\n` : `,${value}\r\n`;
  if (typeof value === 'string') return `$${Buffer.byteLength(value)}\r\n${value}\r\n`;
  if (Buffer.isBuffer(value)) return `$${value.length}\r\n${value.toString('latin1')}\r\n`;
  if (Array.isArray(value)) return `*${value.length}\r\n${value.map(encodeReply).join('')}`;
  if (value instanceof Error) return `-ERR ${value.message.replace(/\r?\n/g, ' ')}\r\n`;
  return `$${String(value).length}\r\n${String(value)}\r\n`;
}

/** A RESP3 push frame of `items` (each already encoded). */
export function pushFrame(...items: string[]): string {
  return `>${items.length}\r\n${items.join('')}`;
}

/** The maintenance push `MOVING <seq> <seconds> <address>` (seq 1, 30 s: the connection moves now, the old one served meanwhile). */
export function movingPush(address: string): string {
  return pushFrame(encodeReply('MOVING'), ':1\r\n', ':30\r\n', encodeReply(address));
}

export const HELLO_REPLY = '%3\r\n+server\r\n+redis\r\n+version\r\n+7.0.0\r\n+proto\r\n:3\r\n';

export async function scriptedServer(respond?: Responder): Promise<ScriptedServer> {
  const backend = new RedisMock();
  const received: string[][] = [];
  const sockets = new Set<net.Socket>();
  const defaultAnswer = async (args: string[]): Promise<string> => {
    const name = args[0]!.toUpperCase();
    if (name === 'HELLO') return HELLO_REPLY;
    if (name === 'CLIENT' && args[1]?.toUpperCase() === 'ID') return ':1\r\n';
    if (name === 'SELECT') return '+OK\r\n';
    if (name === 'PING') return '+PONG\r\n';
    const fn = (backend as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[name.toLowerCase()];
    if (typeof fn !== 'function') return `-ERR unknown command '${args[0]}'\r\n`;
    try {
      const v = await fn.apply(backend, args.slice(1));
      return v === 'OK' ? '+OK\r\n' : encodeReply(v);
    } catch (err) {
      return encodeReply(err);
    }
  };
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // Answers go out in order even when some are computed asynchronously.
    let chain = Promise.resolve();
    const decoder = new Decoder({
      replyFlags: () => 0,
      onPush() {},
      onReply(value) {
        const args = (value as unknown[]).map(String);
        received.push(args);
        chain = chain.then(async () => {
          let answer = respond ? await respond(args, socket, server) : undefined;
          if (answer === undefined) answer = await defaultAnswer(args);
          if (answer !== '' && !socket.destroyed) socket.write(answer);
        });
      },
    });
    socket.on('data', (chunk) => {
      try {
        decoder.feed(chunk);
      } catch {
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  const server: ScriptedServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    received,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
  return server;
}
