/**
 * A short real run for the report's page tests: a session through mongos, a cursor, a refresh, a
 * lost message, a crash and a restart.
 */
import { Cluster, type TraceEvent } from "sessionsim";

export async function sampleRun(): Promise<readonly TraceEvent[]> {
  const cluster = await Cluster.start({ seed: 3 });
  const app = cluster.connect(cluster.mongos());
  cluster.note("a client starts a session on mongos0 and reads with it");
  const started = await app.runCommand("admin", { startSession: 1 });
  const lsid = { id: (started.id as { id: unknown }).id };
  await app.runCommand("test", { insert: "c", documents: [{ _id: 1 }, { _id: 2 }, { _id: 3 }], lsid });
  await app.runCommand("test", { find: "c", batchSize: 1, lsid });
  cluster.note("six minutes pass: every node refreshes its session cache");
  await cluster.advance(6 * 60_000);
  cluster.note("a partition cuts the client off: its ping is lost");
  cluster.partition([app.clientName], [cluster.mongos()]);
  const lost = app.send("admin", { ping: 1 });
  await cluster.advance(1_000);
  cluster.heal();
  cluster.crash(cluster.shard(1));
  await cluster.advance(500);
  await cluster.restart(cluster.shard(1));
  await cluster.advance(500);
  void lost;
  const trace = cluster.trace();
  await cluster.stop();
  return trace;
}
