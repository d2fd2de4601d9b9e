// A private Redis Cluster for the benchmark: 3 masters + 3 replicas, each a
// redis-server in cluster mode on a free loopback port (never 6379, below
// 55535 since the cluster bus listens on port + 10000), in one temp dir, no
// persistence. The minimal start/stop of spec/support/redis-cluster.ts (which
// is TypeScript and talks through lib/'s codec), here with redis-cli, so the
// bench runs from plain `node` on the built package.
//
// Joined by hand as the spec helper does (ADDSLOTSRANGE, distinct config
// epochs, MEET, REPLICATE), which is faster than `redis-cli --cluster create`.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const cli = (port, ...args) =>
  new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args.map(String)], { timeout: 5000 }, (err, stdout) => {
      if (err) reject(err);
      else if (/^(ERR|\(error\))/.test(stdout)) reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${stdout.trim()}`));
      else resolve(stdout);
    });
  });

const listens = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

const bindable = (port) =>
  new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

async function nodePort(taken) {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 35000);
    if (port === 6379 || taken.has(port)) continue;
    if (!(await bindable(port)) || !(await bindable(port + 10000))) continue;
    taken.add(port);
    return port;
  }
}

async function until(what, ms, probe) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`cluster: ${what} did not happen within ${ms} ms${last ? ` (${last.message})` : ''}`);
    await sleep(100);
  }
}

/** Starts the cluster; resolves with { ports, masters, stop() } once every node says cluster_state:ok and agrees. */
export async function startCluster({ masters = 3, replicasPerMaster = 1 } = {}) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'redmux-bench-cluster-'));
  const taken = new Set();
  const children = [];
  const total = masters * (1 + replicasPerMaster);
  const stop = () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  };
  // The nodes die with this process even when it is killed (no 'exit' handler runs on SIGKILL).
  const watchdog = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done; kill -9 $(cat '${home}/pids' 2>/dev/null) 2>/dev/null; rm -rf '${home}'`], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
  try {
    const ports = [];
    for (let i = 0; i < total; i++) {
      const port = await nodePort(taken);
      const dir = path.join(home, String(port));
      // prettier-ignore
      const child = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', home,
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no',
        '--repl-diskless-sync-delay', '0', '--logfile', `${dir}.log`,
      ], { stdio: 'ignore' });
      children.push(child);
      ports.push(port);
    }
    writeFileSync(path.join(home, 'pids'), children.map((c) => c.pid).join(' '));
    for (const p of ports) await until(`node ${p} listening`, 10_000, () => listens(p));
    const masterPorts = ports.slice(0, masters);
    const replicaPorts = ports.slice(masters);
    const ids = await Promise.all(ports.map(async (p) => (await cli(p, 'CLUSTER', 'MYID')).trim()));
    await Promise.all(
      masterPorts.map((p, i) => cli(p, 'CLUSTER', 'ADDSLOTSRANGE', Math.floor((i * 16384) / masters), Math.floor(((i + 1) * 16384) / masters) - 1)),
    );
    await Promise.all(ports.map((p, i) => cli(p, 'CLUSTER', 'SET-CONFIG-EPOCH', i + 1)));
    await Promise.all(ports.slice(1).map((p) => cli(ports[0], 'CLUSTER', 'MEET', '127.0.0.1', p)));
    await Promise.all(
      replicaPorts.map(async (p, i) => {
        const masterId = ids[i % masters];
        await until(`node ${p} learning its master`, 20_000, async () => {
          const line = (await cli(p, 'CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(masterId));
          return line && !line.includes('handshake');
        });
        await cli(p, 'CLUSTER', 'REPLICATE', masterId);
      }),
    );
    await until('cluster_state:ok on every node, all agreeing', 30_000, async () => {
      for (const p of ports) {
        if (!/cluster_state:ok/.test(await cli(p, 'CLUSTER', 'INFO'))) return false;
        const lines = (await cli(p, 'CLUSTER', 'NODES')).trim().split('\n');
        if (lines.length !== total || lines.some((l) => /fail|handshake|noaddr/.test(l.split(' ')[2]))) return false;
        if (lines.filter((l) => / (master|myself,master) /.test(l)).length !== masters) return false;
      }
      for (const p of replicaPorts) if (!/master_link_status:up/.test(await cli(p, 'INFO', 'replication'))) return false;
      return true;
    });
    return { ports, masters: masterPorts, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
