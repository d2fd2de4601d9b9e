/**
 * A private Redis Sentinel deployment for tests: one master, `replicas`
 * replicas (`--replicaof`), and `sentinels` redis-sentinel processes, every
 * process on a free loopback port (never 6379 or 26379), no persistence, each
 * sentinel with its own writable config file in its own temp dir (sentinels
 * rewrite it as they learn).
 *
 * Speed. Sentinel's timers are made for production: INFO every 10 s, a hello
 * every 2 s (how sentinels find each other), and a master that comes back
 * after a failover is demoted only 4 hellos (8 s) after it reappears. Left
 * alone, a start takes ~2 s and a `SENTINEL FAILOVER` ~12 s before the old
 * master says `slave`. `SENTINEL DEBUG` (Redis 7.0+, what Redis's own sentinel
 * tests use) shortens those periods on each sentinel right after it starts;
 * the algorithms are untouched, only their clocks run faster. It also raises
 * the tilt trigger: a loaded test machine must not send a sentinel into
 * TILT mode (30 s of doing nothing) because its timer ran late once.
 *
 * Behind NAT (`hostnames`): every process announces itself by a name under
 * `.invalid` (RFC 2606: it never resolves), as containers announce in-network
 * addresses the host cannot reach. Only the deployment resolves those names:
 * each sentinel runs in its own mount namespace (`unshare --map-root-user --mount`,
 * Linux) where a hosts file of this deployment is bound over /etc/hosts; so
 * does every data node (sentinels send `REPLICAOF <name>` with
 * `announce-hostnames`). The sentinels answer the names (`resolve-hostnames`,
 * `announce-hostnames`). The replicas are first made replicas by IP, as a
 * hand-written config would do (they report `master_host:127.0.0.1` until a
 * sentinel reconfigures them).
 *
 * Every wait is bounded (`timeout`, default 20 s) and a failed wait says what
 * it was still waiting for. The harness talks to the processes with
 * `NodeClient` (./node-client.ts: our codec on a socket, RESP2, no retries,
 * no reconnects), authenticating with the configured credentials.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Arg } from '../../lib/resp/encoder.js';
import type { Reply } from '../../lib/resp/types.js';
import { NodeClient } from './node-client.js';
import { ensureRedisInstalled, freePort, startRedis, withHostsFile, type RedisServer } from './redis-server.js';

export interface Credentials {
  /** An ACL user (created with every permission, the `default` user turned off); without it, `requirepass`. */
  username?: string;
  /** Printable ASCII, no spaces or quotes (it goes into argv and config files as is). */
  password: string;
}

export interface StartSentinelsOptions {
  /** The monitored master's name (default `mymaster`). */
  name?: string;
  /** Replicas of the master (default 1). */
  replicas?: number;
  /** redis-sentinel processes (default 3). */
  sentinels?: number;
  /** Sentinels that must agree the master is down (default 2). */
  quorum?: number;
  /** `down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
  /** `failover-timeout` (default 3000); a sentinel does not lead two failovers of one master within twice this. */
  failoverTimeoutMs?: number;
  /** Credentials of the data nodes (master and replicas) and of the sentinels themselves, independently. */
  auth?: { data?: Credentials; sentinel?: Credentials };
  /** Bound of every wait, in ms (default 20 s; 60 s with `productionClocks`). */
  timeout?: number;
  /**
   * Leave Sentinel's own clocks alone (no `SENTINEL DEBUG`): slower (a
   * `SENTINEL FAILOVER` settles in ~20 s), but timings are what production
   * sees, e.g. to measure a master's death to the first write.
   */
  productionClocks?: boolean;
  /**
   * Announce every data node as `node-<port>.redmux.invalid` and every
   * sentinel as `sentinel-<port>.redmux.invalid`: what the sentinels answer
   * cannot be reached by the client (see the header). `restartNode` is not
   * available then (a restarted node would forget its announced name).
   */
  hostnames?: boolean;
}

