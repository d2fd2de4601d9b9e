/**
 * A db.multi block refused at queue time with TRYAGAIN (a multi-key command
 * while its slot migrates) waits, then is sent again. When the client is
 * disconnected during that wait, the block still settles, with ClosedError
 * (it never ran), even when nothing else keeps the process alive: before, the
 * wait's timer was unref'd and Node exited (code 13) with the caller's await
 * never settled. A child process runs the client (dist/), so its exit is seen.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keySlot } from '../lib/commands/slot.js';
import { useCluster } from './support/real-cluster.js';

const { cluster } = useCluster({}, { start: { masters: 3, replicasPerMaster: 0 } });

async function tagOn(port: number): Promise<string> {
  for (let i = 0; ; i++) if ((await cluster.ownerOf(keySlot(`{mx${i}}`))) === port) return `mx${i}`;
}

describe('a MULTI block waiting out TRYAGAIN when the client is disconnected', () => {
  it('settles with ClosedError before the process may exit', async () => {
    const [x, y] = cluster.masters().map((m) => m.port) as [number, number];
    const tag = await tagOn(x);
    await cluster.call(x, 'SET', `{${tag}}here`, 'v');
    const move = await cluster.moveSlot(keySlot(`{${tag}}`), y, { stopAt: 'migrating' });
    try {
      const child = path.join(__dirname, 'support', 'multi-try-again-exit.child.mjs');
      const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [child, cluster.seedUrl, tag], { timeout: 20_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect({ code, stderr: stderr.trim() }).toEqual({ code: 0, stderr: '' });
      const { disconnected, outcome } = JSON.parse(stdout.trim().split('\n').pop()!) as { disconnected: boolean; outcome: { ok: boolean; name?: string } };
      expect(disconnected).toBe(true);
      expect(outcome).toMatchObject({ ok: false, name: 'ClosedError' });
    } finally {
      await move.finish();
    }
  });
});
