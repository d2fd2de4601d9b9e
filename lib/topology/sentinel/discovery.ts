/**
 * Asking sentinels where the master (or a healthy replica) of a named
 * deployment is. Pure discovery: it opens no connection to the data nodes
 * and confirms nothing (the caller checks `ROLE` on the node it connects to).
 *
 * - The sentinels are asked in turn; the one that answered moves to the
 *   front, so the next question goes to a sentinel known to work.
 * - A sentinel that cannot be reached, refuses our credentials, does not
 *   answer within `commandTimeout`, or does not know the name is skipped.
 *   When none answers, the error is a `ConnectError` that says how each one
 *   failed (never with a credential in it) and carries their errors as an
 *   `AggregateError` cause. Bounded: each sentinel costs at most
 *   `commandTimeout` (which includes connecting).
 * - Sentinels are talked to with our own multiplexer (RESP3 falling back to
 *   RESP2, the sentinels' own credentials and TLS, which are not the data
 *   nodes'), without reconnecting: one connection per sentinel, opened on
 *   first use and kept for the next question (a rediscovery during a
 *   failover should not pay a handshake), dropped as soon as that sentinel
 *   fails in any way, and closed by `close()`.
 * - Sentinels learn about each other; so do we (`learnSentinels`, on by
 *   default): every answer also carries the answering sentinel's
 *   `SENTINEL SENTINELS` (in the same write, so no extra round trip), and
 *   the sentinels it sees up that we did not know are appended to the list,
 *   after the configured ones (at most `MAX_SENTINELS` in all). They are
 *   never removed: one that went away is skipped like any failing sentinel.
 *   They are named as they announce themselves, so with an `addressMap`
 *   (NAT) they are learned at the address it gives (a duplicate of a
 *   configured one is then recognised as such); one it fails for is not
 *   learned. The configured sentinels are the user's own addresses: never mapped.
 */
import type { ConnectionOptions } from 'node:tls';
import { commandInfo } from '../../commands/index.js';
import { Command } from '../../connection/command.js';
import type { CredentialsProvider } from '../../connection/handshake.js';
import { Multiplexer, type MultiplexerHooks } from '../../connection/multiplexer.js';
import { describeEndpoint, type Endpoint } from '../../connection/socket.js';
import {
  ClosedError,
  ConnectError,
  ConnectTimeoutError,
  ConnectionLostError,
  InvalidArgumentError,
  ProtocolError,
  RedisError,
  ReplyTimeoutError,
  ServerError,
  annotate,
} from '../../errors.js';
import type { Arg } from '../../resp/encoder.js';
import { mapAddress, type AddressMap } from '../address-map.js';
import type { DecoderLimits, Reply } from '../../resp/types.js';
import {
  healthyReplicas,
  instanceAddress,
  looksDown,
  parseInstances,
  parseMasterAddress,
  pickReplica,
  type Address,
} from './replies.js';

export interface SentinelDiscoveryOptions {
  /** The master's name, as in the sentinels' `sentinel monitor <name> ...`. */
  name: string;
  /** The sentinels to ask, in order. */
  nodes: readonly Endpoint[];
  /** The sentinels' own ACL user (not the data nodes'). */
  username?: string;
  /** The sentinels' own password (not the data nodes'). */
  password?: string;
  /** The sentinels' own rotating credentials (instead of username/password), asked for every sentinel connection. */
  credentials?: CredentialsProvider;
  /** TLS for sentinels whose endpoint has none of its own (and for learned ones). */
  tls?: ConnectionOptions;
  /** Bound of opening a connection to one sentinel, handshake included (ms, > 0). */
  connectTimeout: number;
  /** Bound of one question to one sentinel, connecting included (ms, > 0). */
  commandTimeout: number;
  /** Append the sentinels the answering one knows (default true). */
  learnSentinels?: boolean;
  /** Replicas whose offset is within this many bytes of the freshest one count as equally fresh (default 1 MiB). */
  replicaLagBucket?: number;
  /** Decoder bounds for sentinel replies (small by default: a sentinel has no business sending much). */
  limits?: Partial<DecoderLimits>;
  /** Where to connect for learned sentinels, named as they announce themselves (`sentinel.addressMap`). */
  addressMap?: AddressMap;
}

export type DiscoveredRole = 'master' | 'replica';

