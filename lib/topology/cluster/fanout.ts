/**
 * Running one caller's command as several: on every master or node (the
 * command's request policy), or as one part per slot (MGET, MSET, DEL, ...
 * across slots). The parts are sent in parallel; the caller's command settles
 * once every part has, with the replies combined per its response policy or
 * merged in the caller's key order. Where to send each part is the router's
 * business (`send`); this file only builds, joins and settles.
 *
 * The caller's signal gives up the call and its parts together: a part never
 * written is never sent, a written one keeps its FIFO slot (abort.ts), and
 * the caller's AbortError says `sent` when any part was written (the call
 * may have run in part), and `nodes` where those parts went.
 *
 * Where every part goes (`place`) is decided before the first is sent: what
 * routing refuses (the client closed, ...) is thrown then, with nothing sent.
 * Sending a placed part does not throw; should it, that part and those not
 * yet sent fail with the error (never sent), and the caller's error says
 * whether an earlier part was written: the call settles once either way.
 */
import { keySlot } from '../../commands/slot.js';
import { RESPONSE_DEFAULT, RESPONSE_POLICY } from '../../commands/tips.js';
import { abortCommand, abortError, sentTo } from '../../connection/abort.js';
import { oneCall } from '../../connection/call-timeouts.js';
import { Command, wasSent } from '../../connection/command.js';
import { commandChannel } from '../../connection/diagnostics.js';
import { ObservedCommand } from '../../connection/observed.js';
import { AbortError, ConnectionLostError, ReplyTimeoutError } from '../../errors.js';
import type { Arg } from '../../resp/encoder.js';
import type { Reply } from '../../resp/types.js';
import { combineReplies, decidingError, saysMayHaveRun, type NodeReply } from './response-policy.js';
import { mergeByKey, splitBySlot } from './split.js';

/**
 * A part of a fanned-out or split command: the parent's options, its own
 * arguments. When someone traces the parent, the part is traced too, as a
 * command of its own nested in the parent's trace (`parent` on its context):
 * the parent went to several nodes, each part to one, which its context names.
 */
function child(parent: Command, args: Arg[]): Command {
  const trace = parent.trace;
  const part =
    trace === undefined
      ? new Command(parent.name, args, parent.info, parent.decodeFlags, parent.db)
      : new ObservedCommand(parent.name, args, parent.info, parent.decodeFlags, parent.db, {
          command: trace.command,
          database: trace.database,
          argumentCount: args.length,
          node: undefined,
          parent: trace,
        }, undefined, undefined);
  part.retry = parent.retry;
  part.idempotent = parent.idempotent;
  return part;
}

/** Hand `part` to the routing (`send`); a traced part publishes start and end around it, as the client does for a command. */
function issue(part: Command, send: () => void): void {
  const trace = part.trace;
  if (trace === undefined) return send();
  try {
    commandChannel.start.runStores(trace, send);
  } finally {
    commandChannel.end.publish(trace);
    (part as ObservedCommand).issued();
  }
}

/** Sends a part where routing placed it. */
export type PartSender = (part: Command) => void;

/**
 * Issue every part through its sender, in order. A send that throws fails
 * that part and every later one with the error, unsent (each is still traced,
 * start to settle), so every part settles once.
 */
function issueAll(parts: readonly Command[], senders: readonly PartSender[]): void {
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    try {
      issue(part, () => senders[i]!(part));
    } catch (err) {
      part.reject(err as Error);
      for (let j = i + 1; j < parts.length; j++) issue(parts[j]!, () => void parts[j]!.reject(err as Error));
      return;
    }
  }
}

/** An aborted part's failure is the caller's AbortError's business: the part itself is awaited (settled), never reported. */
const ignore = () => {};

/** Give `cmd`'s parts up with it when its signal fires (it is only ever aborted through this hook). */
function abortWithParts(cmd: Command, parts: readonly Command[], fail: (err: Error) => void): void {
  cmd.abortHook = (reason) => {
    const err = partsAborted(cmd, parts, reason); // before the abort settles them
    for (const part of parts) abortCommand(part, reason, ignore);
    fail(err);
  };
}

/**
 * The caller's AbortError for a call of several parts. When parts were
 * written it says where, as a one-node command's does with `node`: `nodes`
 * lists the nodes the written parts went to (`node` is that node when there
 * is one), and the message how many parts were written and to which nodes;
 * addresses only, never a key or a value.
 */
function partsAborted(cmd: Command, parts: readonly Command[], reason: unknown): Error {
  const written = parts.filter(wasSent);
  const nodes = [...new Set(written.map(sentTo).filter((n): n is string => n !== undefined))];
  if (written.length === 0) return Object.assign(abortError(cmd.info.name, false, undefined, reason), { nodes });
  const where = nodes.length > 0 ? ` (to ${nodes.join(', ')})` : '';
  const why = `aborted by its signal after ${written.length} of its ${parts.length} parts were sent${where}; they may have run (their replies are dropped)`;
  return Object.assign(new AbortError(why, true, { command: cmd.info.name, node: nodes.length === 1 ? nodes[0] : undefined, cause: reason }), { nodes });
}

