/**
 * Command classification (issue 9, items 9 and 10).
 *
 *  - RESENDABLE ("safe to send twice") is derived from the server's command
 *    flags: after a cut, a written PING or CLIENT ID may be sent again like a
 *    GET; a write, an admin command, a PUBLISH, a script or a blocking write
 *    never is. Checked per class through commandInfo(), which is what the
 *    loss path reads.
 *  - Subcommands and keywords are recognised whatever the argument's type
 *    (string, Buffer, Uint8Array): a Buffer `REPLY` must be refused like the
 *    string, and a Buffer `BLOCK` must send XREAD to the blocking pool.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../lib/index.js';
import {
  BLOCKING,
  commandInfo,
  CONNECTION_STATE,
  CONTAINER,
  isBlockingCall,
  isKeyword,
  learnCommands,
  READONLY,
  RESENDABLE,
  SHAPE_ANY,
  UNKNOWN,
  WRITE,
} from '../lib/commands/index.js';
import { useRealServer } from './support/real-server.js';
import { blockedIn } from './support/blocked-clients.js';
import { until, within } from './support/until.js';

const resendable = (name: string, sub?: unknown) => (commandInfo(name, sub).flags & RESENDABLE) !== 0;
/** `CONFIG SET` -> commandInfo('CONFIG', 'SET'). */
const spelled = (s: string) => s.split(' ') as [string, string?];
const bytes = (s: string) => new TextEncoder().encode(s); // a Uint8Array that is not a Buffer

