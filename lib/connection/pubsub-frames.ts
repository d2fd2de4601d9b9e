/**
 * Pub/sub frames on a subscribed connection, and the accounting that matches
 * subscription confirmations to the command that asked for them.
 *
 * A SUBSCRIBE-family command is answered by one confirmation per channel it
 * names, in argument order (RESP3: push frames; RESP2: plain arrays), or by
 * one error reply when the server refuses it whole (an ACL without the
 * channel, a cluster redirection). So it takes a FIFO slot like any command
 * and settles when its last confirmation arrives; its error reply settles it
 * like any reply. A frame that is not the next confirmation owed by the FIFO
 * head (a message, an unsubscribe the server initiated when a slot moved)
 * belongs to the connection's owner, never to a caller.
 *
 * A subscribe-family command must name its channels: a bare UNSUBSCRIBE is
 * answered by as many confirmations as there were subscriptions, which only
 * the server knows. The pub/sub hub never sends one.
 */
import { SUBSCRIBE } from '../commands/index.js';
import { ProtocolError, ServerError } from '../errors.js';
import type { Arg } from '../resp/encoder.js';
import type { Reply } from '../resp/types.js';
import type { Command } from './command.js';

// Frame kinds (the first element of a pub/sub frame).
export const OTHER = 0;
export const MESSAGE = 1;
export const PMESSAGE = 2;
export const SMESSAGE = 3;
export const SUBSCRIBED = 4;
export const UNSUBSCRIBED = 5;
export const PSUBSCRIBED = 6;
export const PUNSUBSCRIBED = 7;
export const SSUBSCRIBED = 8;
export const SUNSUBSCRIBED = 9;

const KINDS = new Map<string, number>([
  ['message', MESSAGE],
  ['pmessage', PMESSAGE],
  ['smessage', SMESSAGE],
  ['subscribe', SUBSCRIBED],
  ['unsubscribe', UNSUBSCRIBED],
  ['psubscribe', PSUBSCRIBED],
  ['punsubscribe', PUNSUBSCRIBED],
  ['ssubscribe', SSUBSCRIBED],
  ['sunsubscribe', SUNSUBSCRIBED],
]);

/** The confirmation kind each subscribe-family command is answered with. */
const CONFIRMATION: Record<string, number> = {
  SUBSCRIBE: SUBSCRIBED,
  UNSUBSCRIBE: UNSUBSCRIBED,
  PSUBSCRIBE: PSUBSCRIBED,
  PUNSUBSCRIBE: PUNSUBSCRIBED,
  SSUBSCRIBE: SSUBSCRIBED,
  SUNSUBSCRIBE: SUNSUBSCRIBED,
};

const M = 0x6d; // 'm'
const P = 0x70; // 'p'
const S = 0x73; // 's'
const WORD_MESSAGE = Buffer.from('message');

/** Whether `buf[from..]` is "message". */
function isMessage(buf: Buffer, from: number): boolean {
  if (buf.length - from !== 7) return false;
  for (let i = 0; i < 7; i++) if (buf[from + i] !== WORD_MESSAGE[i]) return false;
  return true;
}

/**
 * Whether a message frame of `kind` (MESSAGE, PMESSAGE, SMESSAGE) has its
 * shape: [kind, channel, payload], or [kind, pattern, channel, payload], every
 * name and the payload a string or bytes. A hostile server's other frames
 * are no messages (they would reach listeners as "undefined").
 */
export function wellFormedMessage(frame: Reply[], kind: number): boolean {
  if (frame.length !== (kind === PMESSAGE ? 4 : 3)) return false;
  for (let i = 1; i < frame.length; i++) if (typeof frame[i] !== 'string' && !Buffer.isBuffer(frame[i])) return false;
  return true;
}

/** The kind of a pub/sub frame from its first element (a Buffer or a string), OTHER if it is none. */
export function frameKind(kind: Reply | undefined): number {
  // Messages are the hot path: recognised without a lookup (strings) or making a string (Buffers).
  if (typeof kind === 'string') return kind === 'message' ? MESSAGE : (KINDS.get(kind) ?? OTHER);
  if (Buffer.isBuffer(kind)) {
    const first = kind[0];
    if (first === M && isMessage(kind, 0)) return MESSAGE;
    if ((first === P || first === S) && isMessage(kind, 1)) return first === P ? PMESSAGE : SMESSAGE;
    return kind.length <= 12 ? (KINDS.get(kind.toString('latin1')) ?? OTHER) : OTHER;
  }
  return OTHER;
}

/** RESP2 has no push type: on a subscribed RESP2 connection, messages and confirmations arrive as arrays. */
export function isPubSubArray(value: Reply): boolean {
  return Array.isArray(value) && value.length >= 3 && frameKind(value[0]) !== OTHER;
}

/** Whether a frame's channel (Buffer or string) is the bytes of argument `arg`. */
function sameBytes(got: Reply | undefined, arg: Arg | undefined): boolean {
  if (arg === undefined || got === undefined || got === null) return false;
  const a = typeof got === 'string' ? Buffer.from(got, 'utf8') : got;
  if (!Buffer.isBuffer(a)) return false;
  const b = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg instanceof Uint8Array ? arg : Buffer.from(String(arg), 'utf8');
  return a.length === b.length && a.equals(b);
}

/**
 * The pub/sub side of a multiplexer: settles the FIFO head once it has every
 * confirmation it is owed, and hands every other pub/sub frame to the owner.
 */
export class PubSubRouting {
  /** Confirmations the FIFO head has received so far (only the head can be receiving them). */
  private seen = 0;

  constructor(
    private readonly fifo: { peekFront(): Command | undefined },
    private readonly node: string,
    /** Settle the FIFO head with this reply. */
    private readonly settle: (value: Reply) => void,
    /** The owner's frames: messages, and unsubscribes the server initiated. */
    private readonly push: (frame: Reply[]) => void,
  ) {}

  /** The connection was lost: whatever the head was owed will never come. */
  reset(): void {
    this.seen = 0;
  }

  /**
   * A reply (not a push). Returns true if it was a pub/sub frame, handled
   * here; else the caller settles the head with it. An error reply refuses a
   * subscribe-family head whole; any other plain reply where confirmations
   * are owed means the stream is out of step.
   */
  reply(value: Reply, protocol: 2 | 3): boolean {
    if (protocol === 2 && isPubSubArray(value)) {
      this.frame(value as Reply[]);
      return true;
    }
    const head = this.fifo.peekFront();
    if (head !== undefined && head.info.flags & SUBSCRIBE) {
      if (!(value instanceof ServerError)) {
        throw new ProtocolError(`a plain reply where ${head.info.name} confirmations were owed: the stream is out of step`, { node: this.node });
      }
      this.seen = 0;
    }
    return false;
  }

  /**
   * A pub/sub frame. It is the head's if it is of the head's kind and names
   * the head's next channel, byte for byte; anything else is the owner's,
   * whatever its kind.
   */
  frame(frame: Reply[]): void {
    const head = this.fifo.peekFront();
    if (head === undefined || (head.info.flags & SUBSCRIBE) === 0) {
      this.push(frame); // messages take this branch
      return;
    }
    if (CONFIRMATION[head.info.name] !== frameKind(frame[0]) || !sameBytes(frame[1], head.args[this.seen])) {
      this.push(frame);
      return;
    }
    if (++this.seen < head.args.length) return;
    this.seen = 0;
    this.settle(null);
  }
}
