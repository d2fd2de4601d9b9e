/**
 * What a pub/sub hub keeps (see hub.ts): the kinds of subscription, the
 * members that hold them, one entry per server-side subscription with the
 * members that want it, and the calls waiting for confirmations. Names are
 * identified by their bytes (keyOf).
 */
import { isUtf8 } from 'node:buffer';
import { wasSent, type Command } from '../connection/command.js';
import { keySlot } from '../commands/slot.js';
import { ConnectionLostError, ReplyTimeoutError } from '../errors.js';
import type { Reply } from '../resp/types.js';

/** Subscription kinds. */
export const CHANNEL = 0;
export const PATTERN = 1;
export const SHARD = 2;
export type Kind = typeof CHANNEL | typeof PATTERN | typeof SHARD;
export const KINDS: readonly Kind[] = [CHANNEL, PATTERN, SHARD];
/** The commands of each kind, by kind. */
export const SUBSCRIBE = ['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE'] as const;
export const UNSUBSCRIBE = ['UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE'] as const;

/** What a hub holds and how its connections fared (stats().pubsub). */
export interface PubSubStats {
  /** Open pub/sub connections. */
  connections: number;
  /** Channels, patterns and shard channels subscribed on the server (each once, however many subscribers want it). */
  channels: number;
  patterns: number;
  shardChannels: number;
  /** Of the pub/sub connections, over the client's life, counted as the command connections' stats are. */
  reconnects: number;
  /** Connections that were up (handshake done) and were lost. */
  connectionLost: number;
  /** Attempts to connect that failed before the handshake finished. */
  connectFailures: number;
  timeouts: number;
  /** Connections moved on the server's word (a MOVING maintenance push, a RESP2 token refresh): not losses. */
  handovers: number;
}

/** What the hub needs of a member. */
export interface Member {
  /** It wants names and payloads as Buffers (decode 'buffer'). */
  readonly buffers: boolean;
  /**
   * A message for a name this member holds, as decoded: `[kind, channel,
   * payload]`, or `[kind, pattern, channel, payload]` for patterns; strings,
   * or Buffers (always, once a member that wants Buffers joined: a frame of
   * strings then began before it joined). Called from the connection's read
   * path: it must not throw.
   */
  deliver(kind: Kind, frame: Reply[]): void;
  /**
   * The connection: 'ready' (connected, and every subscription made before is
   * confirmed again), 'reconnecting', 'error' (a connection error), 'close'
   * (the hub closed, or gave up: then `detail` is why). Must not throw.
   */
  connection(event: 'ready' | 'reconnecting' | 'error' | 'close', detail?: unknown): void;
  /** The server refused to restore one of this member's subscriptions: it is gone. Must not throw. */
  dropped(kind: Kind, name: Buffer, err: Error): void;
  /**
   * A shard channel of this member now belongs to another node (its slot was
   * migrated, or its master failed over): this hub let go of it; subscribe it
   * again wherever routing now places it. Without this, `dropped` is called.
   * `group`: the undecided user call over several hubs that holds it (a
   * resolved part of it): the subscribe there is a part of that call too, so
   * that its undo finds it. Must not throw.
   */
  moved?(kind: Kind, name: Buffer, group?: CallGroup): void;
  /**
   * What it hears is its node's own (keyspace events): when the connection
   * is lost it stays and reconnects there (Hub.moveChannels passes it by);
   * only its node leaving routing (Hub.handOver) moves it.
   */
  readonly nodeLocal?: boolean;
}

/**
 * How a member holds an entry. KEPT: for good (a call of its resolved and
 * can no longer be undone). Else the calls of the member that asked for it and may still
 * be undone: a failed call takes out its own hold only, and the member lets
 * go of the entry when no hold is left. So a call undone never takes a name
 * from under another call of the same member that asked for it too.
 */
export const KEPT = true;
export type Hold = typeof KEPT | Set<Call>;

/** One server-side subscription and the members that want it. */
export class Entry {
  /** The members holding it, each with how (see Hold). */
  readonly members = new Map<Member, Hold>();
  /** `members` as an array for delivery, made again after a change (no iterator per message). */
  private list: Member[] | undefined = undefined;
  /** The server confirmed it on the current connection. */
  confirmed = false;
  /** Its SUBSCRIBE was refused: it never existed on the server, nothing to unsubscribe. */
  refused = false;
  /** The subscribe command outstanding for it (queued, written, or timed out awaiting its late reply). */
  cmd: Command | undefined = undefined;
  /** Calls waiting for its confirmation. */
  waiters: Call[] = [];
  /** Its name is not valid UTF-8: frames about it must be decoded as Buffers. */
  readonly binary: boolean;
  readonly key: string;
  constructor(
    readonly kind: Kind,
    readonly name: Buffer,
  ) {
    this.binary = !isUtf8(name);
    this.key = keyOf(name, this.binary);
  }

  get holders(): Member[] {
    return (this.list ??= [...this.members.keys()]);
  }

  /**
   * `call` asks for this entry for its member: its hold is recorded (and the
   * entry is in `call.added`) unless the member holds it for good already.
   * True when the member did not hold it before.
   */
  hold(call: Call): boolean {
    const h = this.members.get(call.member);
    if (h === KEPT) return false;
    call.added.push(this);
    if (h !== undefined) {
      h.add(call);
      return false;
    }
    this.members.set(call.member, new Set([call]));
    this.list = undefined;
    return true;
  }

  /** Whether `call`'s hold is still there (its member did not let go of the entry since). */
  heldBy(call: Call): boolean {
    const h = this.members.get(call.member);
    return h !== undefined && h !== KEPT && h.has(call);
  }

