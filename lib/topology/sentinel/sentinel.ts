/**
 * Sentinel routing: the standalone routing (one shared connection, the
 * blocking pool, the pub/sub hub) whose endpoint is found by asking the
 * sentinels, before every connection attempt, and followed through
 * failovers.
 *
 * - Every connection (shared, leases, pub/sub) asks discovery where to go
 *   (`locate`) and confirms the node's role with ROLE in its handshake; a
 *   mismatch drops it and it asks again. A lost connection, a READONLY
 *   reply, or a ROLE mismatch therefore all end in a rediscovery.
 * - One connection to one sentinel (rotating through them when it fails)
 *   subscribes to `+switch-master` (and, for `role: 'replica'`, `+sdown`).
 *   On a switch of our master: questions asked before it are forgotten, the
 *   sentinel that announced it is asked first, and every connection not
 *   already on the new master is dropped at once and reconnects there. What
 *   was written to the old master and not answered settles per rule 2
 *   (`maybeExecuted: true` for writes: the old master may have run it, and
 *   may yet lose it when it resyncs from the new one); nothing is written to
 *   it once the switch is known; what was never written goes to the new one.
 * - `addressMap` (NAT): the sentinels name data nodes as they announce
 *   themselves; every connection goes where the map says, asked in `locate`.
 *   What the sentinels say (a switch, a replica down, the master now) is
 *   compared with the announced address each connection was located by,
 *   never with the address it connected to.
 */
import type { Located, MultiplexerOptions } from '../../connection/multiplexer.js';
import { ServerError, type ConnectionError } from '../../errors.js';
import { logSentinelWatchRefused } from '../../connection/diagnostics.js';
import { PlaceWaits } from '../place-waits.js';
import type { PoolSettings } from '../../connection/pool.js';
import { describeEndpoint, type Endpoint } from '../../connection/socket.js';
import { CHANNEL, Hub, type Member } from '../../pubsub/hub.js';
import type { Reply } from '../../resp/types.js';
import type { SentinelSettings } from '../../options.js';
import { mapAddress, mappedEndpoint, movedLocator } from '../address-map.js';
import { OneUnitTopology } from '../one-unit.js';
import { Standalone, type TopologyHooks } from '../standalone.js';
import { SentinelDiscovery } from './discovery.js';


const SWITCH = '+switch-master';
/** Between leases of a db.watch that found no master (ms): sentinels are asked again each time. */
const UNREACHABLE_PAUSE = 250;
const SDOWN = '+sdown';

/** Most connected -> announced addresses remembered (a map function may send one node to ever new places). */
const MAX_REMEMBERED = 256;

/** The watch connection retries a sentinel every 100 ms .. 1 s, forever: it is what tells us of a switch. */
const watchReconnect = (attempt: number) => Math.min(1000, 100 * attempt);

/** A host and a TCP port (1..65535, digits only) as a sentinel event writes them. */
function address(host: string | undefined, port: string | undefined): boolean {
  return host !== undefined && host.length > 0 && port !== undefined && /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
}

function text(v: Reply | undefined): string {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : '';
}

export class Sentinel extends OneUnitTopology {
  readonly discovery: SentinelDiscovery;
  protected readonly unit: Standalone;
  private readonly watch: Hub;
  private readonly watcher: Member;
  private readonly settings: SentinelSettings;
  /** Which sentinel the watch connection is on (rotates on every reconnect). */
  private watchTurn = -1;
  private watching: Endpoint | undefined;
  private closed = false;
  /** How many times the watch connection was (re)subscribed. */
  private watchReady = 0;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  /** The last subscription was refused (and said so). */
  private watchRefused = false;
  /** How long a db.watch whose lease found no master waits for one (see unreachable). */
  private readonly watchBudget: number;
  /** Calls in that wait (see unreachable): close() and disconnect() end them. */
  private readonly pauses = new PlaceWaits(() => this.closed, 'the sentinels to name a reachable master');
  /** With an addressMap: the address a connection was made to -> the address the sentinels named (see `announced`). */
  private readonly announcedAs = new Map<string, string>();

