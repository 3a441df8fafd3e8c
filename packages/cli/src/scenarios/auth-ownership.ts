import type { Document } from "sessionsim";
import type { Scenario } from "./scenario.js";
import { firstBatch, idOf, startSession } from "./helpers.js";

const pipelineFor = (spec: Document) => ({ aggregate: 1, pipeline: [{ $listLocalSessions: spec }], cursor: {} });

/** `auth-ownership`: sessions belong to their user; who may list and kill whose sessions. */
export const authOwnershipScenario: Scenario = {
  name: "auth-ownership",
  title: "With access control, a session belongs to the user who created it",
  teaches:
    "A session's identity is (id, uid) where uid is the SHA-256 of \"user@db\": the same id used by another user is another session. Listing other users' sessions needs the listSessions privilege; killing them needs killAnySession.",
  source:
    "https://www.mongodb.com/docs/manual/reference/server-sessions/ ; src/mongo/db/session/logical_session_id_helpers.cpp",
  requires: { auth: true },
  cluster: {
    auth: true,
    users: [
      { user: "alice", db: "test", roles: [{ role: "readWrite", db: "test" }] },
      { user: "bob", db: "test", roles: [{ role: "readWrite", db: "test" }] },
      {
        user: "ops",
        db: "admin",
        roles: [
          { role: "clusterMonitor", db: "admin" },
          { role: "hostManager", db: "admin" },
        ],
      },
    ],
  },
  async run(cluster) {
    const node = cluster.mongos();
    const alice = cluster.connect(node, { user: "alice", db: "test" });
    const bob = cluster.connect(node, { user: "bob", db: "test" });
    const ops = cluster.connect(node, { user: "ops", db: "admin" });
    const anonymous = cluster.connect(node);

    const refused = await anonymous.runCommand("admin", { startSession: 1 });
    cluster.note(`an unauthenticated client cannot start a session: ${String(refused.codeName)}`);
    const lsid = await startSession(alice);
    cluster.note("alice starts a session; bob sends a command naming the same session id");
    await bob.runCommand("admin", { refreshSessions: [lsid] });
    const all = firstBatch(await ops.runCommand("admin", pipelineFor({ allUsers: true })));
    cluster.note(
      `ops (clusterMonitor) lists all sessions on mongos0: ${all.length} sessions with id ${idOf(lsid).slice(0, 8)}…, owned by ${all.map((d) => String(d.user)).join(" and ")}`,
    );
    const bobsOwn = firstBatch(await bob.runCommand("admin", pipelineFor({})));
    cluster.note(`bob lists his own sessions: ${bobsOwn.length} (only his)`);
    const bobAll = await bob.runCommand("admin", pipelineFor({ allUsers: true }));
    cluster.note(`bob asks for all users' sessions → ${String(bobAll.codeName)}`);
    const spoof = await bob.runCommand("admin", { killAllSessions: [{ user: "alice", db: "test" }] });
    cluster.note(`bob tries killAllSessions for alice → ${String(spoof.codeName)} (needs killAnySession)`);
    const kill = await ops.runCommand("admin", { killAllSessions: [{ user: "alice", db: "test" }] });
    cluster.note(`ops (hostManager has killAnySession) kills alice's sessions → ok: ${String(kill.ok)}`);
  },
};
