/**
 * What a hub's members take elsewhere when routing stops sending their names
 * to its node (see Hub.handOver, Hub.moveChannels, Hub.relocateShards): the subscriptions they
 * hold (moved: subscribed again where routing places them now) and the calls
 * still waiting, each with the names its member still wants of it (rejected
 * with NodeLeftError: their subscriber makes them again there).
 */
import { ConnectionLostError } from '../errors.js';
import { KEPT, SUBSCRIBE, type Call, type CallGroup, type Entry, type Kind, type Member, type MemberState } from './subscriptions.js';

/** A name a member holds moves (`group`: held by a part of that undecided call, see Entry.movesOf). */
export type Move = [member: Member, kind: Kind, name: Buffer, group?: CallGroup];

export interface Leaving {
  moves: Move[];
  calls: Map<Call, Buffer[]>;
}

/** Everything: the node left the slot map (the hub forgets every member after). */
export function everything(entries: readonly Map<string, Entry>[], members: Map<Member, MemberState>): Leaving {
  const moves: Move[] = [];
  for (const map of entries) {
    for (const e of map.values()) for (const member of e.holders) for (const g of e.movesOf(member)) moves.push([member, e.kind, e.name, g]);
  }
  // What an unsubscribe let go of meanwhile stays let go.
  const calls = new Map<Call, Buffer[]>();
  for (const state of members.values()) for (const c of state.calls) calls.set(c, c.added.filter((e) => e.heldBy(c)).map((e) => e.name));
  return { moves, calls };
}

/**
 * The names of `map` (channels or patterns) held by members that can move
 * (Member.moved; not keyspace streams, whose events are their node's): they
 * are taken off their entries here. Entries left with no member are removed
 * from `map` and returned in `emptied`.
 */
export function movableNames(map: Map<string, Entry>, members: Map<Member, MemberState>): Leaving & { emptied: Entry[] } {
  const moves: Move[] = [];
  const calls = new Map<Call, Buffer[]>();
  const emptied: Entry[] = [];
  for (const e of [...map.values()]) {
    for (const [member, hold] of [...e.members]) {
      if (member.moved === undefined || member.nodeLocal) continue;
      for (const g of e.movesOf(member)) moves.push([member, e.kind, e.name, g]);
      if (hold !== KEPT) for (const call of hold) if (!call.done) calls.set(call, [...(calls.get(call) ?? []), e.name]);
      e.remove(member);
      members.get(member)?.held[e.kind].delete(e);
    }
    if (e.members.size > 0) continue;
    map.delete(e.key);
    emptied.push(e);
  }
  return { moves, calls, emptied };
}

/**
 * Shard channels of `map` whose slot another node serves now (`stays` false),
 * with no subscribe in flight and no call waiting (those are left to their
 * command: a MOVED answer moves them the same way): taken off `map` and off
 * their members, who subscribe them again where routing places them.
 */
export function movedShards(map: Map<string, Entry>, members: Map<Member, MemberState>, stays: (name: Buffer) => boolean): { moves: Move[]; leaving: Entry[] } {
  const moves: Move[] = [];
  const leaving: Entry[] = [];
  for (const e of map.values()) if (e.cmd === undefined && e.waiters.length === 0 && !stays(e.name)) leaving.push(e);
  for (const e of leaving) {
    map.delete(e.key);
    for (const member of e.holders) {
      for (const g of e.movesOf(member, true)) moves.push([member, e.kind, e.name, g]); // a call still waiting holds it while it waits for others: it moves too
      e.remove(member);
      members.get(member)?.held[e.kind].delete(e);
    }
  }
  return { moves, leaving };
}

/**
 * Tell each member of `moves` that its name left `node` (`why`): it
 * subscribes it again wherever routing places it now (Member.moved), or, if
 * it cannot move, hears that it was dropped.
 */
export function announce(moves: Move[], why: string, node: string): void {
  for (const [member, kind, name, group] of moves) {
    if (member.moved) member.moved(kind, name, group);
    else member.dropped(kind, name, new ConnectionLostError(why, false, { command: SUBSCRIBE[kind], node }));
  }
}
