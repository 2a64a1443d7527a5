/** `--backend webgpu` and `auto` say in one line why WebGPU is or is not used (no software adapter unless opted in). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findVulkanLoader } from '../../src/backend/webgpu.js';
import { initBackend } from '../../src/backend/select.js';
import { UserError } from '../../src/util/errors.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const tiny = ['--hidden', '16', '--layers', '1', '--heads', '2', '--intermediate', '32', '--seq', '8', '--batch', '2', '--vocab', '50', '--steps', '1', '--warmup', '0'];
const REASON = /webgpu unavailable: (package \S+ not installed|no Vulkan loader|no adapter|adapter rejected)/;

function cli(backend: string) {
  const env = { ...process.env };
  delete env.CONTRASTIVE_WEBGPU_SOFTWARE;
  return spawnSync(process.execPath, [main, 'bench', '--backend', backend, ...tiny], { encoding: 'utf8', env, timeout: 120_000 });
}

test('--backend webgpu runs on a GPU adapter, or exits 2 with a one-line reason', () => {
  const r = cli('webgpu');
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('contrastive:') || l.startsWith('backend:'));
  if (r.status === 0) {
    assert.match(lines[0], /^backend: webgpu — requested: WebGPU on /);
  } else {
    assert.equal(r.status, 2, r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /--backend webgpu: /);
    assert.match(lines[0], REASON);
    console.log(`# ${lines[0]}`);
  }
});

test('--backend auto names why it did not pick webgpu (or picks it on a GPU adapter)', () => {
  const r = cli('auto');
  assert.equal(r.status, 0, r.stderr);
  const line = r.stderr.split('\n').find((l) => l.startsWith('backend:')) ?? '';
  assert.ok(line.startsWith('backend: webgpu') || REASON.test(line), line);
});

test('findVulkanLoader looks on LD_LIBRARY_PATH first (how the GPU check points Dawn at a carried loader)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vk-'));
  try {
    writeFileSync(join(dir, 'libvulkan.so.1'), '');
    assert.equal(findVulkanLoader({ LD_LIBRARY_PATH: `/nonexistent:${dir}` }), join(dir, 'libvulkan.so.1'));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('webgpu is refused at once for callers that read synchronously (encode), and auto does not try it for them', async () => {
  await assert.rejects(initBackend('webgpu'), (e: unknown) => e instanceof UserError && /--backend webgpu: tfjs-backend-webgpu cannot read tensors synchronously/.test(e.message));
  const out = join(mkdtempSync(join(tmpdir(), 'wg-encode-')), 'emb.arrow');
  const model = fileURLToPath(new URL('../../../test/fixtures/lm-cocktail/models/a', import.meta.url));
  const input = fileURLToPath(new URL('../../../data/sample.jsonl', import.meta.url));
  const r = spawnSync(process.execPath, [main, 'encode', '--backend', 'webgpu', '--engine', 'tfjs', '--model', model, '--input', input, '--output', out], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^contrastive: --backend webgpu: tfjs-backend-webgpu cannot read tensors synchronously in Node.*use --backend native, cuda or wasm here\n$/);
  assert.ok(!existsSync(out), 'nothing written');
  rmSync(dirname(out), { recursive: true });
  const info = await initBackend('auto');
  assert.match(info.reason, /webgpu not tried \(this command reads tensors synchronously\)/);
});
