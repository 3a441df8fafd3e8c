import type { Scenario } from "./scenario.js";

/**
 * The default simulation (`pnpm demo`): a 2-shard cluster with one mongos; a client talks to
 * mongos, an operation stays in progress on a shard, a partition cuts a shard off, a shard crashes
 * and restarts — every message, timer and fault on one timeline.
 */
export const demoScenario: Scenario = {
  name: "demo",
  title: "A tour of the simulated cluster",
  teaches:
    "Every node is a separate process: clients and nodes exchange messages with latency; faults (partitions, crashes) change what reaches whom.",
  source: "https://www.mongodb.com/docs/manual/core/sharded-cluster-components/",
  async run(cluster) {
    const app = cluster.connect(cluster.mongos());
    const direct = cluster.connect(cluster.shard(0));

    cluster.note("a client says hello to mongos0: it answers as a router (msg: isdbgrid)");
    const hello = await app.runCommand("admin", { hello: 1 });
    cluster.note(
      `hello → msg: ${String(hello.msg)}, logicalSessionTimeoutMinutes: ${String(hello.logicalSessionTimeoutMinutes)}`,
    );

    cluster.note("an operation stays in progress on shard0 for 2 s (the sleep test command)");
    const sleeping = direct.send("admin", { sleep: 1, millis: 2000, lock: "none" });
    await cluster.advance(500);
    cluster.note(`after 0.5 s the sleep is ${sleeping.done ? "done" : "still in progress"}`);
    await cluster.wait(sleeping);
    cluster.note("the sleep finished after 2 s of virtual time");

    cluster.note("a partition cuts the client off from shard1: its ping is lost and times out");
    const toShard1 = cluster.connect(cluster.shard(1));
    cluster.partition([toShard1.clientName], [cluster.shard(1)]);
    const lost = toShard1.send("admin", { ping: 1 });
    await cluster.advance(5_000);
    cluster.note(`5 s later the ping has ${lost.done ? "an answer" : "no answer"}`);
    cluster.heal();

    cluster.note("shard0 crashes and restarts: in-memory state is lost, stored data is kept");
    cluster.crash(cluster.shard(0));
    await direct.runCommand("admin", { ping: 1 }).catch((e: Error) => cluster.note(`ping while down: ${e.message}`));
    await cluster.restart(cluster.shard(0));
    const ping = await direct.runCommand("admin", { ping: 1 });
    cluster.note(`ping after restart → ok: ${String(ping.ok)}`);
  },
};
