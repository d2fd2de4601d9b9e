/**
 * NODE_DEBUG=redmux on connections that open while another client's script
 * runs away: the handshake's CLIENT TRACKING ON and SELECT are answered BUSY,
 * which refuses nothing (both are asked again until the server runs them:
 * ask-when-free.ts, select.ts). The ready line says so, instead of "key
 * tracking refused" (which means for good: an ACL, RESP2) or a database that
 * is not selected yet.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RetryPolicy } from '../lib/index.js';
import { outcome } from './support/outcome.js';
import { useRealServer } from './support/real-server.js';
import { until } from './support/until.js';

const env = useRealServer();

/** Run `script` (an ES module body) in a child process with NODE_DEBUG=redmux; its stderr. */
function debugOutput(script: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_DEBUG: 'redmux' }, timeout: 15_000 }, (err, _out, errOut) =>
      err ? reject(new Error(`child failed: ${err.message}\n${errOut}`)) : resolve(errOut),
    );
  });
}

describe('NODE_DEBUG=redmux when the handshake meets a busy server', () => {
  it('says tracking and the database are asked again, not refused', async () => {
    const admin = env.client();
    const threshold = await admin.db.reply('CONFIG', 'GET', 'busy-reply-threshold');
    await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', '20');
    const runaway = outcome(env.client().db.reply('EVAL', 'while true do end', 0));
    try {
      const probe = env.client({ retry: RetryPolicy.none() });
      await until('the server answers BUSY', async () => (await probe.db.reply('PING').catch((e: Error) => e.name)) === 'BusyScriptError');
      const dist = path.resolve(__dirname, '..', 'dist', 'index.js');
      const url = env.server.url;
      const stderr = await debugOutput(`
        const { once } = await import('node:events');
        const { Redis } = await import(${JSON.stringify(dist)});
        const cached = new Redis(${JSON.stringify(url)}, { cache: {} });
        const other = new Redis(${JSON.stringify(url)}, { db: 1 });
        await Promise.all([once(cached, 'ready'), once(other, 'ready')]);
        cached.disconnect();
        other.disconnect();
      `);
      expect(stderr).toMatch(/ready \(RESP3, database 0, server [^)]*\); key tracking not on yet: the server was busy, it is asked again until it runs; the client-side cache passes reads through until then/);
      expect(stderr).toMatch(/ready \(RESP3, database 1, server [^)]*\); database 1 not selected yet: the server was busy, SELECT is asked again until it runs; meanwhile only SCRIPT KILL and FUNCTION KILL are written/);
      expect(stderr).not.toMatch(/refused/);
    } finally {
      await admin.db.reply('SCRIPT', 'KILL').catch(() => undefined);
      await runaway;
      await admin.db.reply('CONFIG', 'SET', 'busy-reply-threshold', String((threshold as Record<string, string>)['busy-reply-threshold']));
    }
  });
});
