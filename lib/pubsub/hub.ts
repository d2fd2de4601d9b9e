/**
 * One node's pub/sub connection, shared by every subscriber of a client.
 *
 * Whoever holds subscriptions (a `Subscriber`, a keyspace stream) is a
 * *member*. Per kind (channel, pattern, shard channel) and per name (its
 * bytes: a non-UTF-8 name stays those bytes) the hub keeps the members that
 * want it. The server-side SUBSCRIBE is sent when the first member wants a
 * name and the UNSUBSCRIBE when the last one lets go, so members never see
 * each other's calls. The connection (a Multiplexer in pub/sub mode, which
 * matches every confirmation to its command) is opened by the first
 * subscription and closed when the last member leaves.
 *
 * Names are matched by their bytes. While no member wants Buffers and every
 * name is valid UTF-8, frames are decoded as strings (a string is then as
 * good as its bytes, and the common case costs no Buffer per message); a
 * member that wants Buffers, or a name that is not UTF-8, switches the
 * connection to Buffers (see `decodeFlags`).
 *
 * Every call settles in bounded time: resolved once the server confirmed each
 * name, rejected by the server's refusal (that call only, undone whole), by
 * its deadline (undone: an UNSUBSCRIBE follows on the wire), or at once when
 * the connection gave up for good. A connection lost meanwhile is no failure:
 * on the next connection every subscription is restored (the `ready` hook's
 * commands go out before anything queued during the outage) and waiting calls
 * settle with that confirmation.
 */
import { commandInfo } from '../commands/index.js';
import { InternalCommand, QUEUED, type Command } from '../connection/command.js';
import { Multiplexer, type MultiplexerOptions } from '../connection/multiplexer.js';
import { describeEndpoint } from '../connection/socket.js';
import { ConnectionCounters } from './connection-counters.js';
import { ConnectionLoss } from './connection-loss.js';
import { dispatchFrame } from './frame-dispatch.js';
import { announce, everything, movableNames, movedShards, type Move } from './leaving.js';
import { unsubscribeEntries } from './unsubscribe.js';
import { gaveUpError } from './gave-up.js';
import { ClosedError, ConnectionLostError, MovedError, ReplyTimeoutError, ServerError } from '../errors.js';
import { DECODE_BUFFERS, type Reply } from '../resp/types.js';
import {
  CHANNEL, KINDS, PATTERN, SHARD, SUBSCRIBE, UNSUBSCRIBE, Call, CallGroup, Entry, NodeLeftError, keyOf, perCommand, timedOut,
  type Kind, type Member, type MemberState, type PubSubStats,
} from './subscriptions.js';

export { CHANNEL, CallGroup, PATTERN, SHARD, type Kind, type Member, type PubSubStats };

export class Hub {
  readonly node: string;
  private readonly entries: [Map<string, Entry>, Map<string, Entry>, Map<string, Entry>] = [new Map(), new Map(), new Map()];
  private readonly members = new Map<Member, MemberState>();
  private mux: Multiplexer | undefined;
  /** The current connection's options: the hub sets `pushFlags` (read by the connection at each frame). */
  private muxOpts: MultiplexerOptions | undefined;
  /** Members that want Buffers. */
  private bufferMembers = 0;
  /** A non-UTF-8 name was subscribed on the current connection: Buffers until it closes (its confirmations too). */
  private binary = false;
  /** Why the connection gave up for good: every call is refused with it, at once. */
  private failure: ((command: string) => Error) | undefined;
  private closed = false;
  /** Its node left routing (handOver): members hold nothing here any more, subscribe calls are routed again. */
  private handedOver = false;
  /** The last connection error: the cause when it gives up. */
  private lastError: Error | undefined;
  /**
   * Restoring commands of the current connection not yet confirmed: 'ready'
   * is announced when none is left (undefined: nothing to announce, or one
   * of them failed other than by a refusal).
   */
  private restoring: Set<Command> | undefined = undefined;
  /** Counters of the connections closed before the current one. */
  private readonly past = new ConnectionCounters();
  /** The server let go of a confirmed entry on its own (see frame-dispatch.ts): subscribe it again. */
  private readonly subscribeAgain = (e: Entry): void => this.send(this.subscribeCommand(e.kind, [e]), this.opts.commandTimeout);

