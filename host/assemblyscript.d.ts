// assembly/layout.ts is compiled by both asc and tsc; its one function is typed with
// AssemblyScript's i32, which to TypeScript is a number.
declare type i32 = number;