  constructor(connection: MultiplexerOptions, pool: PoolSettings, hooks: TopologyHooks, settings: SentinelSettings) {
    super();
    this.settings = settings;
    const bound = connection.connectTimeout || 10_000;
    this.watchBudget = connection.commandTimeout || bound;
    this.discovery = new SentinelDiscovery({
      name: settings.name,
      nodes: settings.nodes,
      username: settings.username,
      password: settings.password,
      credentials: settings.credentials,
      tls: settings.tls,
      connectTimeout: bound,
      commandTimeout: Math.min(bound, connection.commandTimeout || bound),
      limits: connection.limits,
      addressMap: settings.addressMap,
    });
    const dataTls = connection.endpoint.tls;
    const role = settings.role;
    const map = settings.addressMap;
    const locate = async (): Promise<Located> => {
      const found = await this.discovery.discover(role);
      if (map === undefined) return { endpoint: { host: found.endpoint.host, port: found.endpoint.port, tls: dataTls }, role: found.role };
      // Asked before every connection; a throwing or bad function fails the waiting commands (never sent) with its ConnectError.
      const to = mapAddress(map, found.endpoint.host, found.endpoint.port, 'sentinel.addressMap');
      this.remember(describeEndpoint(to), describeEndpoint(found.endpoint));
      return { endpoint: mappedEndpoint({ host: found.endpoint.host, port: found.endpoint.port, tls: dataTls }, found.endpoint, to), role: found.role };
    };
    // Until the sentinels answered, errors name the service (the placeholder is never dialled: `locate` is).
    const service: Endpoint = { host: '', port: 0, path: `${role} of '${settings.name}' (sentinel)` };
    // A blocking command that found no master (never written) is sent again after a pause: its next lease asks the sentinels.
    const unreachable: TopologyHooks['unreachable'] = async (_cmd, err, since) => ((await this.unreachable(err, since)) ? (c, t, x) => this.unit.send(c, t, x) : undefined);
    const locateMoved = map && movedLocator(map, 'sentinel.addressMap'); // a MOVING names an in-network address too
    this.unit = new Standalone({ ...connection, endpoint: service, locate, locateMoved }, pool, { ...hooks, unreachable });

    this.watch = new Hub({
      ...connection,
      endpoint: { host: '', port: 0, path: `sentinels of '${settings.name}'` },
      username: settings.username,
      password: settings.password,
      credentials: settings.credentials,
      tracking: undefined, // the data nodes' client-side cache has nothing to do with a sentinel
      maintenance: undefined,
      clientName: undefined,
      db: 0,
      reconnect: watchReconnect,
      offlineQueue: true,
      pingInterval: connection.pingInterval || 5000, // a sentinel gone silent must not hide a switch for long
      locate: () => Promise.resolve(this.nextWatch()),
    });
    this.watcher = {
      buffers: false,
      deliver: (_kind, frame) => this.event(text(frame[1]), text(frame[2])),
      connection: (event) => {
        if (event === 'ready' && this.watchReady++ > 0) this.missed();
      },
      dropped: () => this.subscribe(),
    };
    this.subscribe();
  }

  /** The data node the shared connection is on (or the service's name until found). */
  get node(): string {
    return this.unit.node;
  }

  get role(): 'master' | 'replica' {
    return this.settings.role;
  }

  /** The address the sentinels named the node connected to as `node` by (itself without an addressMap). */
  private announced(node: string): string {
    return this.announcedAs.get(node) ?? node;
  }

  private remember(connected: string, announced: string): void {
    this.announcedAs.delete(connected); // re-inserted last: the oldest entry is the one dropped
    this.announcedAs.set(connected, announced);
    if (this.announcedAs.size > MAX_REMEMBERED) this.announcedAs.delete(this.announcedAs.keys().next().value!);
  }

  private nextWatch(): Located {
    const list = this.discovery.sentinels();
    this.watchTurn = (this.watchTurn + 1) % list.length;
    const e = list[this.watchTurn]!;
    this.watching = e;
    return { endpoint: { ...e, tls: e.tls ?? this.settings.tls } };
  }

