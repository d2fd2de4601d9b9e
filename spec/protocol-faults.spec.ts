/**
 * Misbehaving servers, scripted: garbage, absurd lengths, endless nesting,
 * unsolicited replies, cut connections, silence. In every case each promise
 * settles, no caller gets another caller's reply, and the client recovers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionLostError, ProtocolError, Redis, ReplyTimeoutError } from '../lib/index.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(respond: Parameters<typeof scriptedServer>[0], opts = {}): Promise<{ server: ScriptedServer; redis: Redis }> {
  const server = await scriptedServer(respond);
  servers.push(server);
  const redis = new Redis(server.url, { reconnect: { baseDelay: 5, maxDelay: 20 }, ...opts });
  clients.push(redis);
  return { server, redis };
}

describe('hostile bytes end the connection with ProtocolError, then the client recovers', () => {
  const cases: [string, string][] = [
    ['garbage bytes', 'HTTP/1.1 400 Bad Request\r\n\r\n'],
    ['an absurd bulk length', '$99999999999999\r\n'],
    ['endless nesting', '*1\r\n'.repeat(5000)],
    ['a malformed integer', ':12x4\r\n'],
  ];
  for (const [what, bytes] of cases) {
    it(what, async () => {
      let poisoned = false;
      const { redis } = await setup((args) => {
        if (args[0] === 'GET' && args[1] === 'poison' && !poisoned) {
          poisoned = true;
          return bytes;
        }
        return undefined;
      });
      await redis.db.reply('SET', 'k', 'v');
      const results = await Promise.allSettled([
        redis.db.reply('GET', 'poison'),
        redis.db.reply('GET', 'k'),
        redis.db.reply('INCR', 'n'),
      ]);
      expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(ProtocolError) });
      for (const r of results.slice(1)) {
        // Behind the poison: either rejected with the protocol error, or (if written after
        // the reconnect) answered correctly. Never someone else's reply.
        if (r.status === 'fulfilled') expect(['v', 1]).toContain(r.value);
        else expect(r.reason).toBeInstanceOf(ProtocolError);
      }
      expect(await redis.db.reply('GET', 'k')).toBe('v');
    });
  }

  it('a reply nobody asked for is a desync, not a reply for the next caller', async () => {
    const { redis } = await setup((args) => (args[0] === 'ECHO' ? '+one\r\n+two\r\n' : undefined));
    expect(await redis.db.reply('ECHO', 'x')).toBe('one');
    // The unsolicited '+two' arrives with no command waiting: the connection is recycled.
    const next = await redis.db.reply('GET', 'nothing').catch((e) => e);
    expect(next === null || next instanceof ProtocolError || next instanceof ConnectionLostError).toBe(true);
    expect(await redis.db.reply('GET', 'nothing')).toBeNull();
  });

  it('push frames on the shared connection never take a FIFO slot', async () => {
    const { redis } = await setup((args) =>
      args[0] === 'GET' ? '>2\r\n+invalidate\r\n*1\r\n+k\r\n$3\r\nval\r\n' : undefined,
    );
    const pushes: unknown[] = [];
    redis.on('push', (p) => pushes.push(p));
    expect(await redis.db.reply('GET', 'k')).toBe('val');
    expect(pushes).toEqual([['invalidate', ['k']]]);
  });

  it('an unsolicited unsubscribe on the shared connection is a desync: recycle, never guess', async () => {
    let once = true;
    const { redis } = await setup((args) => {
      if (args[0] === 'GET' && once) {
        once = false;
        return '>3\r\n+unsubscribe\r\n+ch\r\n:0\r\n$3\r\nval\r\n';
      }
      return undefined;
    });
    await redis.db.reply('SET', 'k', 'v');
    const err = await redis.db.reply('GET', 'k').catch((e) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(await redis.db.reply('GET', 'k')).toBe('v');
  });

  it('a reply of the wrong shape for the command at the head is a desync, never handed over', async () => {
    let once = true;
    const { redis } = await setup((args) => {
      if (args[0] === 'GET' && once) {
        once = false;
        return ':42\r\n'; // GET never answers an integer: this reply is not GET's
      }
      return undefined;
    });
    await redis.db.reply('SET', 'k', 'v');
    const results = await Promise.allSettled([redis.db.reply('GET', 'k'), redis.db.reply('INCR', 'n')]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(ProtocolError) });
    if (results[1].status === 'fulfilled') expect(results[1].value).toBe(1);
    expect(await redis.db.reply('GET', 'k')).toBe('v');
  });
});

describe('module commands', () => {
  it("a module's blocking command, learned at connect, goes to a leased connection", async () => {
    let main: unknown;
    let bpopOn: unknown;
    const { redis } = await setup((args, socket) => {
      const name = args[0]!.toUpperCase();
      if (name === 'MODULE') {
        main = socket;
        return '*1\r\n%2\r\n+name\r\n+fake\r\n+ver\r\n:1\r\n';
      }
      if (name === 'COMMAND' && args[1] === 'LIST') return '*1\r\n+fake.bpop\r\n';
      if (name === 'COMMAND' && args[1] === 'INFO') return '*1\r\n*6\r\n+fake.bpop\r\n:-2\r\n~2\r\n+write\r\n+blocking\r\n:1\r\n:1\r\n:1\r\n';
      if (name === 'FAKE.BPOP') {
        bpopOn = socket;
        return '$4\r\nitem\r\n';
      }
      return undefined;
    });
    await redis.db.reply('PING'); // the shared connection is ready: modules learned
    expect(await redis.db.reply('FAKE.BPOP', 'k')).toBe('item');
    expect(main).toBeDefined();
    expect(bpopOn).not.toBe(main); // not on the shared socket
    expect(redis.stats().leased).toBe(1);
  });
});

describe('abandoned blocking commands', () => {
  it('an item popped after the caller gave up is reported as orphanedReply, never dropped silently', async () => {
    let release!: () => void;
    const popped = new Promise<void>((r) => (release = r));
    const { redis } = await setup(async (args) => {
      if (args[0] === 'BLPOP') {
        await popped; // the pop completes once the caller gave up, not after some time
        return '*2\r\n$4\r\njobs\r\n$4\r\njob1\r\n';
      }
      if (args[0] === 'CLIENT' && args[1] === 'UNBLOCK') return ':0\r\n';
      return undefined;
    });
    const orphan = new Promise((r) => redis.once('orphanedReply', r));
    const err = await redis.db.with({ timeout: 50 }).reply('BLPOP', 'jobs', 0).catch((e) => e);
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    release();
    expect(await orphan).toEqual({ command: 'BLPOP', value: ['jobs', 'job1'] });
    expect(redis.stats().orphanedReplies).toBe(1);
  });
});

describe('connections that die or go silent', () => {
  it('cut after a write: the write is maybeExecuted, a read is retried once, never-sent commands go after reconnect', async () => {
    let cut = true;
    const { server, redis } = await setup((args, socket) => {
      if (cut && args[0] === 'INCR') {
        cut = false;
        socket.destroy();
        return '';
      }
      return undefined;
    });
    await redis.db.reply('SET', 'n', '10');
    const incr = redis.db.reply('INCR', 'n');
    const get = redis.db.reply('GET', 'n');
    const err = await incr.catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect(err.maybeExecuted).toBe(true);
    expect(await get).toBe('10'); // read-only: resent after the reconnect
    expect(redis.stats().reconnects).toBeGreaterThanOrEqual(1);
    // INCR was not resent behind our back: the server saw it exactly once.
    expect(server.received.filter((c) => c[0] === 'INCR')).toHaveLength(1);
  });

  it('a silent server: ReplyTimeoutError, then the connection is recycled (half-open detection)', async () => {
    let silent = true;
    const { server, redis } = await setup(
      (args) => {
        if (silent && args[0] === 'GET') return ''; // swallow: never answer
        return undefined;
      },
      { commandTimeout: 100, staleReplyGrace: 100 },
    );
    await redis.db.reply('PING');
    const err = await redis.db.reply('GET', 'x').catch((e) => e);
    expect(err).toBeInstanceOf(ReplyTimeoutError);
    expect(err.sent).toBe(true);
    silent = false;
    // The stale slot makes the client recycle the connection; it then works again.
    const reconnected = new Promise((r) => redis.once('ready', r));
    await reconnected;
    expect(await redis.db.reply('GET', 'x')).toBeNull();
    expect(server.received.filter((c) => c[0] === 'HELLO').length).toBeGreaterThanOrEqual(2);
  });

  it('falls back to RESP2 when the server has no HELLO', async () => {
    const { server, redis } = await setup(
      (args) => {
        if (args[0] === 'HELLO') return "-ERR unknown command 'HELLO', with args beginning with: '3'\r\n";
        if (args[0] === 'AUTH' || args[0] === 'CLIENT') return '+OK\r\n';
        return undefined;
      },
      { password: 'pw', clientName: 'legacy', db: 2 },
    );
    expect(await redis.db.reply('PING')).toBe('PONG');
    // HELLO fails; SELECT, CLIENT MAINT_NOTIFICATIONS and MODULE LIST were pipelined behind it; then the RESP2 handshake.
    expect(server.received.map((c) => c[0])).toEqual(['HELLO', 'SELECT', 'CLIENT', 'MODULE', 'AUTH', 'CLIENT', 'SELECT', 'PING']);
    expect(server.received[2]!.slice(0, 3)).toEqual(['CLIENT', 'MAINT_NOTIFICATIONS', 'ON']);
    expect(server.received[4]).toEqual(['AUTH', 'pw']);
    expect(server.received[5]).toEqual(['CLIENT', 'SETNAME', 'legacy']);
  });
});