/** The name a data node announces with `hostnames`. */
export const announcedNode = (port: number) => `node-${port}.redmux.invalid`;
/** The name a sentinel announces with `hostnames`. */
export const announcedSentinel = (port: number) => `sentinel-${port}.redmux.invalid`;

export type DataRole = 'master' | 'replica';

export interface DataNode {
  readonly port: number;
  readonly url: string;
  /** As last seen by the harness (start, failover, killMaster, waitSettled). */
  readonly role: DataRole;
  /** Pid of the running process, undefined while killed. */
  readonly pid: number | undefined;
  readonly alive: boolean;
}

export interface SentinelProcess {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Its config file (rewritten by the sentinel). */
  readonly config: string;
  readonly pid: number | undefined;
  readonly alive: boolean;
}

export interface Switch {
  /** Port of the master before. */
  from: number;
  /** Port of the master after. */
  to: number;
  /** From the trigger (the SENTINEL FAILOVER or the kill) to the first sentinel naming the new master. */
  switchMs: number;
  /** From the trigger to a settled deployment (see `waitSettled`). */
  settledMs: number;
}

export interface RedisSentinels {
  readonly name: string;
  /** Every data node, the killed ones included. */
  readonly nodes: readonly DataNode[];
  readonly sentinels: readonly SentinelProcess[];
  /** Sentinel ports, in start order (for a `nodes: [...]` option). */
  readonly sentinelPorts: readonly number[];
  /** `redis://127.0.0.1:PORT` of every sentinel, in start order. */
  readonly sentinelUrls: readonly string[];
  node(port: number): DataNode;
  /** The data nodes with this role, as last seen by the harness. */
  replicas(): DataNode[];
  /** The master's port, as the first live sentinel reports it. */
  masterPort(): Promise<number>;
  /** One command to a data node, authenticated with the data credentials (connections cached per port). */
  call(port: number, ...args: Arg[]): Promise<Reply>;
  /** One command to a sentinel, authenticated with the sentinel credentials. */
  sentinelCall(port: number, ...args: Arg[]): Promise<Reply>;
  /** What a data node says of itself (ROLE). */
  roleOf(port: number): Promise<DataRole>;
  /** `SENTINEL FAILOVER` and wait until the deployment settled on a new master (the old one a connected replica). */
  failover(): Promise<Switch>;
  /** kill -9 the master and wait until the sentinels failed over and settled. The old master stays dead. */
  killMaster(): Promise<Switch>;
  /** kill -9 a data node; nothing else. */
  killNode(port: number): Promise<void>;
  /** Start a killed data node again on its port and wait until the sentinels made it a healthy replica. */
  restartNode(port: number): Promise<void>;
  /** kill -9 a sentinel; nothing else. */
  killSentinel(port: number): Promise<void>;
  /** Start a killed sentinel again (same port, its rewritten config, so the same id) and wait until settled. */
  restartSentinel(port: number): Promise<void>;
  /**
   * Wait until every live sentinel names the same live master (not `not`,
   * when given), that node says `master`, every other live data node is its
   * connected replica, every live sentinel sees the master up and not in a
   * failover, every live data node but the master as a healthy replica
   * (flags `slave` only, link `ok`, replicating the master), and every other
   * live sentinel as healthy. Resolves with the master's port.
   */
  waitSettled(opts?: { not?: number; timeout?: number }): Promise<number>;
  /** kill -9 every process and remove every directory. */
  stop(): Promise<void>;
}

/**
 * Sentinel clocks for tests (ms). INFO every 500 ms (replica health is seen
 * fast), a hello every 200 ms (sentinels meet within a second; a returning
 * master is demoted after 800 ms), pings and down-checks every 200 ms.
 */
const DEBUG_PERIODS: Arg[] = [
  'info-period', 500,
  'publish-period', 200,
  'ping-period', 200,
  'ask-period', 200,
  'tilt-trigger', 10_000,
  'tilt-period', 1000,
];

