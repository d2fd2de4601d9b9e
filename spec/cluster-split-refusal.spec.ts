/**
 * A command a cluster sends as several parts (split by slot, fanned out to
 * every master) when something goes wrong while its parts are being issued.
 * Issuing is synchronous, so only code that runs inside it can change the
 * client's state: a `redmux:command` subscriber (an APM) sees each part's
 * start and may close the client, disconnect it or fire the caller's signal.
 * Where every part goes is decided before any is sent, so routing cannot
 * refuse a later part after an earlier one was written; and whatever happens
 * to the parts, the caller settles once, with an error that says whether a
 * part may have run (`partial` for a split), and every part's trace ends.
 */
import dc from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { commandInfo } from '../lib/commands/index.js';
import { keySlot } from '../lib/commands/slot.js';
import { Command, WRITTEN } from '../lib/connection/command.js';
import type { CommandTraceContext } from '../lib/connection/diagnostics.js';
import { AbortError, ClosedError, ConnectionLostError } from '../lib/index.js';
import { splitCall } from '../lib/topology/cluster/fanout.js';
import { useCluster } from './support/real-cluster.js';

const { cluster, client } = useCluster({ commandTimeout: 5000 });

/** A key (new to this run) owned by the master on `port`. */
async function keyOn(port: number, tag: string): Promise<string> {
  const run = process.pid;
  for (let i = 0; ; i++) {
    const key = `split-refusal:${run}:${tag}:${i}`;
    if ((await cluster.ownerOf(keySlot(key))) === port) return key;
  }
}

/** One key on each master, in the masters' order. */
async function keyPerMaster(tag: string): Promise<{ ports: number[]; keys: string[] }> {
  const ports = cluster.masters().map((m) => m.port);
  const keys = await Promise.all(ports.map((p, i) => keyOn(p, `${tag}${i}`)));
  return { ports, keys };
}

/**
 * Trace every part (a command with a `parent`); run `act` when the `n`th
 * part's start is published, i.e. while the caller's command is being issued.
 */
function onPartStart(n: number, act: () => void): { started: () => number; ended: () => number; off: () => void } {
  let started = 0;
  let ended = 0;
  const handlers = {
    start: (ctx: CommandTraceContext) => {
      if (ctx.parent === undefined) return;
      if (++started === n) act();
    },
    asyncEnd: (ctx: CommandTraceContext) => {
      if (ctx.parent !== undefined) ended++;
    },
  };
  const channel = dc.tracingChannel<unknown, CommandTraceContext>('redmux:command');
  channel.subscribe(handlers as never);
  return { started: () => started, ended: () => ended, off: () => channel.unsubscribe(handlers as never) };
}

/** Unhandled rejections while `fn` runs and a little after. */
async function unhandledDuring(fn: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const on = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', on);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('unhandledRejection', on);
  }
  return unhandled;
}

type Failure = Error & { command?: string; sent?: boolean; partial?: { keysDone: number; keys: number } };

describe('cluster: the client disconnected while a command\'s parts are issued', () => {
  it('split (MSET over three masters): the caller is told a part may have run, with partial; later parts are never sent; every part\'s trace ends', async () => {
    const { ports, keys } = await keyPerMaster('d');
    const redis = client();
    await redis.db.reply('DBSIZE'); // a connection to every master
    let err: Failure | undefined;
    const trace = onPartStart(2, () => redis.disconnect());
    const unhandled = await unhandledDuring(async () => {
      try {
        err = (await redis.db.reply('MSET', keys[0]!, 'a', keys[1]!, 'b', keys[2]!, 'c').catch((e: unknown) => e)) as Failure;
      } finally {
        trace.off();
      }
    });
    expect(unhandled).toEqual([]);
    expect(err).toBeInstanceOf(ClosedError);
    // The first part was written before the disconnect: "the client is closed" alone would hide that.
    expect(err!.message).toMatch(/may have run/);
    expect(err!.command).toBe('MSET');
    expect(err!.partial).toEqual({ keysDone: 0, keys: 3 });
    expect(trace.ended()).toBe(trace.started()); // a trace left open is a span an APM keeps forever
    expect(await cluster.call(ports[1]!, 'GET', keys[1]!)).toBe(null);
    expect(await cluster.call(ports[2]!, 'GET', keys[2]!)).toBe(null);
  });

  it('fanned out (DBSIZE to every master): the caller is told a part may have run; every part\'s trace ends', async () => {
    const redis = client();
    await redis.db.reply('DBSIZE');
    let err: Failure | undefined;
    const trace = onPartStart(2, () => redis.disconnect());
    const unhandled = await unhandledDuring(async () => {
      try {
        err = (await redis.db.reply('DBSIZE').catch((e: unknown) => e)) as Failure;
      } finally {
        trace.off();
      }
    });
    expect(unhandled).toEqual([]);
    expect(err).toBeInstanceOf(ClosedError);
    expect(err!.message).toMatch(/may have run/);
    expect(err!.command).toBe('DBSIZE');
    expect(trace.started()).toBe(3);
    expect(trace.ended()).toBe(3);
  });
});