  /**
   * @param onMoved cluster routing: a shard subscription was answered MOVED,
   *   routing learns the slot's new owner (members then move there).
   */
  constructor(
    private readonly opts: MultiplexerOptions,
    private readonly onMoved?: (err: MovedError) => void,
    /** Cluster routing: the connection was lost after it was ready, not handed over (channels and patterns can move at once, see moveChannels). */
    private readonly onLost?: () => void,
  ) {
    this.node = describeEndpoint(opts.endpoint);
  }

  // ------------------------------------------------------------------ calls

  /**
   * Hold `names` (of `kind`) for `member`; resolves once the server confirmed
   * every one. `group`: the user call this is a part of (see CallGroup).
   */
  subscribe(member: Member, kind: Kind, names: Buffer[], timeout: number, group?: CallGroup): Promise<void> {
    const refusal = this.refusal(SUBSCRIBE[kind]);
    if (refusal) return Promise.reject(refusal);
    return new Promise((resolve, reject) => {
      const state = this.join(member);
      const call = new Call(member, SUBSCRIBE[kind], resolve, reject, group);
      const map = this.entries[kind];
      const fresh: Entry[] = [];
      for (const name of names) {
        let e = map.get(keyOf(name));
        if (e === undefined) {
          e = new Entry(kind, name);
          map.set(e.key, e);
          fresh.push(e);
          if (e.binary) this.binary = true;
        }
        if (e.hold(call)) state.held[kind].add(e);
        if (!e.confirmed) call.wait(e);
      }
      if (group !== undefined) state.groups.set(group, [...(state.groups.get(group) ?? []), call]);
      this.decodeFlags(); // before the SUBSCRIBE: its confirmations and messages decode as this member needs
      if (call.pending === 0) {
        this.settle(call, undefined);
        return;
      }
      state.calls.add(call);
      if (timeout > 0) {
        call.timer = setTimeout(() => this.fail(call, timedOut(call, this.node)), timeout);
        call.timer.unref();
      }
      for (const group of perCommand(kind, fresh)) this.send(this.subscribeCommand(kind, group, call), timeout);
    });
  }

  /**
   * Let go of `names` (all of this member's names of `kind` when undefined).
   * Resolves once the server confirmed the UNSUBSCRIBE of those no other
   * member holds, or at once if there are none.
   */
  unsubscribe(member: Member, kind: Kind, names: Buffer[] | undefined, timeout: number): Promise<void> {
    const refusal = this.refusal(UNSUBSCRIBE[kind]);
    if (refusal) return Promise.reject(refusal);
    const state = this.members.get(member);
    if (state === undefined) return Promise.resolve();
    const held = state.held[kind];
    const targets = names === undefined ? [...held] : names.map((n) => this.entries[kind].get(keyOf(n)));
    const gone: Entry[] = [];
    for (const e of targets) if (e !== undefined && held.has(e)) this.release(member, e, gone);
    const done = this.unsubscribeGone(kind, gone, timeout);
    this.forgetIdle(); // a subscriber dropped without close() after letting go of everything must not be kept
    return done;
  }

  /** The member is done: its calls reject, its subscriptions are released; the last one closes the connection. */
  leave(member: Member): Promise<void> {
    const state = this.members.get(member);
    if (state === undefined) return Promise.resolve();
    this.members.delete(member);
    if (member.buffers) this.bufferMembers--;
    this.decodeFlags();
    for (const call of state.calls) this.settle(call, new ClosedError('the subscriber was closed', { command: call.command, node: this.node }));
    const gone: Entry[][] = [[], [], []];
    for (const kind of KINDS) for (const e of [...state.held[kind]]) this.release(member, e, gone[kind]!);
    // Unsubscribed even when the connection is about to close: once leave() resolves, the server has let go.
    const done: Promise<void>[] = KINDS.map((k) => this.unsubscribeGone(k, gone[k]!, this.opts.commandTimeout).catch(() => {}));
    if (this.members.size === 0) done.push(this.closeConnection((mux) => mux.close())); // graceful: after the UNSUBSCRIBEs
    return Promise.all(done).then(() => undefined);
  }