function settled(node: string, part: Command): Promise<NodeReply> {
  return part.toPromise().then(
    (value) => ({ node, value: value as Reply }),
    (error: Error) => ({ node, error }),
  );
}

/**
 * The part error that decides the call: one that says it may have run (a
 * `sent` / `maybeExecuted` flag), else one of a part that was written (a
 * ClosedError saying "may have run" rather than another part's "not sent"),
 * else the first.
 */
function partsError(replies: readonly NodeReply[], parts: readonly Command[]): Error | undefined {
  const deciding = decidingError(replies);
  if (deciding === undefined || saysMayHaveRun(deciding)) return deciding;
  return replies.find((r, i) => r.error !== undefined && wasSent(parts[i]!))?.error ?? deciding;
}

/**
 * A part's error as the caller's: "not sent" (a timeout or a loss before the
 * part was written) only if no part was written; else another part may have
 * run, and the caller is told so (the part's error is the cause).
 */
function callersError(cmd: Command, parts: readonly Command[], err: Error): Error {
  if (!parts.some(wasSent)) return err;
  const ctx = { command: cmd.info.name, node: (err as { node?: string }).node, cause: err }; // the node whose part failed
  const also = 'one of its parts was not sent, another was and may have run';
  if (err instanceof ReplyTimeoutError && !err.sent) return new ReplyTimeoutError(`no reply before the deadline; ${also}`, true, ctx);
  if (err instanceof ConnectionLostError && !err.maybeExecuted) return new ConnectionLostError(`the connection was lost; ${also}`, true, ctx);
  return err;
}

/**
 * Send `cmd` to each of `nodes` (by address) and settle it with the replies
 * combined per its response policy. `place` throws (nothing sent) what
 * routing refuses.
 */
export function fanOut(cmd: Command, nodes: readonly string[], place: (node: string) => PartSender, fail: (err: Error) => void): void {
  const senders = nodes.map(place);
  const commands = nodes.map(() => child(cmd, cmd.args as Arg[]));
  oneCall(commands); // stats().timeouts: one per call, however many parts time out
  const replies = commands.map((part, i) => settled(nodes[i]!, part));
  abortWithParts(cmd, commands, fail);
  issueAll(commands, senders);
  void Promise.all(replies).then((all) => {
    try {
      cmd.resolve(combineReplies(cmd.info.tips, all, cmd.info.name));
    } catch (err) {
      // A part's error (partsError picks the one that decides), or the combination's own (replies that cannot be aggregated).
      fail(all.some((r) => r.error === err) ? callersError(cmd, commands, partsError(all, commands)!) : (err as Error));
    }
  });
}

/**
 * MGET, MSET, DEL, ... over several slots: one part per slot, in parallel,
 * merged in the caller's order. When a part fails, the call fails with that
 * part's error (of several, one that may have run: `partsError`; "not
 * sent" only when no part was: `callersError`), and
 * `err.partial = { keysDone, keys }` says how many of the keys the parts that
 * succeeded covered (for writes: written; a part that failed after it was
 * written may have been too).
 */
export function splitCall(cmd: Command, place: (slot: number) => PartSender, fail: (err: Error) => void): void {
  const first = Math.max(0, cmd.info.firstKey - 1);
  const slots = splitBySlot(cmd.args as Arg[], first, Math.max(1, cmd.info.keyStep), keySlot);
  const senders = slots.map((s) => place(s.slot));
  const head = (cmd.args as Arg[]).slice(0, first);
  const parts = slots.map((s) => child(cmd, [...head, ...s.args]));
  oneCall(parts);
  const replies = parts.map((part, i) => settled(`slot ${slots[i]!.slot}`, part));
  abortWithParts(cmd, parts, fail);
  issueAll(parts, senders);
  const keys = slots.reduce((n, s) => n + s.keyOrdinals.length, 0);
  void Promise.all(replies).then((all) => {
    const failed = partsError(all, parts);
    if (failed !== undefined) {
      const keysDone = slots.filter((_, i) => all[i]!.error === undefined).reduce((n, s) => n + s.keyOrdinals.length, 0);
      const err = callersError(cmd, parts, failed);
      (err as Error & { partial?: unknown }).partial = { keysDone, keys };
      fail(err);
      return;
    }
    try {
      if ((cmd.info.tips & RESPONSE_POLICY) === RESPONSE_DEFAULT) cmd.resolve(mergeByKey(slots, all.map((r) => r.value as Reply[]), keys));
      else cmd.resolve(combineReplies(cmd.info.tips, all, cmd.info.name));
    } catch (err) {
      fail(err as Error);
    }
  });
}
