/**
 * Private redis-server processes for tests: free loopback ports (never 6379),
 * no persistence, a temp dir each, stopped after use. Also installs the
 * Debian packages when they are missing and we are root (CI on a fresh machine).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function ensureRedisInstalled(): void {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (found) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server', 'redis-sentinel', 'redis-tools'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return;
  }
  throw new Error('redis-server not found on PATH: install it (Debian: apt-get install redis-server redis-sentinel redis-tools)');
}

export async function freePort(): Promise<number> {
  for (;;) {
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    if (port !== 6379) return port;
  }
}

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  /** Unix socket path of this server. */
  socket: string;
  /** Stop gracefully (SIGTERM) and wait for the exit. */
  stop(): Promise<void>;
  /** kill -9 and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same port after stop() or kill(). */
  restart(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * `command` run with `hostsFile` bound over /etc/hosts, for that process
 * only: a private mount namespace (`unshare --map-root-user --mount`, Linux),
 * so names the test made up resolve there and nowhere else. The command is
 * exec'd: its pid is the one spawned.
 */
export function withHostsFile(hostsFile: string, command: string[]): [string, ...string[]] {
  return ['unshare', '--map-root-user', '--mount', 'sh', '-c', `mount --bind "${hostsFile}" /etc/hosts && exec "$@"`, 'sh', ...command];
}

export interface StartRedisOptions {
  /** Resolve names through this hosts file (see `withHostsFile`). */
  hostsFile?: string;
}

export async function startRedis(extraArgs: string[] = [], opts: StartRedisOptions = {}): Promise<RedisServer> {
  ensureRedisInstalled();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-redis-'));
  const socket = path.join(dir, 'redis.sock');
  let port = await freePort();
  let child: ChildProcess;
  const launch = async () => {
    const command = ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--unixsocket', socket, '--unixsocketperm', '700', '--enable-debug-command', 'yes', ...extraArgs];
    const [program, ...args] = opts.hostsFile === undefined ? command : withHostsFile(opts.hostsFile, command);
    child = spawn(program!, args, { stdio: 'ignore' });
    await waitForPort(port, child);
  };
  const exited = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  for (let tries = 0; ; tries++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (tries >= 3) throw err;
      port = await freePort(); // someone took the port between probe and bind
    }
  }
  return {
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    dir,
    socket,
    async stop() {
      child.kill('SIGTERM');
      await exited();
    },
    async kill() {
      child.kill('SIGKILL');
      await exited();
    },
    async restart() {
      await launch();
    },
  } as RedisServer;
}

/** Stop a server and remove its directory. */
export async function destroyRedis(server: RedisServer | undefined): Promise<void> {
  if (!server) return;
  await server.kill();
  rmSync(server.dir, { recursive: true, force: true });
}