/**
 * `redis-sentinel` when installed (Debian ships it as its own package), else
 * `redis-server <config> --sentinel`, the same program in sentinel mode.
 */
const HAS_SENTINEL_BINARY = spawnSync('redis-sentinel', ['--version'], { stdio: 'ignore' }).status === 0;
const SENTINEL_BINARY: [string, ...string[]] = HAS_SENTINEL_BINARY ? ['redis-sentinel'] : ['redis-server'];
const SENTINEL_BINARY_TAIL: string[] = HAS_SENTINEL_BINARY ? [] : ['--sentinel'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A RESP2 flat `[key, value, ...]` array as a record of strings. */
function record(reply: Reply): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const a = reply as Reply[];
  for (let i = 0; i + 1 < a.length; i += 2) out[String(a[i])] = String(a[i + 1]);
  return out;
}

function checkCredentials(c: Credentials | undefined, what: string): void {
  if (!c) return;
  for (const v of [c.username, c.password]) {
    if (v !== undefined && (!/^[\x21-\x7e]+$/.test(v) || /["'#]/.test(v))) {
      throw new Error(`${what} credentials must be printable ASCII without spaces, quotes or '#'`);
    }
  }
}

/** A pid is alive (signal 0 only checks). */
function running(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`sentinel harness: ${what} did not happen within ${timeoutMs} ms (still: ${(last as Error)?.message ?? last})`);
    }
    await sleep(50);
  }
}

interface NodeState {
  server: RedisServer;
  role: DataRole;
  pid: number | undefined;
  alive: boolean;
}

interface SentinelState {
  port: number;
  dir: string;
  config: string;
  child: ChildProcess | undefined;
}

