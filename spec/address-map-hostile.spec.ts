/**
 * `cluster.addressMap` / `sentinel.addressMap` answers that try to get past
 * the check (address-map.ts mapAddress): whatever the map does, the answer is
 * a plain `{ host: string, port: number }` that was checked, or a
 * ConnectError (its cause says why) — never an unchecked value handed to the
 * socket, never another kind of error.
 */
import { describe, expect, it } from 'vitest';
import { ConnectError, InvalidArgumentError } from '../lib/index.js';
import { checkAddressMap, mapAddress, type AddressMap } from '../lib/topology/address-map.js';

/** mapAddress's answer, or what it threw. */
function outcome(map: AddressMap): unknown {
  try {
    return mapAddress(map, 'node-1.invalid', 7000);
  } catch (err) {
    return err;
  }
}

function isCheckedOrConnectError(v: unknown): boolean {
  if (v instanceof ConnectError) return true;
  if (v === null || typeof v !== 'object') return false;
  const o = Object.getOwnPropertyDescriptors(v);
  return Object.keys(o).sort().join() === 'host,port' && typeof o.host!.value === 'string' && typeof o.port!.value === 'number';
}

describe('an address map answering something hostile', () => {
  it('a getter that answers a good host when checked, then a number: checked once, never handed on unchecked', () => {
    let reads = 0;
    const answer = {
      get host(): string {
        return (reads++ === 0 ? '127.0.0.1' : 42) as unknown as string;
      },
      port: 7001,
    };
    const got = outcome(() => answer);
    expect(isCheckedOrConnectError(got)).toBe(true);
  });

  it('a getter that throws, or a Proxy whose traps throw: ConnectError with the cause', () => {
    const throwing = { get host(): string { throw new Error('getter'); }, port: 7001 };
    const proxy = new Proxy({ host: '127.0.0.1', port: 7001 }, { ownKeys() { throw new Error('ownKeys'); } });
    for (const answer of [throwing, proxy]) {
      const got = outcome(() => answer);
      expect(got).toBeInstanceOf(ConnectError);
      expect((got as ConnectError).cause).toBeInstanceOf(Error);
    }
  });

  it('a table changed after the option check: the entry is checked when used, and only host and port are taken', () => {
    const table: Record<string, unknown> = { 'node-1.invalid:7000': { host: '127.0.0.1', port: 7001 } };
    checkAddressMap(table, 'cluster.addressMap');
    table['node-1.invalid:7000'] = { host: '127.0.0.1', port: '7001' };
    expect(outcome(table as AddressMap)).toBeInstanceOf(ConnectError);
    table['node-1.invalid:7000'] = { host: '127.0.0.1', port: 7001, path: '/tmp/elsewhere.sock' };
    expect(isCheckedOrConnectError(outcome(table as AddressMap))).toBe(true);
    table['node-1.invalid:7000'] = { host: '127.0.0.1', port: 7002 };
    expect(outcome(table as AddressMap)).toEqual({ host: '127.0.0.1', port: 7002 });
  });

  it('numbers as host, a port as a string, an array, null: ConnectError', () => {
    for (const answer of [{ host: 127, port: 7001 }, { host: '127.0.0.1', port: '7001' }, ['127.0.0.1', 7001], null, { host: '', port: 7001 }, { host: 'h', port: 70000 }]) {
      expect(outcome(() => answer as never)).toBeInstanceOf(ConnectError);
    }
  });
});

describe('IPv6 keys of an address table', () => {
  it('an unbracketed IPv6 host is refused at the check (it could never match), a bracketed one is found', () => {
    expect(() => checkAddressMap({ '::1:7000': { host: '127.0.0.1', port: 7001 } }, 'cluster.addressMap')).toThrow(InvalidArgumentError);
    expect(() => checkAddressMap({ 'fe80::2:7000': { host: '127.0.0.1', port: 7001 } }, 'cluster.addressMap')).toThrow(/brackets/);
    const table = { '[::1]:7000': { host: '127.0.0.1', port: 7001 } };
    checkAddressMap(table, 'cluster.addressMap');
    expect(mapAddress(table, '::1', 7000)).toEqual({ host: '127.0.0.1', port: 7001 });
    expect(mapAddress(table, '::1', 7002)).toEqual({ host: '::1', port: 7002 });
  });
});
