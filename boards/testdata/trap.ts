// A stand-in module that traps: step(x) reads linear memory at address x + OFFSET, the offset
// in the load instruction (as the controller's folded buffer addresses are: scripts/
// fold-offsets.mjs). Used to prove a trap on the board (an out-of-bounds access, the sum's
// carry included) parks the outputs, reports and exits, where Node throws "memory access out
// of bounds".
export const CHANNELS: i32 = 1;
const outBuf = memory.data(4);
export const OUT: i32 = <i32>outBuf;

export function reset(): i32 {
  return CHANNELS;
}

export const OFFSET = 2048;

export function step(address: f32): i32 {
  store<f32>(outBuf, load<f32>(<usize>(<u32>address), OFFSET));
  return 0;
}
