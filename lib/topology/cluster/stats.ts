/**
 * A cluster's stats: every node's counters added up, and each node's own
 * under \`nodes\` (by address; \`/ro\` for replica read connections).
 * \`timeouts\` also counts the deadlines that passed in the routing itself,
 * before a command reached any node (behind a slot fence), which no node's
 * count has; a command is counted by the routing or by a node, never both
 * (the routing's expiry fails it unsent). A call split by slot or fanned
 * out counts one timeout, at the node (or fence) where a part timed out
 * first (connection/call-timeouts.ts), so the nodes' counts add up.
 */
import type { MultiplexerStats } from '../../connection/multiplexer.js';
import type { TopologyStats } from '../standalone.js';

const SUMMED = ['commands', 'writes', 'bytesOut', 'bytesIn', 'pending', 'queued', 'queuedBytes', 'reconnects', 'timeouts', 'connectionLost', 'connectFailures', 'handovers'] as const;

export function sumStats(units: [address: string, stats: TopologyStats][], routingTimeouts = 0): TopologyStats {
  const all = units.map(([, s]) => s);
  const mux = Object.fromEntries(SUMMED.map((k) => [k, all.reduce((n, s) => n + s[k], 0)])) as unknown as MultiplexerStats;
  const pubsub = { connections: 0, channels: 0, patterns: 0, shardChannels: 0, reconnects: 0, connectionLost: 0, connectFailures: 0, timeouts: 0, handovers: 0 };
  for (const s of all) for (const k of Object.keys(pubsub) as (keyof typeof pubsub)[]) pubsub[k] += s.pubsub[k];
  const nodes = Object.fromEntries(units);
  mux.timeouts += routingTimeouts;
  return { ...mux, leased: all.reduce((n, s) => n + s.leased, 0), pubsub, nodes };
}
