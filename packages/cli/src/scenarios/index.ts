import { authOwnershipScenario } from "./auth-ownership.js";
import { coordinatorFailoverScenario } from "./coordinator-failover.js";
import { crashBeforeRefreshScenario } from "./crash-before-refresh.js";
import { demoScenario } from "./demo.js";
import { endIsNotKillScenario } from "./end-is-not-kill.js";
import { killVsPrepareScenario } from "./kill-vs-prepare.js";
import { partitionDuringRefreshScenario } from "./partition-during-refresh.js";
import { researchLoadScenario } from "./research-load.js";
import { sessionSyncScenario } from "./session-sync.js";
import { ttlExpiryScenario } from "./ttl-expiry.js";
import type { Scenario } from "./scenario.js";

/** Every scenario `sessionsim run` knows, by name. */
export const SCENARIOS: readonly Scenario[] = [
  demoScenario,
  sessionSyncScenario,
  endIsNotKillScenario,
  killVsPrepareScenario,
  crashBeforeRefreshScenario,
  ttlExpiryScenario,
  partitionDuringRefreshScenario,
  coordinatorFailoverScenario,
  authOwnershipScenario,
  researchLoadScenario,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

export type { Scenario, ScenarioRequirements } from "./scenario.js";