describe('RESENDABLE: safe to send twice, derived from the server flags', () => {
  it('the flag is a bit of its own, distinct from the others', () => {
    expect(typeof RESENDABLE).toBe('number');
    expect(RESENDABLE & (RESENDABLE - 1)).toBe(0);
    expect(RESENDABLE & (READONLY | WRITE | BLOCKING | CONNECTION_STATE | CONTAINER)).toBe(0);
  });

  const classes: Record<string, { yes: string[]; no: string[] }> = {
    'read-only data commands': {
      yes: ['GET', 'get', 'Hgetall', 'MGET', 'SCAN', 'XRANGE', 'XREAD', 'EVAL_RO', 'EVALSHA_RO', 'FCALL_RO', 'OBJECT ENCODING', 'MEMORY USAGE', 'DBSIZE'],
      no: [],
    },
    'keyless commands without side effects': {
      yes: ['PING', 'ping', 'ECHO', 'TIME', 'INFO', 'LASTSAVE', 'ROLE', 'CLIENT ID', 'client id', 'CLIENT GETNAME', 'CLIENT INFO',
        'COMMAND COUNT', 'COMMAND DOCS', 'ACL WHOAMI', 'CLUSTER KEYSLOT', 'CLIENT HELP', 'SCRIPT HELP'],
      no: [],
    },
    'inspection-only admin, pub/sub and script subcommands (hand-made exceptions)': {
      yes: ['CONFIG GET', 'CLIENT LIST', 'SLOWLOG GET', 'SLOWLOG LEN', 'LATENCY LATEST', 'ACL LIST', 'MODULE LIST',
        'PUBSUB CHANNELS', 'PUBSUB NUMSUB', 'SCRIPT EXISTS', 'SCRIPT LOAD', 'FUNCTION LIST', 'FUNCTION DUMP'],
      no: [],
    },
    writes: { yes: [], no: ['SET', 'INCR', 'DEL', 'LPUSH', 'XADD', 'XREADGROUP', 'SORT', 'SWAPDB', 'FLUSHALL', 'FLUSHDB', 'MIGRATE', 'FUNCTION LOAD', 'FUNCTION DELETE', 'XGROUP CREATE'] },
    'admin commands': {
      yes: [],
      no: ['CONFIG SET', 'CONFIG REWRITE', 'CONFIG RESETSTAT', 'CLIENT KILL', 'CLIENT PAUSE', 'CLIENT UNPAUSE', 'CLIENT UNBLOCK', 'CLIENT NO-EVICT',
        'DEBUG', 'SHUTDOWN', 'SAVE', 'BGSAVE', 'BGREWRITEAOF', 'ACL SETUSER', 'ACL LOG', 'SLOWLOG RESET', 'LATENCY RESET', 'REPLICAOF', 'FAILOVER', 'MONITOR'],
    },
    'publishing': { yes: [], no: ['PUBLISH', 'SPUBLISH'] },
    'scripts and functions': { yes: [], no: ['EVAL', 'EVALSHA', 'FCALL', 'SCRIPT FLUSH', 'SCRIPT KILL', 'SCRIPT DEBUG', 'FUNCTION KILL', 'FUNCTION FLUSH', 'FUNCTION RESTORE'] },
    'blocking commands that are not read-only': { yes: [], no: ['BLPOP', 'BRPOP', 'BLMOVE', 'BZPOPMIN', 'BLMPOP', 'WAIT'] },
    'connection state': {
      yes: [],
      no: ['SELECT', 'AUTH', 'HELLO', 'MULTI', 'EXEC', 'WATCH', 'QUIT', 'RESET', 'CLIENT SETNAME', 'CLIENT REPLY', 'CLIENT TRACKING', 'CLIENT CACHING', 'READONLY', 'READWRITE', 'ASKING', 'SUBSCRIBE'],
    },
    'unknown commands and subcommands': { yes: [], no: ['MYMODULE.DO', 'NOSUCHCOMMAND', 'CLIENT NOSUCHSUB', 'CLIENT SETINFO', 'CONFIG', 'CLIENT', 'SCRIPT'] },
  };
  for (const [kind, { yes, no }] of Object.entries(classes)) {
    it(kind, () => {
      for (const c of yes) expect([c, resendable(...spelled(c))]).toEqual([c, true]);
      for (const c of no) expect([c, resendable(...spelled(c))]).toEqual([c, false]);
    });
  }

  it('a subcommand given as a Buffer or a Uint8Array is classified like the string', () => {
    expect(resendable('CLIENT', Buffer.from('ID'))).toBe(true);
    expect(resendable('CLIENT', bytes('id'))).toBe(true);
    expect(resendable('CONFIG', Buffer.from('get'))).toBe(true);
    expect(resendable('CONFIG', Buffer.from('SET'))).toBe(false);
    expect(resendable('SCRIPT', bytes('FLUSH'))).toBe(false);
  });

  it('a container with a non-word subcommand (number, bigint) has the container flags: never resendable', () => {
    for (const sub of [123, 123n, -1, 1.5]) {
      const info = commandInfo('CLIENT', sub);
      expect(info.name).toBe('CLIENT');
      expect(info.flags & (RESENDABLE | CONTAINER | CONNECTION_STATE)).toBe(0);
    }
  });

  it('module commands learned at connect are resendable only when the server says read-only', () => {
    const learned = learnCommands([
      ['mymod.get', 2, ['readonly', 'fast'], 1, 1, 1],
      ['mymod.set', 3, ['write', 'denyoom'], 1, 1, 1],
      ['mymod.stat', 1, ['fast'], 0, 0, 0],
      ['mymod.cmd', -2, [], 0, 0, 0, [], [], [], [
        ['mymod.cmd|peek', 2, ['readonly'], 0, 0, 0],
        ['mymod.cmd|poke', 2, ['write'], 0, 0, 0],
      ]],
    ]);
    expect(learned).toBeGreaterThanOrEqual(4);
    expect(resendable('MYMOD.GET')).toBe(true);
    expect(resendable('mymod.set')).toBe(false);
    expect(resendable('mymod.stat')).toBe(false);
    expect(commandInfo('MYMOD.CMD').flags & CONTAINER).not.toBe(0);
    expect(commandInfo('MYMOD.CMD', Buffer.from('PEEK')).name).toBe('MYMOD.CMD PEEK');
    expect(resendable('MYMOD.CMD', 'peek')).toBe(true);
    expect(resendable('MYMOD.CMD', bytes('POKE'))).toBe(false);
    expect(resendable('MYMOD.CMD', 'other')).toBe(false);
    // The generated table keeps priority over what a server reports.
    learnCommands([['get', 2, ['write'], 1, 1, 1]]);
    expect(resendable('GET')).toBe(true);
  });
});