describe('cluster: the client closed (gracefully) while a command\'s parts are issued', () => {
  it('split (MSET) to masters not connected yet: every part is sent and the call succeeds, as for any command issued before close()', async () => {
    const { ports, keys } = await keyPerMaster('c');
    const seed = cluster.masters()[0]!;
    const redis = client({ nodes: [`redis://127.0.0.1:${seed.port}`] });
    expect(await redis.db.reply('GET', keys[0]!)).toBe(null); // the slot map, and a connection to the seed only
    expect(Object.keys(redis.stats().nodes ?? {})).toEqual([`127.0.0.1:${seed.port}`]);
    let closing: Promise<void> | undefined;
    let outcome: unknown;
    const trace = onPartStart(2, () => (closing = redis.close()));
    const unhandled = await unhandledDuring(async () => {
      try {
        outcome = await redis.db.reply('MSET', keys[0]!, 'a', keys[1]!, 'b', keys[2]!, 'c').catch((e: unknown) => e);
      } finally {
        trace.off();
      }
      await closing;
    });
    expect(unhandled).toEqual([]);
    expect(outcome).toBe('OK');
    expect(trace.ended()).toBe(3);
    expect(await Promise.all(ports.map((p, i) => cluster.call(p, 'GET', keys[i]!)))).toEqual(['a', 'b', 'c']);
  });
});

describe('cluster: the caller\'s signal fires while a command\'s parts are issued', () => {
  it('split (MSET): AbortError sent: true (the first part was written); the later parts are never sent', async () => {
    const { ports, keys } = await keyPerMaster('s');
    const redis = client();
    await redis.db.reply('DBSIZE');
    const ac = new AbortController();
    let err: Failure | undefined;
    const trace = onPartStart(2, () => ac.abort());
    const unhandled = await unhandledDuring(async () => {
      try {
        err = (await redis.db.with({ signal: ac.signal }).reply('MSET', keys[0]!, 'a', keys[1]!, 'b', keys[2]!, 'c').catch((e: unknown) => e)) as Failure;
      } finally {
        trace.off();
      }
    });
    expect(unhandled).toEqual([]);
    expect(err).toBeInstanceOf(AbortError);
    expect(err!.sent).toBe(true);
    expect(trace.ended()).toBe(trace.started());
    expect(await redis.db.reply('PING')).toBe('PONG'); // the client is fine
    expect(await cluster.call(ports[1]!, 'GET', keys[1]!)).toBe(null);
    expect(await cluster.call(ports[2]!, 'GET', keys[2]!)).toBe(null);
  });
});

describe('splitCall: a part that cannot be issued (routing that throws once parts are out)', () => {
  /** MSET over three slots; `send` is the routing under test. */
  function mset(send: (slot: number, part: Command) => void) {
    const cmd = new Command('MSET', ['{a}', '1', '{b}', '2', '{c}', '3'], commandInfo('MSET'), 0, 0);
    const failures: Error[] = [];
    const parts: Command[] = [];
    const place = (slot: number) => (part: Command) => {
      parts.push(part);
      send(slot, part);
    };
    splitCall(cmd, place, (err) => {
      failures.push(err);
      cmd.reject(err);
    });
    return { cmd, failures, parts, outcome: cmd.toPromise().then(() => undefined, (e: unknown) => e as Failure) };
  }

  it('does not throw; every part settles once; the caller gets the written part\'s error (may have run) with partial', async () => {
    let n = 0;
    const boom = new Error('routing refused the part');
    const { failures, parts, outcome } = mset((_slot, part) => {
      if (++n === 2) throw boom;
      part.state = WRITTEN; // the first part went out
      part.attempts = 1;
    });
    expect(parts).toHaveLength(2); // nothing was handed out after the throw
    parts[0]!.reject(new ConnectionLostError('the connection was lost after the command was sent; it may have run', true));
    const err = await outcome;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).maybeExecuted).toBe(true);
    expect(err!.partial).toEqual({ keysDone: 0, keys: 3 });
    expect(failures).toHaveLength(1);
  });

  it('nothing written when the first part cannot be issued: the caller gets that error, with partial, once', async () => {
    const boom = new Error('routing refused the part');
    const { failures, parts, outcome } = mset(() => {
      throw boom;
    });
    expect(parts).toHaveLength(1);
    const err = await outcome;
    expect(err).toBe(boom);
    expect(err!.partial).toEqual({ keysDone: 0, keys: 3 });
    expect(failures).toHaveLength(1);
  });

  it('failures without a sent flag: the error of the part that was written decides, not the first part\'s "not sent"', async () => {
    let n = 0;
    const { parts, outcome } = mset((_slot, part) => {
      if (++n === 1) return; // queued: its node's connection is not up
      part.state = WRITTEN;
      part.attempts = 1;
    });
    parts[0]!.reject(new ClosedError('the client was disconnected; the command was not sent'));
    parts[1]!.reject(new ClosedError('the client was disconnected; the command may have run'));
    parts[2]!.reject(new ClosedError('the client was disconnected; the command may have run'));
    const err = await outcome;
    expect(err!.message).toMatch(/may have run/);
    expect(err!.partial).toEqual({ keysDone: 0, keys: 3 });
  });
});
