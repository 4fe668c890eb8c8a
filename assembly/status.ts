// The status block the host reads (layout in layout.ts: Status): counters, the loss, the lag
// in use, error details, and the learned scalars a checkpoint carries.
import { STATUS_WORDS } from "./layout";

export const STATUS = memory.data(STATUS_WORDS << 2);

@inline export function statusI32(word: i32): i32 { return load<i32>(STATUS + (<usize>word << 2)); }
@inline export function statusF32(word: i32): f32 { return load<f32>(STATUS + (<usize>word << 2)); }
@inline export function setStatusI32(word: i32, value: i32): void { store<i32>(STATUS + (<usize>word << 2), value); }
@inline export function setStatusF32(word: i32, value: f32): void { store<f32>(STATUS + (<usize>word << 2), value); }
@inline export function bump(word: i32): void { setStatusI32(word, statusI32(word) + 1); }