describe('subcommands and keywords are recognised whatever their type', () => {
  const forms = (word: string): unknown[] => [word, word.toLowerCase(), Buffer.from(word), Buffer.from(word.toLowerCase()), bytes(word), bytes(word.toLowerCase())];

  it('commands that change what the next command on the connection means are connection state', () => {
    // CLIENT CACHING and ASKING apply to the next command (another caller's, on a
    // shared connection); READONLY / READWRITE switch the connection's cluster mode.
    for (const sub of forms('CACHING')) expect(commandInfo('CLIENT', sub).flags & CONNECTION_STATE).not.toBe(0);
    for (const name of ['ASKING', 'READONLY', 'READWRITE', 'asking']) expect(commandInfo(name).flags & CONNECTION_STATE).not.toBe(0);
  });

  it('CLIENT REPLY / CLIENT TRACKING are connection state in every form', () => {
    for (const sub of [...forms('REPLY'), ...forms('TRACKING'), 'Reply', Buffer.from('tRaCkInG')]) {
      const info = commandInfo('CLIENT', sub);
      expect(info.flags & CONNECTION_STATE).not.toBe(0);
      expect(['CLIENT REPLY', 'CLIENT TRACKING']).toContain(info.name);
    }
  });

  it('a Buffer or string subcommand gives the same entry (name, flags, key positions)', () => {
    for (const [c, s] of [['CLIENT', 'KILL'], ['CONFIG', 'GET'], ['OBJECT', 'ENCODING'], ['MEMORY', 'USAGE'], ['XINFO', 'STREAM']] as const) {
      const a = commandInfo(c, s);
      for (const sub of forms(s)) expect(commandInfo(c, sub)).toEqual(a);
    }
    expect(commandInfo('OBJECT', Buffer.from('encoding')).firstKey).toBe(2);
  });

  it('non-ASCII or oversized subcommands simply do not match', () => {
    const client = commandInfo('CLIENT');
    for (const sub of [Buffer.from('RÉPLY'), Buffer.from([0x52, 0x45, 0x50, 0x4c, 0xd9]), 'TRAC\u212AING', Buffer.alloc(1 << 20, 'a'), 'x'.repeat(1 << 20), Buffer.alloc(0), '']) {
      const info = commandInfo('CLIENT', sub);
      expect(info.name).toBe('CLIENT');
      expect(info.flags).toBe(client.flags & ~(CONTAINER | RESENDABLE));
    }
  });

  it('the subcommand of a non-container command is ignored (GET key is GET)', () => {
    expect(commandInfo('GET', 'reply')).toBe(commandInfo('GET'));
    expect(commandInfo('GET', Buffer.from('reply'))).toBe(commandInfo('GET'));
  });

  it('names of Object.prototype members or COMMAND INFO spellings (client|kill) are unknown commands', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'client|kill', 'CLIENT|REPLY']) {
      const info = commandInfo(name, 'x');
      expect([name, info.flags]).toEqual([name, UNKNOWN]);
      expect(info.shape).toBe(SHAPE_ANY);
    }
  });

  it('isKeyword: ASCII case-insensitive, any argument type', () => {
    for (const a of forms('BLOCK')) expect(isKeyword(a, 'BLOCK')).toBe(true);
    for (const a of ['BLOCKS', 'BLOC', Buffer.from('BLÖCK'), Buffer.from([0x42, 0x4c, 0x4f, 0x43, 0xcb]), 5, 5n, undefined, null, {}]) {
      expect(isKeyword(a, 'BLOCK')).toBe(false);
    }
  });

  it('isBlockingCall: XREAD / XREADGROUP block when BLOCK is given in any form', () => {
    const xread = commandInfo('XREAD');
    for (const block of forms('BLOCK')) {
      expect(isBlockingCall(xread, ['COUNT', 1, block, 100, 'STREAMS', 's', '$'], 0)).toBe(true);
      expect(isBlockingCall(commandInfo('xreadgroup'), ['GROUP', 'g', 'c', block, 0, 'STREAMS', 's', '>'], 0)).toBe(true);
    }
    expect(isBlockingCall(xread, ['COUNT', 1, 'STREAMS', 's', '$'], 0)).toBe(false);
    expect(isBlockingCall(xread, [Buffer.from('COUNT'), 1, Buffer.from('STREAMS'), 's', '$'], 0)).toBe(false);
    expect(isBlockingCall(commandInfo('BLPOP'), ['q', 1], 0)).toBe(true);
    expect(isBlockingCall(commandInfo('GET'), [Buffer.from('BLOCK')], 0)).toBe(false);
  });

  it('isBlockingCall: the server reads BLOCK with strcasecmp, so BLOCK followed by a NUL byte blocks too', () => {
    // XREAD's option parser compares C strings: "BLOCK\0anything" is BLOCK to it.
    // Missing it would send a blocking call down the shared socket.
    const xread = commandInfo('XREAD');
    expect(isBlockingCall(xread, [Buffer.from('BLOCK\0x'), 100, 'STREAMS', 's', '$'], 0)).toBe(true);
    expect(isBlockingCall(xread, ['block\0', 100, 'STREAMS', 's', '$'], 0)).toBe(true);
    expect(isBlockingCall(xread, [Buffer.from('BLOCKx'), 100, 'STREAMS', 's', '$'], 0)).toBe(false);
  });
});

