/**
 * close() while a connection attempt is pending (the credentials provider
 * has not answered, the server accepted the socket but not answered the
 * handshake) and no caller's command waits for it returns promptly, not
 * after connectTimeout: the attempt is abandoned, nothing more is written to
 * the server, and no socket or timer of it is left to keep the process
 * alive. A command issued before close() is still delivered when the attempt
 * succeeds (graceful close, as spec/client.spec.ts holds). Real servers, one
 * frozen with SIGSTOP.
 */
import { execFile } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosedError, Redis } from '../lib/index.js';
import { serverPid, whileStopped } from './support/process-stop.js';
import { destroyRedis, startRedis, type RedisServer } from './support/redis-server.js';
import { until, within } from './support/until.js';
import { outcome } from './support/outcome.js';
import { calls as commandCalls } from './support/commandstats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let server: RedisServer;
let admin: Redis;
let pid: number;

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url, { mode: 'standalone' });
  pid = await serverPid(admin);
});
afterAll(async () => {
  await admin?.close();
  await destroyRedis(server);
});

/** Connections the server has open besides the admin's own. */
async function others(): Promise<number> {
  return String(await admin.db.reply('CLIENT', 'LIST')).trim().split('\n').length - 1;
}

/** Calls the server ran of `command` (INFO commandstats). */
async function calls(command: string): Promise<number> {
  return commandCalls(admin, command);
}

function runChild(mode: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(here, 'support', 'ha-close-pending.child.mjs'), String(server.port), mode], { timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('close() while a connection attempt is pending', () => {
  it('the credentials provider has not answered: close() returns, the socket is closed, nothing was written', async () => {
    let asked = 0;
    const redis = new Redis({
      port: server.port,
      mode: 'standalone',
      connectTimeout: 60_000,
      commandTimeout: 120_000,
      credentials: () => (asked++, new Promise(() => {})),
    });
    redis.on('error', () => {});
    const hellos = await calls('hello');
    await until('the provider asked (the socket is open, waiting for it)', () => asked === 1);
    await within('close() returned', redis.close(), 5000);
    await until('the server saw the socket closed', async () => (await others()) === 0);
    expect(await calls('hello')).toBe(hellos);
    expect(asked).toBe(1);
    expect(await redis.db.reply('PING').catch((e: Error) => e)).toBeInstanceOf(ClosedError);
  });

  it('a command issued before close() while the provider is asked: delivered once it answers, then close() resolves', async () => {
    let answer: (() => void) | undefined;
    const redis = new Redis({
      port: server.port,
      mode: 'standalone',
      connectTimeout: 60_000,
      commandTimeout: 120_000,
      credentials: () => new Promise((resolve) => (answer = () => resolve({ password: 'unused-Pass-1' }))),
    });
    redis.on('error', () => {});
    const set = outcome(redis.db.reply('SET', 'hc:queued', 'v'));
    await until('the provider asked', () => answer !== undefined);
    const closed = redis.close();
    answer!();
    expect(await within('the queued SET answered', set)).toBe('OK');
    await within('close() returned', closed);
    expect(await admin.db.reply('GET', 'hc:queued')).toBe('v');
  });

  it('the server accepted the socket but is frozen before answering the handshake: close() returns; after it wakes, the socket is gone', async () => {
    const connects: unknown[] = [];
    const onConnect = (m: unknown) => connects.push(m);
    dc.subscribe('redmux:connect', onConnect);
    let closed = false;
    let redis: Redis | undefined;
    try {
      await whileStopped(pid, async () => {
        redis = new Redis({ port: server.port, mode: 'standalone', connectTimeout: 60_000, commandTimeout: 120_000 });
        redis.on('error', () => {});
        await until('the attempt started', () => connects.length > 0);
        await new Promise((r) => setTimeout(r, 100)); // the socket connected (the kernel accepts for the frozen server), HELLO written
        await within('close() returned', redis.close(), 5000);
        closed = true;
      });
    } finally {
      dc.unsubscribe('redmux:connect', onConnect);
      if (!closed) redis?.disconnect();
    }
    await until('the server saw the socket closed', async () => (await others()) === 0);
  });

  it.each(['provider', 'frozen'])('a process whose client was closed during a pending attempt (%s) exits on its own', { timeout: 40_000 }, async (mode) => {
    const run = () => runChild(mode);
    const { code, stdout, stderr } = mode === 'frozen' ? await whileStopped(pid, run) : await run();
    expect({ code, stderr: stderr.trim() }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ closed: true });
    await until('the server saw the socket closed', async () => (await others()) === 0);
  });
});
