/**
 * What sentinels answer, read without IO: the master's address
 * (`SENTINEL GET-MASTER-ADDR-BY-NAME`), the instances a sentinel knows
 * (`SENTINEL REPLICAS` / `SENTINEL SENTINELS`: RESP3 maps or RESP2 flat
 * `[field, value, ...]` arrays), which replicas are fit to read from, and
 * which one to pick.
 */
import { isIP } from 'node:net';
import { ProtocolError } from '../../errors.js';
import type { Reply } from '../../resp/types.js';

export interface Address {
  host: string;
  port: number;
}

/** One instance as a sentinel describes it: field -> value, every value a string. */
export type Instance = Record<string, string>;

function str(v: Reply | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

/** A TCP port as a sentinel writes it (a string in both protocols), or undefined. */
function port(v: Reply | undefined): number | undefined {
  const s = str(v);
  if (s === undefined || !/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * `SENTINEL GET-MASTER-ADDR-BY-NAME`: `[ip, port]`, or null when the sentinel
 * monitors no master by that name. Anything else is not a sentinel's answer.
 */
export function parseMasterAddress(reply: Reply): Address | null {
  if (reply === null) return null;
  if (Array.isArray(reply) && reply.length === 2) {
    const host = str(reply[0]);
    const p = port(reply[1]);
    if (host && p !== undefined) return { host, port: p };
  }
  throw new ProtocolError('the answer to SENTINEL GET-MASTER-ADDR-BY-NAME is not an address');
}

/** `SENTINEL REPLICAS` / `SENTINEL SENTINELS`: a list of RESP3 maps (objects or `Map`s) or RESP2 flat arrays. */
export function parseInstances(reply: Reply): Instance[] {
  if (!Array.isArray(reply)) throw new ProtocolError('the answer to SENTINEL REPLICAS/SENTINELS is not a list');
  const out: Instance[] = [];
  for (const item of reply) {
    const rec: Instance = Object.create(null);
    if (Array.isArray(item)) {
      for (let i = 0; i + 1 < item.length; i += 2) {
        const k = str(item[i]);
        const v = str(item[i + 1]);
        if (k !== undefined && v !== undefined) rec[k] = v;
      }
    } else if (item instanceof Map) {
      for (const [k, v] of item) {
        const key = str(k as Reply);
        const value = str(v as Reply);
        if (key !== undefined && value !== undefined) rec[key] = value;
      }
    } else if (item !== null && typeof item === 'object' && !Buffer.isBuffer(item)) {
      for (const [k, v] of Object.entries(item as Record<string, Reply>)) {
        const value = str(v);
        if (value !== undefined) rec[k] = value;
      }
    } else {
      throw new ProtocolError('an entry of SENTINEL REPLICAS/SENTINELS is neither a map nor a list of fields');
    }
    out.push(rec);
  }
  return out;
}

/** The instance's address, when it has a usable one. */
export function instanceAddress(i: Instance): Address | undefined {
  const p = port(i.port);
  return i.ip && p !== undefined ? { host: i.ip, port: p } : undefined;
}

/** Flags a sentinel sets on an instance it cannot rely on. */
const UNHEALTHY_FLAGS = new Set(['s_down', 'o_down', 'disconnected']);

export function looksDown(i: Instance): boolean {
  return (i.flags ?? '').split(',').some((f) => UNHEALTHY_FLAGS.has(f));
}

export interface ReplicaCandidate extends Address {
  /** `slave-repl-offset` as the sentinel last sampled it (its INFO period: 10 s by default). */
  offset: number;
}

/**
 * Whether a replica's `master-host` names `master`. A replica reports the
 * address it was told to replicate from, which is an IP (sentinels send
 * `REPLICAOF <resolved ip>`), while sentinels with `announce-hostnames`
 * name the master by its hostname: an IP and a name cannot be compared
 * without resolving the name (which the client may not be able to: NAT),
 * so they pass, and the port alone tells the master.
 */
function sameHost(reported: string | undefined, master: string): boolean {
  return reported === master || reported === undefined || (isIP(reported) !== 0) !== (isIP(master) !== 0);
}

/**
 * Replicas fit to read from: up as far as this sentinel can tell (no
 * `s_down`, `o_down`, `disconnected`), reporting the replica role, with a
 * working link to the master (`master-link-status` ok, `master-link-down-time`
 * 0), and replicating from `master` when it is known (a replica still linked
 * to a demoted master serves a past the others have left).
 */
export function healthyReplicas(entries: readonly Instance[], master?: Address): ReplicaCandidate[] {
  const out: ReplicaCandidate[] = [];
  for (const e of entries) {
    const addr = instanceAddress(e);
    if (!addr || looksDown(e)) continue;
    if (e['role-reported'] !== undefined && e['role-reported'] !== 'slave') continue;
    if (e['master-link-status'] !== 'ok') continue;
    if (e['master-link-down-time'] !== undefined && e['master-link-down-time'] !== '0') continue;
    if (master && e['master-port'] !== undefined && (port(e['master-port']) !== master.port || !sameHost(e['master-host'], master.host))) continue;
    const offset = Number(e['slave-repl-offset']);
    out.push({ ...addr, offset: Number.isFinite(offset) && offset >= 0 ? offset : 0 });
  }
  return out;
}

/**
 * Pick a replica: among those whose offset is within `lagBucket` bytes of the
 * most advanced one (the best lag bucket), one at random, so that clients
 * spread over equally fresh replicas instead of all choosing the first.
 * `undefined` when there is none.
 *
 * Offsets are the sentinel's samples, taken at different moments (every
 * INFO period), so they only tell a replica far behind from the others:
 * the bucket is coarse on purpose.
 */
export function pickReplica(candidates: readonly ReplicaCandidate[], lagBucket: number, random: () => number = Math.random): ReplicaCandidate | undefined {
  if (candidates.length === 0) return undefined;
  let best = 0;
  for (const c of candidates) if (c.offset > best) best = c.offset;
  const fresh = candidates.filter((c) => best - c.offset <= lagBucket);
  const i = Math.min(fresh.length - 1, Math.floor(random() * fresh.length));
  return fresh[i];
}
