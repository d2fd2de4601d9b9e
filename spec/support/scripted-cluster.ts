/**
 * A scripted server that is a one-node "cluster": CLUSTER SLOTS names it as
 * the master of every slot (CLUSTER SHARDS is unknown, as on Redis 6, so the
 * client asks SLOTS), and `answer` says what else it answers differently
 * from the mock (undefined: the mock's answer). For what a real cluster
 * cannot be made to do: redirect for ever, refuse on a schedule.
 */
import { scriptedServer, type Responder, type ScriptedServer } from './scripted-server.js';

export async function oneNodeCluster(answer: (args: string[], port: number) => ReturnType<Responder>): Promise<ScriptedServer> {
  let port = 0;
  const srv = await scriptedServer((args) => {
    const name = args[0]!.toUpperCase();
    if (name === 'CLUSTER' && args[1]?.toUpperCase() === 'SHARDS') return "-ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.\r\n";
    if (name === 'CLUSTER' && args[1]?.toUpperCase() === 'SLOTS') {
      return `*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:${port}\r\n$40\r\n${'a'.repeat(40)}\r\n`;
    }
    return answer(args, port);
  });
  port = srv.port;
  return srv;
}