describe('through the public API, on a real server', () => {
  const env = useRealServer();

  it('CLIENT REPLY is refused as a Buffer or a Uint8Array, in any case: nothing is sent', async () => {
    const db = env.client().db;
    for (const sub of [Buffer.from('REPLY'), Buffer.from('reply'), bytes('Reply')]) {
      expect(() => db.command('CLIENT', sub, 'SKIP')).toThrow(InvalidArgumentError);
      await expect(db.reply('CLIENT', sub, 'OFF')).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    // The FIFO is still in step: every caller gets its own value.
    await Promise.all(Array.from({ length: 20 }, (_, i) => db.reply('SET', `cc:${i}`, `v${i}`)));
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => db.reply('GET', `cc:${i}`)));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
  });

  it('CLIENT <Buffer TRACKING> ON is refused', async () => {
    const db = env.client().db;
    expect(() => db.command('CLIENT', Buffer.from('TRACKING'), 'ON')).toThrow(InvalidArgumentError);
    await expect(db.reply('CLIENT', bytes('tracking'), 'ON')).rejects.toBeInstanceOf(InvalidArgumentError);
    const info = await db.reply('CLIENT', 'TRACKINGINFO');
    expect(info.flags).toEqual(['off']);
  });

  it('XREAD with a Buffer BLOCK goes to the pool: a concurrent GET is not held up', async () => {
    const db = env.client().db;
    const admin = env.client().db; // a connection of its own: sees the server's state, is never held up by db's
    await db.reply('DEL', 'xs');
    await db.reply('SET', 'xk', 'here');
    // BLOCK 0: the XREAD blocks until the XADD below, not for some time that
    // could run out while the GET is answered on a slow machine.
    const cases: [Uint8Array, string, string][] = [
      [Buffer.from('BLOCK'), 'GET', 'here'],
      [bytes('block'), 'PING', 'PONG'], // Uint8Array, lower case: also leased
    ];
    try {
      for (const [block, other, answer] of cases) {
        let xreadDone = false;
        const xread = db.reply('XREAD', block, 0, 'STREAMS', 'xs', '$').then((v) => {
          xreadDone = true;
          return v;
        });
        await until('the XREAD blocked on the server', async () => (await blockedIn(admin, 'xread')) === 1);
        const reply = other === 'GET' ? db.reply('GET', 'xk') : db.reply('PING');
        expect(await within(`${other} answered while the XREAD blocks (not queued behind it on the shared connection)`, reply)).toBe(answer);
        expect(xreadDone).toBe(false); // it blocks until the XADD, which has not come yet
        await admin.reply('XADD', 'xs', '*', 'f', other);
        expect(JSON.stringify(await within('the XREAD answered the XADD', xread))).toContain(other);
      }
    } finally {
      await admin.reply('XADD', 'xs', '*', 'f', 'release'); // a failed case leaves no XREAD blocked for close()
    }
  });
});