  /** Subscribe to the sentinel events; a refusal or a lost call tries again in a second. */
  private subscribe(): void {
    if (this.closed) return;
    const channels = this.settings.role === 'replica' ? [SWITCH, SDOWN] : [SWITCH];
    // No deadline: the call waits for a sentinel to answer, across reconnects.
    this.watch.subscribe(this.watcher, CHANNEL, channels.map((c) => Buffer.from(c)), 0).then(() => (this.watchRefused = false), (err: unknown) => {
      if (this.closed) return;
      // Refused (an ACL without the channel): said once, until a subscription is accepted again.
      if (err instanceof ServerError && !this.watchRefused) logSentinelWatchRefused(this.settings.name, err);
      if (err instanceof ServerError) this.watchRefused = true;
      this.resubscribeTimer = setTimeout(() => this.subscribe(), 1000);
      this.resubscribeTimer.unref();
    });
  }

  /** A sentinel event: `+switch-master <name> <old ip> <old port> <new ip> <new port>`, `+sdown <type> <name> <ip> <port> @ <master> ...`. */
  private event(channel: string, payload: string): void {
    const p = payload.split(' ');
    if (channel === SWITCH) {
      // One that names no usable address (a confused sentinel, a cut payload) moves nothing: dropping every connection for it would fail writes in flight.
      if (p[0] !== this.settings.name || p.length < 5 || !address(p[1], p[2]) || !address(p[3], p[4])) return;
      const from = describeEndpoint({ host: p[1]!, port: Number(p[2]) });
      const to = describeEndpoint({ host: p[3]!, port: Number(p[4]) });
      this.discovery.forget();
      if (this.watching) this.discovery.prefer(this.watching);
      const why = `sentinel announced a new master for '${this.settings.name}' (${from} -> ${to}); reconnecting there`;
      // A master stays only on the new master; a replica stays unless it was promoted or was the old master.
      const keep =
        this.settings.role === 'master' ? (node: string) => this.announced(node) === to : (node: string) => this.announced(node) !== to && this.announced(node) !== from;
      this.unit.relocate(why, keep);
      return;
    }
    if (channel === SDOWN && this.settings.role === 'replica' && p[0] === 'slave' && p[5] === this.settings.name && address(p[2], p[3])) {
      const down = describeEndpoint({ host: p[2]!, port: Number(p[3]) });
      this.discovery.forget();
      this.unit.relocate(`sentinel sees the replica ${down} down; moving to a healthy one`, (node) => this.announced(node) !== down);
    }
  }

  /**
   * The watch connection came back (on this or another sentinel): a switch
   * announced while it was down was missed. Ask again, and move every
   * connection that is not on the master named now.
   */
  private missed(): void {
    if (this.closed || this.settings.role !== 'master') return;
    this.discovery.forget();
    if (this.watching) this.discovery.prefer(this.watching);
    this.discovery.discover('master').then(
      (found) => {
        const to = describeEndpoint(found.endpoint);
        if (!this.closed) this.unit.relocate(`the sentinels name ${to} as the master now (a switch announced while we were not listening)`, (node) => this.announced(node) === to);
      },
      () => {}, // no sentinel answers: the connections find out by themselves (loss, READONLY, ROLE)
    );
  }

  /**
   * A db.watch's lease, or a blocking command's, could not reach the master
   * (nothing watched, nothing written): each new lease asks the sentinels
   * where the master is, so after a short pause it leases again, until a
   * failover names a new master or the command timeout since `since` is
   * over (false). (Polled: a switch may come while the watch connection is
   * between sentinels.) The client closing meanwhile: ClosedError.
   */
  unreachable(_err: ConnectionError, since: number): Promise<boolean> {
    return this.pauses.wait(since, this.watchBudget, UNREACHABLE_PAUSE);
  }


  async close(): Promise<void> {
    this.stop();
    await Promise.all([this.unit.close(), this.watch.close()]);
    await this.discovery.close();
  }

  disconnect(): void {
    this.stop();
    this.unit.disconnect();
    this.watch.disconnect();
    void this.discovery.close();
  }

  private stop(): void {
    this.closed = true;
    this.pauses.endAll();
    if (this.resubscribeTimer !== undefined) clearTimeout(this.resubscribeTimer);
  }
}
