// Compile-time feature selection, CMSIS-style "link what you use": the same sources build the
// full lab module (build/hge.wasm) and a tones-only core for small flash (build/hge-core.wasm,
// scripts/build.mjs: asc --use HGE_CORE=1). Code behind `if (FULL)` is removed from the core
// by dead-code elimination; configure() refuses there what the core leaves out (config.ts).

import { MAX_WINDOW_SAMPLES, SINES_MAX_WINDOW } from "./layout";

// @ts-ignore: HGE_CORE exists only when the build defines it
export const FULL: bool = !isDefined(HGE_CORE);
/** The typical-sample shortcut (trainer.ts: typicalSample), on unless a build defines
 *  HGE_NO_SHORTCUT: without it every sample takes the general path, with the same results, in
 *  fewer bytes and about twice the time (scripts/build.mjs --core-report measures both). */
// @ts-ignore: HGE_NO_SHORTCUT exists only when the build defines it
export const SHORTCUT: bool = !isDefined(HGE_NO_SHORTCUT);
/** The longest window this build takes: the core's windows have their own sine table. */
export const LONGEST_WINDOW: i32 = FULL ? MAX_WINDOW_SAMPLES : SINES_MAX_WINDOW;