  /** What `member` holds of `kind`, as bytes. */
  held(member: Member, kind: Kind): Buffer[] {
    const state = this.members.get(member);
    return state === undefined ? [] : [...state.held[kind]].map((e) => e.name);
  }

  /** Whether `member` is one of this hub's: it holds or waits for something here (or the connection gave up since). */
  knows(member: Member): boolean {
    return this.members.has(member);
  }

  /** The user call `group` succeeded: what its parts here hold, `member` holds for good. */
  keep(member: Member, group: CallGroup): void {
    const state = this.members.get(member);
    for (const call of state?.groups.get(group) ?? []) for (const e of call.added) e.keep(call);
    state?.groups.delete(group);
  }

  /** The user call `group` failed: its parts here are undone (see undoCalls); resolves once the server let go (or `timeout`). */
  undo(member: Member, group: CallGroup, timeout: number): Promise<void> {
    const state = this.members.get(member);
    const calls = state?.groups.get(group);
    if (calls === undefined) return Promise.resolve();
    state!.groups.delete(group);
    const done = this.undoCalls(calls, timeout);
    this.forgetIdle();
    return done;
  }

  /** The client is closing: every member is closed, the connection closes gracefully. */
  close(): Promise<void> {
    // The connection first: what it settles while closing finds nothing to change.
    const closed = this.closeConnection((mux) => mux.close());
    this.shutDown((command) => new ClosedError('the client is closed', { command, node: this.node }), true);
    return closed;
  }

  /** The client disconnects: every member is closed, the connection dropped at once. */
  disconnect(): void {
    void this.closeConnection((mux) => {
      mux.disconnect();
      return Promise.resolve();
    });
    this.shutDown((command) => new ClosedError('the client was disconnected', { command, node: this.node }), true);
  }

  /**
   * Routing dropped this node (a cluster node gone from the slot map: failed
   * over, removed, or a seed that the map names otherwise). Every member's
   * subscriptions move to wherever routing now places them (Member.moved);
   * calls still waiting here are rejected with NodeLeftError, which their
   * subscriber answers by making the call again through routing, so its
   * caller sees one call (keyspace streams too). Then the connection closes.
   * Members without `moved` are told their names were dropped.
   */
  handOver(): Promise<void> {
    const { moves, calls } = everything(this.entries, this.members);
    this.handedOver = true;
    this.members.clear();
    this.bufferMembers = 0;
    const closed = this.closeConnection((mux) => mux.close()); // forgets the entries: the server does with the connection
    for (const [call, names] of calls) this.settle(call, new NodeLeftError(call.command, this.node, names));
    announce(moves, "its node left the cluster's slot map", this.node);
    return closed;
  }

  /**
   * The connection was lost and routing sends channels and patterns to
   * another node now (cluster: PUBLISH reaches every node). The members that
   * can move (Member.moved) let go of theirs here and subscribe them again
   * there; their calls still waiting are rejected with NodeLeftError and made
   * again there. Members that cannot (keyspace streams: a node's own events)
   * stay, and are restored here when the connection comes back.
   */
  moveChannels(): void {
    const moves: Move[] = [];
    for (const kind of [CHANNEL, PATTERN] as const) {
      const taken = movableNames(this.entries[kind], this.members);
      moves.push(...taken.moves);
      // The connection is down: nothing to unsubscribe on the server; a SUBSCRIBE still queued is never written.
      for (const e of taken.emptied) if (e.cmd?.state === QUEUED) e.cmd.reject(new NodeLeftError(SUBSCRIBE[kind], this.node));
      for (const [call, names] of taken.calls) this.fail(call, new NodeLeftError(call.command, this.node, names));
    }
    this.forgetIdle(); // members left with nothing here stop hearing of this connection: its errors are no longer theirs
    announce(moves, 'its connection was lost', this.node); // all of them can move (movableNames)
  }