  /**
   * How `member`'s hold moves elsewhere (see Member.moved): one subscribe for
   * good (undefined), or one per undecided user call over several hubs that
   * holds it (a call that resolved on its own holds it for good: see
   * Hub.settle). Calls still waiting count only with `waiting` (else they
   * are made again instead: see Leaving.calls).
   */
  movesOf(member: Member, waiting = false): (CallGroup | undefined)[] {
    const h = this.members.get(member);
    if (h === undefined) return [];
    if (h === KEPT) return [undefined];
    const groups = new Set<CallGroup | undefined>();
    for (const c of h) if (waiting || c.done) groups.add(c.group);
    return [...groups];
  }

  /** `call` can no longer be undone: its member holds this entry for good (if it still holds it by that call). */
  keep(call: Call): void {
    if (this.heldBy(call)) this.members.set(call.member, KEPT);
  }

  /** `call` is undone: its hold goes. True when that was the member's last one (the member lets go: see Hub.release). */
  drop(call: Call): boolean {
    const h = this.members.get(call.member);
    return h !== undefined && h !== KEPT && h.delete(call) && h.size === 0;
  }

  remove(member: Member): void {
    this.members.delete(member);
    this.list = undefined;
  }
}

/**
 * A name's identity as a Map key: its text when it is valid UTF-8 (what a
 * frame decoded as strings holds), else its bytes after a lone surrogate,
 * which no valid UTF-8 decodes to.
 */
export function keyOf(name: Buffer, binary = !isUtf8(name)): string {
  return binary ? '\ud800' + name.toString('latin1') : name.toString('utf8');
}

/** The key of a name as a frame carries it (a string or a Buffer), or undefined. */
export function frameKey(name: Reply | undefined): string | undefined {
  return typeof name === 'string' ? name : Buffer.isBuffer(name) ? keyOf(name) : undefined;
}

/**
 * Entries as the server takes them in one (UN)SUBSCRIBE: all together, but
 * shard channels one slot per command (SSUBSCRIBE and SUNSUBSCRIBE refuse
 * channels of several slots with CROSSSLOT, even on the node that serves
 * them all). None for none.
 */
export function perCommand(kind: Kind, entries: Entry[]): Entry[][] {
  if (entries.length === 0) return [];
  if (kind !== SHARD) return [entries];
  const bySlot = new Map<number, Entry[]>();
  for (const e of entries) {
    const slot = keySlot(e.name);
    const group = bySlot.get(slot);
    if (group) group.push(e);
    else bySlot.set(slot, [e]);
  }
  return [...bySlot.values()];
}

/**
 * One user call spanning several hubs (cluster: names on several nodes), all
 * or nothing: each hub's part stays undoable after it resolved, until the
 * whole call is decided (Hub.keep, Hub.undo on every hub in `hubs`).
 */
export class CallGroup<H = unknown> {
  readonly hubs = new Set<H>();
  /** Kept or undone: a hold of its that moves after that is not followed as its part (see Member.moved). */
  decided: 'kept' | 'undone' | undefined = undefined;
}

/** A subscribe call in progress. */
export class Call {
  /** Confirmations still awaited. */
  pending = 0;
  done = false;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Entries this call holds for its member (see Entry.hold): what a failure undoes. */
  readonly added: Entry[] = [];
  /** Entries it waited for (not confirmed when it asked): whether one was written is what its timeout says (timedOut). */
  readonly awaited: Entry[] = [];
  constructor(
    readonly member: Member,
    readonly command: string,
    readonly resolve: () => void,
    readonly reject: (err: Error) => void,
    /** The call it is a part of: its holds are kept or undone with it (else once it resolves or fails). */
    readonly group?: CallGroup,
  ) {}

  /** Wait for `e`'s confirmation. */
  wait(e: Entry): void {
    e.waiters.push(this);
    this.awaited.push(e);
    this.pending++;
  }
}

export interface MemberState {
  readonly held: [Set<Entry>, Set<Entry>, Set<Entry>];
  readonly calls: Set<Call>;
  /** Calls that are parts of a call over several hubs, by that call: kept or undone with it. */
  readonly groups: Map<CallGroup, Call[]>;
}

/**
 * Why `call` failed when its deadline passed (its timer, or its unwritten
 * command's): undone, an UNSUBSCRIBE may follow. `sent` when a command for a
 * name it waited for was written (or confirmed it): the server may have
 * subscribed it. Else nothing of the call reached the server.
 */
export function timedOut(call: Call, node: string): ReplyTimeoutError {
  const sent = call.awaited.some((e) => e.confirmed || (e.cmd !== undefined && wasSent(e.cmd)));
  const message = sent
    ? 'the server did not confirm the subscription before the deadline; it was undone'
    : 'the deadline passed before the subscription could be sent; it was never sent';
  return new ReplyTimeoutError(message, sent, { command: call.command, node });
}

/**
 * A call rejected because its hub's node left routing (a cluster node gone
 * from the slot map, see Hub.handOver): nothing is wrong with the call, its
 * subscriber makes it again wherever routing now places its names. Reaches a
 * caller only when that keeps happening (a map that does not settle).
 */
export class NodeLeftError extends ConnectionLostError {
  /**
   * @param names of the call, those its member still wanted when it was
   *   rejected (an unsubscribe made meanwhile let go of the others); none
   *   given: every name of the call.
   */
  constructor(command: string, node: string, readonly names?: Buffer[]) {
    super('its node left the cluster\'s slot map before the server confirmed it', false, { command, node });
  }
}
