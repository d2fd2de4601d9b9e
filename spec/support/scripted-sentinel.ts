/**
 * A fake sentinel for deterministic Sentinel routing tests: it names whatever
 * master the test sets, answers the questions discovery asks (GET-MASTER-ADDR-
 * BY-NAME, SENTINELS, REPLICAS), confirms subscriptions, and announces a
 * switch (`+switch-master`) to its subscribers when told to: the timing a
 * real deployment only gives approximately.
 */
import type net from 'node:net';
import { encodeReply, scriptedServer, type ScriptedServer } from './scripted-server.js';

export interface ScriptedSentinel {
  readonly server: ScriptedServer;
  readonly port: number;
  /** The master it names (a port on 127.0.0.1); null: it does not know the name. */
  master: number | null;
  /** How many times it was asked for the master. */
  readonly asked: number;
  /** Name `to` as the master from now on and publish `+switch-master` to every subscriber. */
  switchTo(to: number): void;
  close(): Promise<void>;
}

const push = (items: string[]) => `>${items.length}\r\n${items.map((i) => (i.startsWith(':') ? `${i}\r\n` : encodeReply(i))).join('')}`;

export async function scriptedSentinel(name: string, master: number): Promise<ScriptedSentinel> {
  const subscribers = new Set<net.Socket>();
  let asked = 0;
  const state = { master: master as number | null };
  const server = await scriptedServer((args, socket) => {
    const cmd = args[0]!.toUpperCase();
    const sub = args[1]?.toUpperCase();
    if (cmd === 'SENTINEL' && sub === 'GET-MASTER-ADDR-BY-NAME') {
      asked++;
      return args[2] === name && state.master !== null ? encodeReply(['127.0.0.1', String(state.master)]) : '_\r\n';
    }
    if (cmd === 'SENTINEL' && (sub === 'SENTINELS' || sub === 'REPLICAS')) return '*0\r\n';
    if (cmd === 'SUBSCRIBE') {
      subscribers.add(socket);
      socket.once('close', () => subscribers.delete(socket));
      return args.slice(1).map((c, i) => push(['subscribe', c, `:${i + 1}`])).join('');
    }
    return undefined;
  });
  return {
    server,
    port: server.port,
    get master() {
      return state.master;
    },
    set master(p: number | null) {
      state.master = p;
    },
    get asked() {
      return asked;
    },
    switchTo(to) {
      const from = state.master;
      state.master = to;
      for (const s of subscribers) s.write(push(['message', '+switch-master', `${name} 127.0.0.1 ${from} 127.0.0.1 ${to}`]));
    },
    close: () => server.close(),
  };
}