  /**
   * Members holding nothing here and waiting for nothing are forgotten (they
   * join again with their next subscribe): a subscriber dropped without
   * close() is not kept for the client's life. With none left, the
   * connection closes (gracefully: after the UNSUBSCRIBEs already sent).
   */
  private forgetIdle(): void {
    for (const [member, state] of [...this.members]) {
      if (state.calls.size > 0 || state.held.some((h) => h.size > 0)) continue;
      this.members.delete(member);
      if (member.buffers) this.bufferMembers--;
    }
    this.decodeFlags();
    if (this.members.size === 0) void this.closeConnection((mux) => mux.close());
  }

  /** The server moved (Sentinel): reconnect where it is now and subscribe again there. */
  relocate(why: string, keep?: (node: string) => boolean): void {
    this.mux?.relocate(why, keep);
  }

  stats(): PubSubStats {
    return this.past.stats(this.mux, this.entries);
  }

  // ------------------------------------------------------------------ bookkeeping

  private refusal(command: string): Error | undefined {
    // Handed over: a subscribe goes where routing says now; an unsubscribe finds nothing held here.
    if (this.handedOver) return (SUBSCRIBE as readonly string[]).includes(command) ? new NodeLeftError(command, this.node) : undefined;
    if (this.closed) return new ClosedError('the client is closed', { command, node: this.node });
    return this.failure?.(command);
  }

  private join(member: Member): MemberState {
    let state = this.members.get(member);
    if (state === undefined) {
      state = { held: [new Set(), new Set(), new Set()], calls: new Set(), groups: new Map() };
      this.members.set(member, state);
      if (member.buffers) this.bufferMembers++;
    }
    return state;
  }

  /**
   * Strings while that is lossless for everyone, else Buffers. Read by the
   * connection at the start of each frame, so a frame already under way keeps
   * the old decoding: a member that wants Buffers skips frames of strings
   * (they began before it joined); others take either.
   */
  private decodeFlags(): void {
    if (this.muxOpts) this.muxOpts.pushFlags = this.bufferMembers > 0 || this.binary ? DECODE_BUFFERS : 0;
  }

  /** Take `member` off `e`; if nobody holds it any more, it leaves the server too (collected in `gone`). */
  private release(member: Member, e: Entry, gone: Entry[]): void {
    e.remove(member);
    this.members.get(member)?.held[e.kind].delete(e);
    if (e.members.size > 0) return;
    this.entries[e.kind].delete(e.key);
    this.wake(e, undefined); // calls of members that let go meanwhile: nothing left to wait for
    if (!e.refused) gone.push(e);
  }

  /** Settle a call: resolved (no error: what it holds is for good, unless its group decides) or rejected. */
  private settle(call: Call, err: Error | undefined): void {
    if (call.done) return;
    call.done = true;
    if (call.timer !== undefined) clearTimeout(call.timer);
    this.members.get(call.member)?.calls.delete(call);
    if (err === undefined && call.group === undefined) for (const e of call.added) e.keep(call);
    if (err === undefined) call.resolve();
    else call.reject(err);
  }

  /** A call failed: reject it, undo what it added (all or nothing), forget its member if that left it idle. */
  private fail(call: Call, err: Error): void {
    if (call.done) return;
    this.settle(call, err);
    void this.undoCalls([call]).catch(() => {});
    this.forgetIdle(); // a subscriber whose calls all failed holds nothing: not kept (nor the connection for it)
  }

  /** Take out the holds of `calls`: what their member holds by no other call is let go of (UNSUBSCRIBEd if nobody holds it). */
  private undoCalls(calls: Call[], timeout = this.opts.commandTimeout): Promise<void> {
    const gone: Entry[][] = [[], [], []];
    for (const call of calls) for (const e of call.added) if (e.drop(call)) this.release(call.member, e, gone[e.kind]!);
    return Promise.all(KINDS.map((k) => this.unsubscribeGone(k, gone[k]!, timeout))).then(() => undefined);
  }