export interface Discovered {
  /** Where to connect (host and port only: the data nodes' TLS is the caller's). */
  endpoint: Endpoint;
  /**
   * What the sentinel says the node is. `replica` discovery falls back to the
   * master (`role: 'master'`) when the sentinel knows no healthy replica:
   * reads keep working on the master rather than failing.
   */
  role: DiscoveredRole;
  /** The sentinel that answered (now first in `sentinels()`). */
  sentinel: Endpoint;
}

/** Most sentinels kept (configured + learned): a confused sentinel cannot grow the list without end. */
export const MAX_SENTINELS = 64;

const SENTINEL_LIMITS: Partial<DecoderLimits> = {
  maxBulkLength: 64 * 1024,
  maxReplyBytes: 8 * 1024 * 1024,
  maxReplyElements: 256 * 1024,
};

const SENTINEL_INFO = commandInfo('SENTINEL', 'GET-MASTER-ADDR-BY-NAME');

/** One sentinel's failure, for the summary. */
interface Failure {
  node: string;
  error: Error;
  /** The sentinel answered that it monitors no master by this name. */
  unknown: boolean;
}

const IGNORE: MultiplexerHooks = {
  ready: () => {},
  error: () => {}, // every failure reaches us through the command that was waiting
  reconnecting: () => {},
  close: () => {},
  unobservedError: () => {}, // we await every command we send
  push: () => {},
};

function positive(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new InvalidArgumentError(`sentinel ${what} must be a positive number of milliseconds (a sentinel that never answers must not hold discovery forever)`);
  }
  return v;
}

function isTcpEndpoint(e: Endpoint): boolean {
  return typeof e.host === 'string' && e.host.length > 0 && Number.isInteger(e.port) && e.port >= 1 && e.port <= 65535;
}

/** How one sentinel failed, in a few words and without a credential (server messages never echo them). */
function reason(err: Error): string {
  const chain: Error[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 8; e = e.cause) chain.push(e);
  const server = chain.find((e): e is ServerError => e instanceof ServerError);
  if (server) return server.serverMessage;
  if (chain.some((e) => e instanceof ConnectTimeoutError) || (err instanceof ReplyTimeoutError && !err.sent)) return 'no connection in time (connect or handshake)';
  if (err instanceof ReplyTimeoutError) return 'no answer in time';
  const code = chain.find((e) => !(e instanceof RedisError) && (e as NodeJS.ErrnoException).code) as NodeJS.ErrnoException | undefined;
  if (err instanceof ConnectError) return code ? `could not connect (${code.code})` : 'could not connect';
  if (err instanceof ConnectionLostError) return code ? `the connection was lost (${code.code})` : 'the connection was lost';
  return err.message;
}

export class SentinelDiscovery {
  private readonly opts: SentinelDiscoveryOptions;
  private readonly list: Endpoint[];
  private readonly connections = new Map<string, Multiplexer>();
  private readonly running: Partial<Record<DiscoveredRole, Promise<Discovered>>> = {};
  private closed = false;

  constructor(opts: SentinelDiscoveryOptions) {
    if (typeof opts?.name !== 'string' || opts.name.length === 0) {
      throw new InvalidArgumentError('sentinel name must be the non-empty name of the monitored master (as in `sentinel monitor <name> ...`)');
    }
    if (!Array.isArray(opts.nodes) || opts.nodes.length === 0) {
      throw new InvalidArgumentError('sentinel nodes must list at least one sentinel, e.g. [{ host: "10.0.0.5", port: 26379 }]');
    }
    for (const n of opts.nodes) {
      const ok = n !== null && typeof n === 'object' && (typeof n.path === 'string' ? n.path.length > 0 : isTcpEndpoint(n));
      if (!ok) throw new InvalidArgumentError('each sentinel node must be { host, port } (port 1-65535) or { path } for a unix socket');
    }
    positive(opts.connectTimeout, 'connectTimeout');
    positive(opts.commandTimeout, 'commandTimeout');
    const lag = opts.replicaLagBucket;
    if (lag !== undefined && (typeof lag !== 'number' || !(lag >= 0) || !Number.isFinite(lag))) {
      throw new InvalidArgumentError('sentinel replicaLagBucket must be a number of bytes >= 0 (0: only the freshest replicas)');
    }
    this.opts = { ...opts };
    this.list = [];
    for (const n of opts.nodes) this.add({ ...n, tls: n.tls ?? opts.tls });
  }

