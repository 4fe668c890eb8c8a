// Assembles host/devices/dopant-kernel.wat with binaryen (a devDependency, not needed at run
// time), inlines its helper functions, and writes the bytes, base64, into
// host/devices/dopant-kernel.ts. Run after editing
// the .wat:   npx tsx scripts/dopant-kernel.ts
// tests/devices.test.ts fails if the embedded bytes and the .wat disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import binaryen from 'binaryen';

const WAT = new URL('../host/devices/dopant-kernel.wat', import.meta.url);
const TS = new URL('../host/devices/dopant-kernel.ts', import.meta.url);
const GENERATED = /(export const DOPANT_KERNEL_BASE64 =\n  ')[A-Za-z0-9+/=]*(';)/;

/** The .wat assembled, helpers inlined, base64. */
export function assembleDopantKernel(): string {
  const module = binaryen.parseText(readFileSync(WAT, 'utf8'));
  module.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128);
  if (!module.validate()) throw new Error('dopant-kernel.wat does not validate');
  // Inline the small helpers ($lanes, $finishRow): V8 does not, and the calls from inside the
  // factorisation loops cost more than the arithmetic (the kernel runs ≈ 2× faster inlined).
  // Inlining moves code only; every floating-point operation stays as written.
  binaryen.setAlwaysInlineMaxSize(200);
  module.runPasses(['inlining']);
  if (!module.validate()) throw new Error('dopant-kernel.wat does not validate after inlining');
  const bytes = module.emitBinary();
  module.dispose();
  return Buffer.from(bytes).toString('base64');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const source = readFileSync(TS, 'utf8');
  if (!GENERATED.test(source)) throw new Error('DOPANT_KERNEL_BASE64 not found in dopant-kernel.ts');
  const base64 = assembleDopantKernel();
  writeFileSync(TS, source.replace(GENERATED, `$1${base64}$2`));
  console.log(`dopant-kernel.ts: ${Buffer.from(base64, 'base64').length} bytes`);
}
