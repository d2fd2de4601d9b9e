/**
 * Typed events for the public emitters (`Redis`, `Subscriber`, `Keyspace`):
 * types only. Each emitter declares an interface of its events (name ->
 * listener arguments) and merges the listener methods below into its class,
 * so `on('redy', ...)` or a listener of the wrong shape does not compile.
 * Events without arguments take `[none?: undefined]`, so a promise's resolve
 * function (`new Promise((r) => redis.once('close', r))`) still fits.
 *
 * The payloads have names a handler written apart can be typed with.
 */
import type { Reply } from './resp/types.js';

/** A listener of an event whose arguments are `A`. */
export type Listener<A> = (...args: A extends unknown[] ? A : never) => void;

/**
 * `'reconnecting'` (on `Redis` and `Subscriber`): a connection failed and
 * its next attempt comes in `delay` ms; `attempt` counts from 1 since it was
 * last up; `cause` is why the last one failed.
 */
export interface ReconnectingInfo {
  readonly attempt: number;
  readonly delay: number;
  readonly cause: Error;
}

/** `'commandError'`'s second argument: the command (its name) that failed with nobody awaiting it. */
export interface CommandErrorContext {
  readonly command: string;
}

/**
 * `'orphanedReply'`: the reply of a command abandoned while it was blocking
 * (an item a timed-out BLPOP popped), so that it is not lost.
 */
export interface OrphanedReplyInfo {
  readonly command: string;
  readonly value: Reply;
}
