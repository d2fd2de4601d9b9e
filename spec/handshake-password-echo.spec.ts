/**
 * "No credential is ever in an error, a log line or stats()" (DESIGN.md,
 * Credentials). Redis does not quote a password back, but a proxy or a hostile
 * server in front of it may ("-ERR invalid password 'hunter2'"). The client
 * knows the password it sent, so whatever the server answers to the handshake
 * reaches no error, no 'error' event and no cause chain with it in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectError, Redis, ServerError } from '../lib/index.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';

const SECRET = 'S3cr3t-Passw0rd-xyz';
let server: ScriptedServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Everything an error carries that a log would print, down its cause chain. */
function printed(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as (Error & { serverMessage?: string }) | undefined, depth = 0; e !== undefined && depth < 10; e = e.cause as typeof e, depth++) {
    parts.push(String(e.message), String(e.stack), String(e.serverMessage));
  }
  return parts.join('\n');
}

async function echoingServer(): Promise<ScriptedServer> {
  return scriptedServer((args) => {
    const name = args[0]!.toUpperCase();
    if (name === 'HELLO' || name === 'AUTH') {
      const sent = args.find((a) => a.includes(SECRET)) ?? '';
      return `-ERR invalid password '${sent}' for this proxy\r\n`;
    }
    return undefined;
  });
}

describe('a server that quotes the password back in the handshake', () => {
  it('static password: the rejection, the error event and their causes never carry it', async () => {
    server = await echoingServer();
    const redis = new Redis(server.url, { username: 'bob', password: SECRET, reconnect: false });
    const events: Error[] = [];
    redis.on('error', (e) => events.push(e));
    try {
      const err = await redis.db.reply('GET', 'k').catch((e: Error) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect(printed(err)).not.toContain(SECRET);
      expect(printed(err)).toContain('(redacted)'); // the server's answer is kept, without the password
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) expect(printed(e)).not.toContain(SECRET);
      expect(JSON.stringify(redis.stats())).not.toContain(SECRET);
    } finally {
      redis.disconnect();
    }
  });

  it('a credentials provider\'s password too', async () => {
    server = await echoingServer();
    const redis = new Redis(server.url, { credentials: () => ({ username: 'bob', password: SECRET }), reconnect: false });
    const events: Error[] = [];
    redis.on('error', (e) => events.push(e));
    try {
      const err = await redis.db.reply('GET', 'k').catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(printed(err)).not.toContain(SECRET);
      for (const e of events) expect(printed(e)).not.toContain(SECRET);
    } finally {
      redis.disconnect();
    }
  });

  it('the refusal keeps its class and code', async () => {
    server = await echoingServer();
    const redis = new Redis(server.url, { password: SECRET, reconnect: false });
    redis.on('error', () => {});
    try {
      const err = (await redis.db.reply('GET', 'k').catch((e: Error) => e)) as Error;
      const cause = err.cause as ServerError;
      expect(cause).toBeInstanceOf(ServerError);
      expect(cause.code).toBe('ERR');
    } finally {
      redis.disconnect();
    }
  });
});
