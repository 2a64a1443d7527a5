/**
 * scripts/gpu-check-prepare.sh copies a hand-picked set of packages into the GPU check's bundle (the GPU
 * machine has no network and no npm). Every package that scripts/gpu-check.js reaches through static
 * imports must be in that set, or the check dies at its first import on the GPU machine (it did once:
 * zod joined the model's config and the bundle lacked it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../../', import.meta.url)); // dist/
const repo = resolve(dist, '..');

/** Bare package names reached from `entry` through static `import ... from '...'` / `export ... from '...'`. */
function packagesReached(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  };
  visit(entry);
  return packages;
}

test('the GPU check bundle carries every package scripts/gpu-check.js imports', () => {
  const script = readFileSync(join(repo, 'scripts', 'gpu-check-prepare.sh'), 'utf8');
  const tfjs = script.match(/^for p in (tfjs [^;]+); do\n\s+src=node_modules\/@tensorflow/m)?.[1].split(/\s+/).map((p) => `@tensorflow/${p}`) ?? [];
  const plain = script.match(/^for p in ([^;]+); do cp -r "node_modules\/\$p"/m)?.[1].split(/\s+/) ?? [];
  const bundled = new Set([...tfjs, ...plain, 'webgpu']);
  assert.ok(tfjs.length > 0 && plain.length > 0, 'the package lists in gpu-check-prepare.sh were not found: update this test with the script');
  const reached = packagesReached(join(dist, 'scripts', 'gpu-check.js'));
  assert.ok(reached.has('@tensorflow/tfjs'), `import scan found ${[...reached].join(', ')}`);
  const missing = [...reached].filter((p) => !bundled.has(p));
  assert.deepEqual(missing, [], `gpu-check-prepare.sh does not bundle ${missing.join(', ')} (bundled: ${[...bundled].join(', ')})`);
});
