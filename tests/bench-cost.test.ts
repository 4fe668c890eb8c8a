// The bench's controller cost (host/bench/cost.ts) compares the module's step() under Node with
// its typical sample written in plain TypeScript (PlainLockin): that comparison is of the code
// only if the twin does the module's work. These tests hold it to the module's voltages, and the
// table path's timer to whole windows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Controller } from "../host/controller.ts";
import { COST_PATHS, PlainLockin, costConfig, measureCost } from "../host/bench/cost.ts";
import { SINES_MAX_WINDOW } from "../assembly/layout.ts";

for (const path of COST_PATHS) {
  test(`${path} path: the plain TypeScript twin writes the module's voltages, sample for sample, over three windows`, () => {
    for (const controls of [8, 64, 128]) {
      const controller = new Controller();
      const config = costConfig(controls, path);
      controller.configure(config);
      const twin = new PlainLockin(config, path, controller.toneBins());
      // configure() writes the tones one step on before any reading: the twin starts a step behind
      twin.step(0.1);
      let worst = 0;
      for (let i = 0; i < 3 * SINES_MAX_WINDOW; i++) {
        const reading = 0.1 + 0.01 * Math.sin(i * 0.37);
        controller.step(reading);
        twin.step(reading);
        const module = controller.electrodes();
        for (let k = 0; k < controls; k++) worst = Math.max(worst, Math.abs(module[k] - twin.electrodes[k]));
      }
      // one f32 step at 0.1 V is 7.5e-9: the twin computes in f64 and rounds once
      assert.ok(worst <= 7.5e-9, `${controls} controls: ${worst} V apart`);
    }
  });
}

// The timing loops run as copies compiled from their source (cost.ts: ownCopy), so they must
// use nothing from their module's scope: a free name would throw here.
test("both paths' timers run; on the table path they count whole windows, each ending at its last sample, and time no sample that raises an event", () => {
  for (const path of COST_PATHS) {
    const cost = measureCost(8, 3 * SINES_MAX_WINDOW, 1, path);
    if (path === "table") assert.equal(cost.windowSamples, SINES_MAX_WINDOW); // (the other path's is costConfig's own)
    assert.ok(cost.moduleNsPerControlSample > 0 && cost.typescriptNsPerControlSample > 0);
  }
});