export async function startSentinels(opts: StartSentinelsOptions = {}): Promise<RedisSentinels> {
  ensureRedisInstalled();
  const name = opts.name ?? 'mymaster';
  const replicaCount = opts.replicas ?? 1;
  const sentinelCount = opts.sentinels ?? 3;
  const quorum = opts.quorum ?? 2;
  const downAfter = opts.downAfterMs ?? 1000;
  const failoverTimeout = opts.failoverTimeoutMs ?? 3000;
  const bound = opts.timeout ?? (opts.productionClocks ? 60_000 : 20_000);
  const dataAuth = opts.auth?.data;
  const sentinelAuth = opts.auth?.sentinel;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error('the master name must be letters, digits, _ . or -');
  if (sentinelCount < 1 || quorum < 1 || quorum > sentinelCount) throw new Error('need 1 <= quorum <= sentinels');
  checkCredentials(dataAuth, 'data');
  checkCredentials(sentinelAuth, 'sentinel');

  const nodes: NodeState[] = [];
  const hostsDir = opts.hostnames ? mkdtempSync(path.join(os.tmpdir(), 'redmux-sentinel-hosts-')) : undefined;
  const hostsFile = hostsDir && path.join(hostsDir, 'hosts');
  if (hostsFile !== undefined) writeFileSync(hostsFile, '127.0.0.1 localhost\n'); // bound over /etc/hosts: it must exist first
  /** With hostnames: the deployment's /etc/hosts, naming every process of the deployment (rewritten in place as sentinels get ports). */
  const writeHosts = () => {
    if (hostsFile === undefined) return;
    const names = [...nodes.map((n) => announcedNode(n.server.port)), ...sentinels.filter((s) => s.port > 0).map((s) => announcedSentinel(s.port))];
    writeFileSync(hostsFile, ['127.0.0.1 localhost', ...names.map((n) => `127.0.0.1 ${n}`)].join('\n') + '\n');
  };

  const sentinels: SentinelState[] = [];
  const killAllSync = () => {
    for (const n of nodes) if (n.alive && n.pid !== undefined && running(n.pid)) process.kill(n.pid, 'SIGKILL');
    for (const s of sentinels) if (s.child?.pid && s.child.exitCode === null) s.child.kill('SIGKILL');
  };
  // A crashed test worker must not leave processes behind.
  process.once('exit', killAllSync);

  const sentinelAlive = (s: SentinelState) => s.child !== undefined && s.child.exitCode === null && s.child.signalCode === null;

  /** A start that failed half-way: nothing may stay behind. */
  const abort = async (err: unknown): Promise<never> => {
    await stop().catch(() => {});
    throw err;
  };

  /** Connections cached per port (as promises: concurrent first calls share one). */
  const clients = new Map<number, Promise<NodeClient>>();
  const client = async (port: number, auth: Credentials | undefined): Promise<NodeClient> => {
    let p = clients.get(port);
    if (p) {
      const c = await p.catch(() => undefined);
      if (c && !c.closed) return c;
      if (clients.get(port) === p) clients.delete(port);
    }
    p = NodeClient.connect(port, { auth, timeout: 5000 }); // 5 s per call: the waits around retry well within their bound
    clients.set(port, p);
    return p;
  };
  const call = async (port: number, ...args: Arg[]): Promise<Reply> => (await client(port, dataAuth)).call(...args);
  const sentinelCall = async (port: number, ...args: Arg[]): Promise<Reply> => (await client(port, sentinelAuth)).call(...args);
  const dropClient = (port: number) => {
    clients.get(port)?.then((c) => c.close(), () => {});
    clients.delete(port);
  };

  /** kill -9 everything and remove every directory (also what a failed start leaves). */
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killAllSync);
    for (const port of [...clients.keys()]) dropClient(port);
    const exits: Promise<void>[] = [];
    for (const s of sentinels) {
      const child = s.child;
      if (child && sentinelAlive(s)) {
        exits.push(new Promise<void>((resolve) => child.once('exit', () => resolve())));
        child.kill('SIGKILL');
      }
    }
    for (const n of nodes) {
      if (n.alive) exits.push(n.server.kill());
      n.alive = false;
      n.pid = undefined;
    }
    await Promise.all(exits);
    for (const n of nodes) rmSync(n.server.dir, { recursive: true, force: true });
    for (const s of sentinels) rmSync(s.dir, { recursive: true, force: true });
    if (hostsDir !== undefined) rmSync(hostsDir, { recursive: true, force: true });
  };

  // ---------------------------------------------------------------- data nodes

  const dataArgs: string[] = ['--repl-diskless-sync-delay', '0'];
  if (dataAuth?.username) {
    dataArgs.push('--user', dataAuth.username, 'on', `>${dataAuth.password}`, '~*', '&*', '+@all', '--user', 'default', 'off');
    dataArgs.push('--masteruser', dataAuth.username, '--masterauth', dataAuth.password);
  } else if (dataAuth) {
    dataArgs.push('--requirepass', dataAuth.password, '--masterauth', dataAuth.password);
  }

  const pidOf = async (port: number): Promise<number> => {
    const info = String(await call(port, 'INFO', 'server'));
    return Number(/^process_id:(\d+)/m.exec(info)![1]);
  };

  const nodeState = (port: number): NodeState => {
    const n = nodes.find((x) => x.server.port === port);
    if (!n) throw new Error(`no data node on port ${port} in this deployment`);
    return n;
  };

  /** ROLE of a data node: `master`, or `replica` with its master's port and link state. */
  const roleReply = async (port: number): Promise<{ role: DataRole; masterPort?: number; connected?: boolean }> => {
    const r = (await call(port, 'ROLE')) as Reply[];
    if (r[0] === 'master') return { role: 'master' };
    return { role: 'replica', masterPort: Number(r[2]), connected: r[3] === 'connected' };
  };

  let masterServer: RedisServer;
  try {
    masterServer = await startRedis(dataArgs, { hostsFile });
    nodes.push({ server: masterServer, role: 'master', pid: undefined, alive: true });
    // With hostnames, replicas are made replicas once they announce their name (REPLCONF ip-address is sent when the link is made).
    const replicaof = opts.hostnames ? [] : ['--replicaof', '127.0.0.1', String(masterServer.port)];
    const started = await Promise.allSettled(Array.from({ length: replicaCount }, () => startRedis([...dataArgs, ...replicaof], { hostsFile })));
    for (const r of started) if (r.status === 'fulfilled') nodes.push({ server: r.value, role: 'replica', pid: undefined, alive: true });
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    if (opts.hostnames) {
      writeHosts();
      for (const n of nodes) await call(n.server.port, 'CONFIG', 'SET', 'replica-announce-ip', announcedNode(n.server.port));
      for (const n of nodes.slice(1)) await call(n.server.port, 'REPLICAOF', '127.0.0.1', masterServer.port);
    }
    for (const n of nodes) n.pid = await pidOf(n.server.port);
    await until('replication online', bound, async () => {
      for (const n of nodes.slice(1)) {
        const r = await roleReply(n.server.port);
        if (!r.connected) throw new Error(`replica ${n.server.port} not connected to its master yet`);
      }
    });
  } catch (err) {
    return abort(err);
  }

  // ---------------------------------------------------------------- sentinels

  const sentinelConfig = (port: number, dir: string): string => {
    const lines = [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `logfile ${path.join(dir, 'sentinel.log')}`,
      ...(opts.hostnames
        ? ['sentinel resolve-hostnames yes', 'sentinel announce-hostnames yes', `sentinel announce-ip ${announcedSentinel(port)}`]
        : ['sentinel resolve-hostnames no']),
      `sentinel monitor ${name} ${opts.hostnames ? announcedNode(masterServer.port) : '127.0.0.1'} ${masterServer.port} ${quorum}`,
      `sentinel down-after-milliseconds ${name} ${downAfter}`,
      `sentinel failover-timeout ${name} ${failoverTimeout}`,
      `sentinel parallel-syncs ${name} 1`,
    ];
    if (dataAuth?.username) lines.push(`sentinel auth-user ${name} ${dataAuth.username}`);
    if (dataAuth) lines.push(`sentinel auth-pass ${name} ${dataAuth.password}`);
    if (sentinelAuth?.username) {
      // Sentinels authenticate to each other as this user too (is-master-down-by-addr, votes).
      lines.push(`user ${sentinelAuth.username} on >${sentinelAuth.password} +@all`, 'user default off');
      lines.push(`sentinel sentinel-user ${sentinelAuth.username}`, `sentinel sentinel-pass ${sentinelAuth.password}`);
    } else if (sentinelAuth) {
      lines.push(`requirepass ${sentinelAuth.password}`, `sentinel sentinel-pass ${sentinelAuth.password}`);
    }
    return lines.join('\n') + '\n';
  };

  const sentinelState = (port: number): SentinelState => {
    const s = sentinels.find((x) => x.port === port);
    if (!s) throw new Error(`no sentinel on port ${port} in this deployment`);
    return s;
  };
  const liveSentinels = () => sentinels.filter(sentinelAlive);
  const liveNodes = () => nodes.filter((n) => n.alive);

  /** Start one sentinel process on `s.port` with its config file; resolve once it answers with the debug clocks set. */
  const launchSentinel = async (s: SentinelState): Promise<void> => {
    const command = [...SENTINEL_BINARY, s.config, ...SENTINEL_BINARY_TAIL];
    const [program, ...args] = hostsFile === undefined ? command : withHostsFile(hostsFile, command);
    const child = spawn(program!, args, { stdio: 'ignore' });
    s.child = child;
    dropClient(s.port);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-sentinel on ${s.port} exited with code ${child.exitCode} (see ${s.dir}/sentinel.log)`);
      try {
        await (opts.productionClocks ? sentinelCall(s.port, 'PING') : sentinelCall(s.port, 'SENTINEL', 'DEBUG', ...DEBUG_PERIODS));
        return;
      } catch (err) {
        dropClient(s.port);
        if (Date.now() > deadline) throw new Error(`redis-sentinel on ${s.port} did not answer: ${(err as Error).message}`);
        await sleep(20);
      }
    }
  };

  const startSentinel = async (): Promise<SentinelState> => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-sentinel-'));
    const s: SentinelState = { port: 0, dir, config: path.join(dir, 'sentinel.conf'), child: undefined };
    sentinels.push(s);
    for (let tries = 0; ; tries++) {
      do s.port = await freePort();
      while (s.port === 26379);
      writeFileSync(s.config, sentinelConfig(s.port, dir));
      writeHosts();
      try {
        await launchSentinel(s);
        return s;
      } catch (err) {
        s.child?.kill('SIGKILL');
        if (tries >= 3) throw err;
        // someone took the port between probe and bind: try another
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: sentinelCount }, () => startSentinel()));
  } catch (err) {
    return abort(err);
  }

  // ---------------------------------------------------------------- settling

  const masterPort = async (): Promise<number> => {
    const live = liveSentinels();
    if (live.length === 0) throw new Error('no live sentinel to ask');
    const addr = (await sentinelCall(live[0]!.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as Reply[] | null;
    if (!addr) throw new Error(`sentinel ${live[0]!.port} does not know ${name}`);
    return Number(addr[1]);
  };

  /** One look at the deployment; throws with what is not settled yet. */
  const settledProbe = async (not: number | undefined): Promise<number> => {
    const live = liveSentinels();
    if (live.length === 0) throw new Error('no live sentinel');
    const answers = await Promise.all(live.map((s) => sentinelCall(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)));
    const ports = answers.map((a) => (a ? Number((a as Reply[])[1]) : NaN));
    const master = ports[0]!;
    if (ports.some((p) => p !== master)) throw new Error(`sentinels name different masters: ${ports.join(', ')}`);
    if (master === not) throw new Error(`sentinels still name ${not} as the master`);
    const m = nodes.find((n) => n.server.port === master);
    if (!m?.alive) throw new Error(`sentinels name ${master}, which is not a live node of this deployment`);
    if ((await roleReply(master)).role !== 'master') throw new Error(`${master} does not say master yet`);
    const others = liveNodes().filter((n) => n !== m);
    for (const n of others) {
      const r = await roleReply(n.server.port);
      if (r.role !== 'replica' || r.masterPort !== master || !r.connected) {
        throw new Error(`${n.server.port} is not a connected replica of ${master} yet (${r.role} of ${r.masterPort ?? '-'})`);
      }
    }
    for (const s of live) {
      const info = record(await sentinelCall(s.port, 'SENTINEL', 'MASTER', name));
      if (info.flags !== 'master') throw new Error(`sentinel ${s.port} sees the master as ${info.flags}`);
      const replicas = ((await sentinelCall(s.port, 'SENTINEL', 'REPLICAS', name)) as Reply[]).map(record);
      for (const n of others) {
        const r = replicas.find((x) => Number(x.port) === n.server.port);
        if (!r || r.flags !== 'slave' || r['master-link-status'] !== 'ok' || Number(r['master-port']) !== master) {
          throw new Error(`sentinel ${s.port} does not see ${n.server.port} as a healthy replica of ${master} yet (${r ? `${r.flags}, link ${r['master-link-status']}` : 'unknown'})`);
        }
      }
      const peers = ((await sentinelCall(s.port, 'SENTINEL', 'SENTINELS', name)) as Reply[]).map(record);
      for (const o of live) {
        if (o === s) continue;
        const p = peers.find((x) => Number(x.port) === o.port);
        if (!p || p.flags !== 'sentinel') throw new Error(`sentinel ${s.port} does not see sentinel ${o.port} as healthy yet (${p?.flags ?? 'unknown'})`);
      }
    }
    for (const n of nodes) n.role = n === m ? 'master' : 'replica';
    return master;
  };

  const waitSettled = (o: { not?: number; timeout?: number } = {}): Promise<number> =>
    until('a settled deployment', o.timeout ?? bound, () => settledProbe(o.not));

  /** Wait until the first live sentinel names a master other than `from`; returns when it did. */
  const waitSwitch = (from: number) =>
    until(`a sentinel naming a master other than ${from}`, bound, async () => {
      const now = await masterPort();
      if (now === from) throw new Error(`still ${from}`);
      return Date.now();
    });

  try {
    await waitSettled();
  } catch (err) {
    return abort(err);
  }

  // ---------------------------------------------------------------- operations

  const killNode = async (port: number): Promise<void> => {
    const n = nodeState(port);
    dropClient(port);
    n.alive = false;
    n.pid = undefined;
    await n.server.kill();
  };

  const api: RedisSentinels = {
    name,
    get nodes(): DataNode[] {
      return nodes.map((n) => ({
        port: n.server.port,
        url: n.server.url,
        role: n.role,
        pid: n.pid,
        alive: n.alive,
      }));
    },
    get sentinels(): SentinelProcess[] {
      return sentinels.map((s) => ({
        port: s.port,
        url: `redis://127.0.0.1:${s.port}`,
        dir: s.dir,
        config: s.config,
        pid: sentinelAlive(s) ? s.child!.pid : undefined,
        alive: sentinelAlive(s),
      }));
    },
    get sentinelPorts() {
      return sentinels.map((s) => s.port);
    },
    get sentinelUrls() {
      return sentinels.map((s) => `redis://127.0.0.1:${s.port}`);
    },
    node(port) {
      nodeState(port);
      return api.nodes.find((n) => n.port === port)!;
    },
    replicas() {
      return api.nodes.filter((n) => n.role === 'replica');
    },
    masterPort,
    call,
    sentinelCall,
    async roleOf(port) {
      return (await roleReply(port)).role;
    },
    async failover() {
      const from = await masterPort();
      const t0 = Date.now();
      // NOGOODSLAVE / INPROG: the sentinel's view of the replicas is not fresh yet, or a failover still runs.
      await until('SENTINEL FAILOVER accepted', bound, () => sentinelCall(liveSentinels()[0]!.port, 'SENTINEL', 'FAILOVER', name));
      const switched = await waitSwitch(from);
      const to = await waitSettled({ not: from });
      return { from, to, switchMs: switched - t0, settledMs: Date.now() - t0 };
    },
    async killMaster() {
      const from = await masterPort();
      const t0 = Date.now();
      await killNode(from);
      const switched = await waitSwitch(from);
      const to = await waitSettled({ not: from });
      return { from, to, switchMs: switched - t0, settledMs: Date.now() - t0 };
    },
    killNode,
    async restartNode(port) {
      if (opts.hostnames) throw new Error('restartNode is not available with hostnames (the node would forget its announced name)');
      const n = nodeState(port);
      if (n.alive) throw new Error(`data node ${port} is running`);
      // It comes back with its start arguments (a master without --replicaof, or a replica of its first
      // master); the sentinels reconfigure it as a replica of the current master, as they would in production.
      await n.server.restart();
      n.alive = true;
      n.pid = await pidOf(port);
      n.role = 'replica';
      await waitSettled();
    },
    async killSentinel(port) {
      const s = sentinelState(port);
      dropClient(port);
      const child = s.child;
      if (!child || !sentinelAlive(s)) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
    async restartSentinel(port) {
      const s = sentinelState(port);
      if (sentinelAlive(s)) throw new Error(`sentinel ${port} is running`);
      await launchSentinel(s);
      await waitSettled();
    },
    waitSettled,
    stop,
  };
  return api;
}

/** Whether a process with this pid runs (for specs that check nothing is left behind). */
export { running as processRunning };
