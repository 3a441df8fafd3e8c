import { demoScenario } from "./demo.js";
import type { Scenario } from "./scenario.js";

/** Every scenario `sessionsim run` knows, by name. */
export const SCENARIOS: readonly Scenario[] = [demoScenario];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

export type { Scenario } from "./scenario.js";