  /** `e` is confirmed (no error), or its subscribe failed: tell the calls waiting for it. */
  private wake(e: Entry, err: Error | undefined): void {
    const waiters = e.waiters;
    if (waiters.length === 0) return;
    e.waiters = [];
    for (const call of waiters) {
      if (call.done) continue;
      if (err !== undefined) this.fail(call, err);
      else if (--call.pending === 0) this.settle(call, undefined);
    }
  }

  // ------------------------------------------------------------------ commands

  /** @param origin the call whose names these are (none: restoring, or subscribing again what the server dropped) */
  private subscribeCommand(kind: Kind, entries: Entry[], origin?: Call): Command {
    const name = SUBSCRIBE[kind];
    const cmd: InternalCommand = new InternalCommand(name, entries.map((e) => e.name), commandInfo(name), (err) => this.subscribed(cmd, entries, err, origin));
    // Timed out, then confirmed after all: the subscription exists (if its callers undid it, an UNSUBSCRIBE follows).
    cmd.onLateReply = () => this.subscribed(cmd, entries, undefined);
    for (const e of entries) e.cmd = cmd;
    return cmd;
  }

  private send(cmd: Command, timeout: number): void {
    this.connection().send(cmd, timeout, timeout !== this.opts.commandTimeout);
  }

  /** UNSUBSCRIBE the entries nobody holds any more. Resolves when done, or when there is nothing to undo on the server. */
  private unsubscribeGone(kind: Kind, gone: Entry[], timeout: number): Promise<void> {
    // Without a connection (or with one given up) there is nothing subscribed on the server.
    const mux = this.mux;
    if (gone.length === 0 || mux === undefined || this.failure !== undefined || this.closed) return Promise.resolve();
    // Sent again when it timed out unwritten (see unsubscribe.ts): on this connection, up, for names nobody asked for since.
    const unwanted = (e: Entry): boolean => this.mux === mux && !mux.down && !this.closed && this.entries[e.kind].get(e.key) === undefined;
    return unsubscribeEntries(kind, gone, (cmd) => this.send(cmd, timeout), unwanted);
  }

  /** A subscribe command settled: confirmed (no error), lost with its connection, or failed. */
  private subscribed(cmd: Command, entries: Entry[], err: Error | undefined, origin?: Call): void {
    // Lost with the connection (and it will reconnect): the next connection restores these entries.
    const lost = err instanceof ConnectionLostError && this.opts.offlineQueue && this.failure === undefined && !this.closed;
    // Routing learns the slot's owner first: calls failed below are routed again by their subscribers, members moved there.
    if (err instanceof MovedError) this.onMoved?.(err);
    else if (err instanceof ServerError && entries.length > 1) this.splitRefusal(cmd, entries, err, origin); // takes them all
    for (const e of entries) {
      if (e.cmd !== cmd || this.entries[e.kind].get(e.key) !== e) continue; // dropped, or superseded by a later command
      if (err === undefined) {
        e.cmd = undefined;
        e.confirmed = true;
        this.wake(e, undefined);
      } else if (lost || err instanceof ReplyTimeoutError) {
        // Timed out: the deadline of the call that sent it, not of every call waiting (each has its own timer);
        // written, it may still be confirmed late (onLateReply): kept. Lost: restored on reconnect. Never written: below.
        if (!(err instanceof ReplyTimeoutError && err.sent)) e.cmd = undefined;
      } else {
        e.cmd = undefined;
        if (err instanceof ServerError) e.refused = true;
        this.wake(e, err);
        if (err instanceof ServerError) this.refuse(e, err);
      }
    }
    const restoring = this.restoring?.has(cmd) ? this.restoring : undefined;
    // Unwritten: sent again at once if the connection is up (part of the restore it was part of), else restored on the next one.
    const again = err instanceof ReplyTimeoutError && !err.sent && this.unwritten(entries, origin, restoring);
    if (restoring?.delete(cmd)) {
      // Refused ones were dropped (and reported to their members); the others are back, or sent again.
      if (err !== undefined && !(err instanceof ServerError) && !again) this.restoring = undefined;
      else if (restoring.size === 0) {
        this.restoring = undefined;
        this.broadcast('ready');
      }
    }
  }

