/**
 * One async iterator over a subscriber's messages, with a bounded buffer of
 * its own: it receives every message delivered after it was made, so two
 * iterators each see everything, and a subscriber with no iterator open
 * buffers nothing.
 *
 * Past `max` buffered messages (a consumer slower than the publishers):
 *  - 'error' (the default): the iterator stops receiving, hands out what it
 *    buffered, then throws `SubscriberOverflowError` once, then is done.
 *    Silently losing messages is worse than failing loudly;
 *  - 'drop-oldest': the oldest buffered message is dropped and counted.
 *
 * An iterator its user can no longer reach (dropped without `return()`: a
 * `next()` raced against a timer, then forgotten) stops receiving once it is
 * garbage-collected, after handing out what an awaited `next()` still waits
 * for: it would otherwise buffer every later message for nobody. Those still
 * waiting are bounded per feed (AbandonedWaits).
 */
import Denque from 'denque';
import { ClientError } from '../errors.js';

/** An iterator's buffer overflowed (`overflow: 'error'`). */
export class SubscriberOverflowError extends ClientError {
  constructor(limit: number) {
    super(`the subscriber's consumer fell more than ${limit} messages behind`, 'ERR_SUBSCRIBER_OVERFLOW');
  }
}

const DONE: IteratorResult<never> = Object.freeze({ value: undefined, done: true }) as IteratorResult<never>;

interface Reader<T> {
  resolve(r: IteratorResult<T>): void;
  reject(err: Error): void;
}

/**
 * The iterators of one feed (a subscriber, a keyspace stream) dropped while a
 * next() of theirs still waits, oldest first. Each waits for the feed's next
 * message (its next() may be awaited: an iterator made for one message). But
 * a wait raced against a timer and forgotten, again and again on a silent
 * channel, would pile up until a message comes (some 1 KB each): past `max`
 * of them, the oldest ends (its next() resolves done).
 */
export class AbandonedWaits {
  private readonly waiting = new Set<{ stop(): void }>();
  constructor(private readonly max: number) {}

  add(it: { stop(): void }): void {
    this.waiting.add(it);
    if (this.waiting.size > this.max) this.waiting.values().next().value!.stop(); // stop() takes it out
  }

  delete(it: { stop(): void }): void {
    this.waiting.delete(it);
  }
}

export class BoundedIterator<T> implements AsyncIterableIterator<T> {
  private readonly items = new Denque<T>();
  /** next() calls waiting for a message (the buffer is empty while there are any). */
  private readonly readers: Reader<T>[] = [];
  /** It receives nothing more: ended, or failed (then `error` is handed out once the buffer is drained). */
  private finished = false;
  private error: Error | undefined = undefined;
  /** Messages dropped under 'drop-oldest'. */
  dropped = 0;
  /** Its user's view was garbage-collected: it stops once no next() waits. */
  private orphaned = false;

  constructor(
    private readonly max: number,
    private readonly dropOldest: boolean,
    /** Called once when it stops receiving: its owner stops delivering to it. */
    private readonly detach: (it: BoundedIterator<T>) => void,
    /** Called for each dropped message. */
    private readonly onDrop?: () => void,
    /** Its feed's iterators dropped with a next() waiting: it joins them if it is. */
    private readonly waits?: AbandonedWaits,
  ) {}

  push(value: T): void {
    if (this.finished) return;
    const reader = this.readers.shift();
    if (reader !== undefined) {
      reader.resolve({ value, done: false });
      if (this.orphaned && this.readers.length === 0) this.stop();
      return;
    }
    if (this.items.length >= this.max) {
      if (!this.dropOldest) {
        this.stop(new SubscriberOverflowError(this.max));
        return;
      }
      this.items.shift();
      this.dropped++;
      this.onDrop?.();
    }
    this.items.push(value);
  }

  /** Stop receiving: what is buffered is still handed out, then `err` once (if given), then done. */
  stop(err?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.error = err;
    this.detach(this);
    this.waits?.delete(this);
    for (const reader of this.readers.splice(0)) {
      const e = this.error;
      this.error = undefined;
      if (e !== undefined) reader.reject(e);
      else reader.resolve(DONE);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.finished) {
      const e = this.error;
      this.error = undefined;
      return e !== undefined ? Promise.reject(e) : Promise.resolve(DONE);
    }
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  /** Nobody can call next() any more: stop now, or once the next() calls still awaited have their messages. */
  orphan(): void {
    this.orphaned = true;
    if (this.readers.length === 0) this.stop();
    else this.waits?.add(this);
  }

  /** `break` out of `for await`: stop and forget the buffer. */
  return(): Promise<IteratorResult<T>> {
    this.items.clear();
    this.stop();
    this.error = undefined;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * What a user holds of a BoundedIterator: iteration only. The iterator itself
 * is the subscriber's feed (push, stop) and buffer: internals are not
 * reachable from public objects (DESIGN.md), so no caller can inject a message
 * or end a stream behind its subscriber's back.
 */
export function iterationOnly<T>(it: BoundedIterator<T>): AsyncIterableIterator<T> {
  const view: AsyncIterableIterator<T> = {
    next: () => it.next(),
    return: () => it.return(),
    [Symbol.asyncIterator]: () => view,
  };
  // Its methods share this scope with `view`: a caller keeping only `next` keeps the view, and its iterator.
  abandoned.register(view, it);
  return view;
}

/** Views collected without return(): their iterators stop (an awaited next() does not keep the view, only the iterator). */
const abandoned = new FinalizationRegistry<{ orphan(): void }>((it) => it.orphan());
