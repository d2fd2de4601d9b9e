/**
 * README "Observability": each line of the `NODE_DEBUG=redmux` sample is a
 * line the client really prints, in the same words (pid, port, connection
 * number, delay and server version aside), for the same story: a client that
 * connects, is cut by the server, reconnects and closes.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRealServer } from './support/real-server.js';

const root = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const env = useRealServer();

/** The sample's lines as patterns: what varies from run to run is a number. */
function samplePatterns(): RegExp[] {
  const at = readme.indexOf('**`NODE_DEBUG=redmux`.**');
  const block = /```\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
  return block
    .trim()
    .split('\n')
    .map((line) => {
      const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const pattern = escaped
        .replace(/^REDMUX \d+:/, 'REDMUX \\d+:')
        .replaceAll('127\\.0\\.0\\.1:6379', '127\\.0\\.0\\.1:\\d+')
        .replace(/#\d+/g, '#\\d+')
        .replace(/in \d+ ms/, 'in \\d+ ms')
        .replace(/server \d+\\\.\d+\\\.\d+/, 'server \\d+\\.\\d+\\.\\d+');
      return new RegExp(`^${pattern}$`);
    });
}

describe('README, observability', () => {
  it('every line of the NODE_DEBUG=redmux sample is printed, word for word', async () => {
    const patterns = samplePatterns();
    expect(patterns.length).toBeGreaterThanOrEqual(5);
    const dist = path.join(root, 'dist', 'index.js');
    const script = `
      const { Redis } = await import(${JSON.stringify(dist)});
      const redis = new Redis(${JSON.stringify(env.server.url)}, { reconnect: { baseDelay: 10, maxDelay: 20 } });
      const admin = new Redis(${JSON.stringify(env.server.url)});
      await admin.db.reply('CLIENT', 'KILL', 'ID', await redis.db.reply('CLIENT', 'ID'));
      await new Promise((r) => redis.once('ready', r));
      await Promise.all([redis.close(), admin.close()]);
    `;
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_DEBUG: 'redmux' }, timeout: 15_000 }, (err, _out, errOut) =>
        err ? reject(new Error(`child failed: ${err.message}\n${errOut}`)) : resolve(errOut),
      );
    });
    const printed = stderr.trim().split('\n');
    for (const pattern of patterns) expect(printed.some((line) => pattern.test(line)), `${pattern} in\n${stderr}`).toBe(true);
  });
});