  /**
   * A subscribe command's deadline passed before it could be written (a
   * server that does not read holds the socket back, or not connected yet):
   * the connection dropped it. The call that sent it is out of time as well
   * (the same deadline): undone first. What others still want is sent again
   * now if the connection is up (else the next connection restores it): they
   * must not wait for a reconnect that may never come. True when the
   * connection is up (what was still wanted was sent again, into `restoring`).
   */
  private unwritten(entries: Entry[], origin: Call | undefined, restoring: Set<Command> | undefined): boolean {
    if (origin !== undefined) this.fail(origin, timedOut(origin, this.node));
    if (this.mux === undefined || this.mux.down) return false;
    const again = entries.filter((e) => e.cmd === undefined && !e.confirmed && this.entries[e.kind].get(e.key) === e);
    for (const group of perCommand(again[0]?.kind ?? CHANNEL, again)) {
      const cmd = this.subscribeCommand(again[0]!.kind, group);
      restoring?.add(cmd); // before it is sent: 'ready' once it is confirmed too
      this.send(cmd, this.opts.commandTimeout);
    }
    return true;
  }

  /**
   * A SUBSCRIBE of several names was refused whole (an ACL forbids one of
   * them: NOPERM names none, and the server took none). The call that sent
   * it is refused whole: the names were its own. The names members still
   * want after that (joined by other calls while it was in flight, or all of
   * them when it restored subscriptions after a reconnect) are sent again one
   * by one, so that only a forbidden one is refused: once each, nothing loops.
   */
  private splitRefusal(cmd: Command, entries: Entry[], err: ServerError, origin: Call | undefined): void {
    const refused = entries.filter((e) => e.cmd === cmd && this.entries[e.kind].get(e.key) === e);
    for (const e of refused) {
      e.cmd = undefined;
      e.refused = true; // never subscribed: what the failed call lets go of needs no UNSUBSCRIBE
    }
    if (origin !== undefined) this.fail(origin, err);
    const restoring = this.restoring?.has(cmd) ? this.restoring : undefined;
    for (const e of refused) {
      if (this.entries[e.kind].get(e.key) !== e) continue; // nobody else wanted it
      e.refused = false;
      const single = this.subscribeCommand(e.kind, [e]);
      restoring?.add(single); // 'ready' once each is back, or refused
      this.send(single, this.opts.commandTimeout);
    }
  }

  /**
   * The server refused `e` while members still hold it (restoring after a
   * reconnect, or again after the server dropped it): it is gone for them, or
   * moved elsewhere when the refusal is a shard channel's MOVED.
   */
  private refuse(e: Entry, err: Error): void {
    if (this.entries[e.kind].get(e.key) !== e) return;
    this.entries[e.kind].delete(e.key);
    const moved = err instanceof MovedError && e.kind === SHARD && this.onMoved !== undefined;
    for (const member of e.holders) {
      const groups = e.movesOf(member, true); // its waiters failed (wake): a call still holding it waits for others
      e.remove(member);
      this.members.get(member)?.held[e.kind].delete(e);
      if (moved && member.moved) for (const g of groups) member.moved(e.kind, e.name, g);
      else member.dropped(e.kind, e.name, err);
    }
    this.forgetIdle(); // members left with nothing here (it moved, or was dropped) are not kept, nor the connection for them
  }

  /**
   * Routing's slot map changed: shard channels for which `stays` is false
   * now belong to another node. This hub lets go of them (an SUNSUBSCRIBE if
   * it is connected) and their members subscribe them again where routing
   * places them. Entries with a subscribe in flight or calls waiting are left
   * to that command: a MOVED answer moves them the same way.
   */
  relocateShards(stays: (name: Buffer) => boolean): void {
    const { moves, leaving } = movedShards(this.entries[SHARD], this.members, stays);
    void this.unsubscribeGone(SHARD, leaving.filter((e) => e.confirmed), this.opts.commandTimeout).catch(() => {});
    this.forgetIdle(); // after the SUNSUBSCRIBE: a connection left idle closes once it is answered
    announce(moves, 'its shard moved to another node', this.node);
  }