  /** The sentinels in the order they will be asked (copies). */
  sentinels(): Endpoint[] {
    return this.list.map((e) => ({ ...e }));
  }

  /** The master's address. Rejects with a `ConnectError` when no sentinel knows it. */
  async master(): Promise<Endpoint> {
    return (await this.discover('master')).endpoint;
  }

  /**
   * A healthy replica's address (see `healthyReplicas` in replies.ts), picked
   * at random among the freshest; the master's address when there is none
   * (use `discover('replica')` to tell the two apart).
   */
  async replica(): Promise<Endpoint> {
    return (await this.discover('replica')).endpoint;
  }

  /**
   * Ask the sentinels for a node with `role`. Concurrent calls for the same
   * role share one round of questions.
   */
  discover(role: DiscoveredRole): Promise<Discovered> {
    if (this.closed) return Promise.reject(new ClosedError('sentinel discovery is closed'));
    let p = this.running[role];
    if (p === undefined) {
      p = this.ask(role).finally(() => {
        if (this.running[role] === p) delete this.running[role];
      });
      this.running[role] = p;
    }
    return p;
  }

  /**
   * A switch was announced: questions asked before it may name the old
   * node, so the next `discover` starts a new round instead of joining one.
   */
  forget(): void {
    delete this.running.master;
    delete this.running.replica;
  }

  /** Ask this sentinel first next time (the one that announced a switch knows it first). */
  prefer(sentinel: Endpoint): void {
    const key = describeEndpoint(sentinel);
    const known = this.list.find((e) => describeEndpoint(e) === key);
    if (known) this.promote(known);
  }

  /** Close every sentinel connection (after the questions in flight are answered). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((m) => m.close()));
  }

  // ------------------------------------------------------------------ asking

  private async ask(role: DiscoveredRole): Promise<Discovered> {
    const failures: Failure[] = [];
    // A snapshot: learning sentinels while we iterate must not make us ask one twice.
    for (const sentinel of [...this.list]) {
      if (this.closed) throw new ClosedError('sentinel discovery was closed while discovering');
      const node = describeEndpoint(sentinel);
      try {
        const found = await this.askFresh(sentinel, node, role);
        if (found === null) {
          failures.push({ node, unknown: true, error: new ConnectError(`the sentinel does not know a master named '${this.opts.name}'`, { node }) });
          continue;
        }
        this.promote(sentinel);
        return { ...found, sentinel: { ...sentinel } };
      } catch (err) {
        // Whatever went wrong (refused, timed out, lost, garbled), start afresh with this sentinel next time.
        this.drop(node);
        if (err instanceof ClosedError && this.closed) throw err;
        failures.push({ node, unknown: false, error: err as Error });
      }
    }
    throw this.noAnswer(failures);
  }

  /** `askOne`, with one fresh try when a kept connection turns out dead (the sentinel restarted, a NAT forgot us). */
  private async askFresh(sentinel: Endpoint, node: string, role: DiscoveredRole): Promise<Omit<Discovered, 'sentinel'> | null> {
    const reused = this.connections.get(node)?.closed === false;
    try {
      return await this.askOne(sentinel, node, role);
    } catch (err) {
      if (!reused || this.closed || !(err instanceof ConnectionLostError || err instanceof ConnectError)) throw err;
      this.drop(node);
      return this.askOne(sentinel, node, role);
    }
  }