  // ------------------------------------------------------------------ the connection

  private connection(): Multiplexer {
    if (this.mux !== undefined) return this.mux;
    // No SELECT: channels are not per database (keyspace channels name theirs).
    const opts: MultiplexerOptions = { ...this.opts, db: 0, pubsub: true, pushFlags: 0, discoverModules: false };
    this.muxOpts = opts;
    this.binary = false;
    for (const map of this.entries) for (const e of map.values()) if (e.binary) this.binary = true;
    this.decodeFlags();
    const loss = new ConnectionLoss();
    const mux: Multiplexer = new Multiplexer(
      opts,
      {
        ready: () => {
          if (this.mux !== mux) return undefined;
          loss.ready();
          return this.restore();
        },
        error: (err) => {
          if (this.mux !== mux) return;
          this.lastError = err;
          this.broadcast('error', err);
        },
        reconnecting: (info) => {
          if (this.mux !== mux) return;
          this.broadcast('reconnecting', info);
          if (loss.lost(mux)) this.onLost?.(); // not a handover (MOVING): see connection-loss.ts
        },
        close: () => {
          if (this.mux === mux) this.gaveUp(mux);
        },
        unobservedError() {}, // the hub's commands are internal: their callbacks see every failure
        push: (frame) => {
          // An old connection closing in the background is not listened to.
          if (this.mux === mux) dispatchFrame(frame, this.entries, this.subscribeAgain);
        },
      },
    );
    this.mux = mux;
    return mux;
  }

  /**
   * A new connection is ready: subscribe again to everything held, before
   * anything queued during the outage is written. An entry whose own
   * SUBSCRIBE is still queued is left to it.
   */
  private restore(): Command[] {
    const cmds: Command[] = [];
    for (const kind of KINDS) {
      const entries: Entry[] = [];
      for (const e of this.entries[kind].values()) {
        if (e.cmd !== undefined && e.cmd.state === QUEUED) continue;
        e.confirmed = false;
        entries.push(e);
      }
      for (const group of perCommand(kind, entries)) cmds.push(this.subscribeCommand(kind, group));
    }
    this.restoring = cmds.length > 0 ? new Set(cmds) : undefined;
    if (cmds.length === 0) this.broadcast('ready');
    return cmds;
  }

  private broadcast(event: 'ready' | 'reconnecting' | 'error' | 'close', detail?: unknown): void {
    for (const member of [...this.members.keys()]) member.connection(event, detail);
  }

  /** Reconnecting is over (attempts exhausted, or a configuration the server refuses): refuse everything from now on. */
  private gaveUp(mux: Multiplexer): void {
    this.failure = gaveUpError(this.lastError, this.node);
    this.mux = this.muxOpts = undefined;
    this.past.add(mux);
    this.shutDown(this.failure, false);
  }

  /** Reject every call (each with an error naming its command), forget every subscription, and tell every member
   *  (it stays known until it leaves; `closed`: for good, the client closed). */
  private shutDown(failure: (command: string) => Error, closed: boolean): void {
    if (closed) this.closed = true;
    for (const state of this.members.values()) {
      for (const call of state.calls) this.settle(call, failure(call.command));
      for (const held of state.held) held.clear();
    }
    for (const map of this.entries) map.clear();
    this.restoring = undefined;
    this.broadcast('close', closed ? undefined : failure('SUBSCRIBE'));
    if (this.closed) {
      this.members.clear();
      this.bufferMembers = 0;
    }
  }

  private closeConnection(end: (mux: Multiplexer) => Promise<void>): Promise<void> {
    const mux = this.mux;
    if (mux === undefined) return Promise.resolve();
    this.mux = this.muxOpts = undefined;
    for (const map of this.entries) map.clear(); // the server forgets them with the connection
    const done = end(mux);
    this.past.add(mux);
    return done;
  }
}