  /**
   * One sentinel, one round trip: the question (and `SENTINEL SENTINELS`
   * when learning) written together. Null when it does not know the name.
   */
  private async askOne(sentinel: Endpoint, node: string, role: DiscoveredRole): Promise<Omit<Discovered, 'sentinel'> | null> {
    const mux = this.connection(sentinel, node);
    const name = this.opts.name;
    const masterReply = this.send(mux, ['GET-MASTER-ADDR-BY-NAME', name]);
    const replicasReply = role === 'replica' ? this.send(mux, ['REPLICAS', name]) : undefined;
    const sentinelsReply = this.opts.learnSentinels !== false ? this.send(mux, ['SENTINELS', name]) : undefined;
    // Observed at once: the first failure below must not leave the others unhandled.
    replicasReply?.catch(() => {});
    sentinelsReply?.catch(() => {});

    let master: Address | null;
    try {
      master = parseMasterAddress(await masterReply);
    } catch (err) {
      throw err instanceof ProtocolError ? annotate(err, 'SENTINEL', node) : err;
    }
    if (master === null) return null;
    if (sentinelsReply) this.learn(await sentinelsReply.catch(() => null));
    if (role === 'master') return { endpoint: { host: master.host, port: master.port }, role: 'master' };

    let entries;
    try {
      entries = parseInstances(await replicasReply!);
    } catch (err) {
      // The master went away from this sentinel between the two questions: treat it as unknown.
      if (err instanceof ServerError && /no such master/i.test(err.serverMessage)) return null;
      throw err;
    }
    const picked = pickReplica(healthyReplicas(entries, master), this.opts.replicaLagBucket ?? 1024 * 1024);
    if (picked === undefined) return { endpoint: { host: master.host, port: master.port }, role: 'master' };
    return { endpoint: { host: picked.host, port: picked.port }, role: 'replica' };
  }

  private send(mux: Multiplexer, args: Arg[]): Promise<Reply> {
    const cmd = new Command<Reply>('SENTINEL', args, SENTINEL_INFO, 0, -1);
    mux.send(cmd);
    return cmd.toPromise();
  }

  /** The cached connection to a sentinel, or a new one (no reconnecting: a failure is final for it). */
  private connection(sentinel: Endpoint, node: string): Multiplexer {
    const cached = this.connections.get(node);
    if (cached !== undefined && !cached.closed) return cached;
    const o = this.opts;
    const mux = new Multiplexer(
      {
        endpoint: sentinel,
        username: o.username,
        password: o.password,
        credentials: o.credentials,
        protocol: 3,
        db: 0,
        discoverModules: false,
        connectTimeout: o.connectTimeout,
        commandTimeout: o.commandTimeout,
        keepAlive: 30_000,
        noDelay: true,
        reconnect: () => -1,
        offlineQueue: true, // commands wait for the first handshake; without reconnects nothing waits longer
        maxQueued: 64,
        maxQueuedBytes: 64 * 1024,
        flushThreshold: 64 * 1024,
        staleReplyGrace: o.commandTimeout,
        limits: { ...SENTINEL_LIMITS, ...o.limits },
      },
      IGNORE,
    );
    this.connections.set(node, mux);
    return mux;
  }

  private drop(node: string): void {
    const mux = this.connections.get(node);
    this.connections.delete(node);
    mux?.disconnect();
  }

  /** Move the sentinel that answered to the front. */
  private promote(sentinel: Endpoint): void {
    const i = this.list.indexOf(sentinel);
    if (i > 0) {
      this.list.splice(i, 1);
      this.list.unshift(sentinel);
    }
  }

  private add(e: Endpoint): void {
    const key = describeEndpoint(e);
    if (this.list.length < MAX_SENTINELS && !this.list.some((x) => describeEndpoint(x) === key)) this.list.push(e);
  }

  /** Append the sentinels the answering one sees up (an unreadable answer teaches nothing). */
  private learn(reply: Reply | null): void {
    if (reply === null) return;
    let peers;
    try {
      peers = parseInstances(reply);
    } catch {
      return;
    }
    for (const p of peers) {
      const addr = instanceAddress(p);
      if (!addr || looksDown(p)) continue;
      let to = addr;
      try {
        if (this.opts.addressMap !== undefined) to = mapAddress(this.opts.addressMap, addr.host, addr.port, 'sentinel.addressMap');
      } catch {
        continue; // the map cannot place it: not learned (the data nodes' connections report the map's failure)
      }
      this.add({ host: to.host, port: to.port, tls: this.opts.tls });
    }
  }

  private noAnswer(failures: Failure[]): ConnectError {
    const name = this.opts.name;
    const cause = new AggregateError(failures.map((f) => f.error), 'every sentinel failed');
    if (failures.length > 0 && failures.every((f) => f.unknown)) {
      return new ConnectError(`no sentinel knows a master named '${name}' (asked ${failures.map((f) => f.node).join(', ')}); check the name`, { cause });
    }
    const each = failures.map((f) => `${f.node}: ${f.unknown ? `does not know '${name}'` : reason(f.error)}`).join('; ');
    return new ConnectError(`no sentinel answered for master '${name}' (${each})`, { cause });
  }
}
