/**
 * `contrastive bench --suite`: our training step and ../shared/bench/torch_reference.py (PyTorch
 * eager, the yardstick) with the same flags, back to back, each in a fresh process (so peak RSS is
 * the step's own), at each thread count, on the issue's three shapes; plus the native sgemm's
 * GFLOP/s against a measured FMA peak on each SIMD path.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadNativeAddon, type SimdPath } from '../backend/native-addon.js';

export interface SuiteShape {
  name: string;
  flags: Record<string, number>;
}

/** The shapes of issue 8: tiny, SciRus-tiny (no GradCache), SciRus-tiny at 1024 tokens. */
export const SUITE_SHAPES: SuiteShape[] = [
  { name: 'tiny', flags: { hidden: 128, layers: 2, heads: 4, intermediate: 512, seq: 64, batch: 32, vocab: 8000 } },
  { name: 'scirus-tiny', flags: { hidden: 312, layers: 3, heads: 12, intermediate: 600, seq: 128, batch: 32, vocab: 30000 } },
  { name: 'scirus-tiny-1024', flags: { hidden: 312, layers: 3, heads: 12, intermediate: 600, seq: 1024, batch: 8, vocab: 30000 } },
];

export interface SuiteRow {
  shape: string;
  threads: number;
  impl: string;
  seconds_per_step: number | null;
  pairs_per_s: number | null;
  peak_rss_mb: number | null;
  /** PyTorch's s/step over ours (> 1: we are faster); on our rows, against the first PyTorch measured. */
  ratio?: number | null;
  error?: string;
}

export interface SuiteOptions {
  backend: string;
  threads: number[];
  pythons: string[];
  torchScript: string;
  steps: number;
  warmup: number;
  shapes?: string[];
  log?: (line: string) => void;
}

function flagArgs(flags: Record<string, number>): string[] {
  return Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)]);
}

function lastJson(stdout: string): Record<string, unknown> | null {
  const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  try {
    return line == null ? null : (JSON.parse(line) as Record<string, unknown>);
  } catch {
    return null;
  }
}

function runOurs(o: SuiteOptions, shape: SuiteShape, threads: number): SuiteRow {
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const args = [main, 'bench', '--backend', o.backend, '--threads', String(threads), '--steps', String(o.steps), '--warmup', String(o.warmup), ...flagArgs(shape.flags)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const j = lastJson(r.stdout ?? '');
  const backendLine = (r.stderr ?? '').split('\n').find((l) => l.startsWith('backend:')) ?? '';
  const backend = /^backend: (\S+)/.exec(backendLine)?.[1] ?? o.backend;
  if (r.status !== 0 || j == null) {
    return { shape: shape.name, threads, impl: `contrastive (${backend})`, seconds_per_step: null, pairs_per_s: null, peak_rss_mb: null, error: (r.stderr ?? '').trim().split('\n').pop() };
  }
  return { shape: shape.name, threads, impl: `contrastive (${j.backend as string})`, seconds_per_step: j.seconds_per_step as number, pairs_per_s: j.pairs_per_s as number, peak_rss_mb: j.peak_rss_mb as number };
}

/** Runs torch_reference.py under `python` and reports its peak RSS (ru_maxrss) too, without editing the script. */
function runTorch(o: SuiteOptions, python: string, shape: SuiteShape, threads: number): SuiteRow {
  const wrapper = [
    'import json, resource, runpy, sys',
    'sys.argv = sys.argv[1:]',
    'runpy.run_path(sys.argv[0], run_name="__main__")',
    'print(json.dumps({"peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))',
  ].join('\n');
  const args = ['-c', wrapper, o.torchScript, '--threads', String(threads), '--steps', String(o.steps), '--warmup', String(o.warmup), ...flagArgs(shape.flags)];
  const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const lines = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{'));
  const res = lines.length >= 2 ? (JSON.parse(lines[lines.length - 2]) as Record<string, unknown>) : null;
  const rss = lines.length >= 1 ? (JSON.parse(lines[lines.length - 1]) as { peak_rss_kb?: number }).peak_rss_kb : undefined;
  if (r.status !== 0 || res == null) {
    return { shape: shape.name, threads, impl: `pytorch (${python})`, seconds_per_step: null, pairs_per_s: null, peak_rss_mb: null, error: (r.stderr ?? r.error?.message ?? '').trim().split('\n').pop() };
  }
  return {
    shape: shape.name, threads, impl: `pytorch ${res.torch as string} (${python})`,
    seconds_per_step: res.seconds_per_step as number, pairs_per_s: res.pairs_per_s as number, peak_rss_mb: rss == null ? null : Math.round(rss / 1024),
  };
}

/** Which of `pythons` can import torch, and why the others cannot. */
export function usablePythons(pythons: string[]): { ok: string[]; skipped: string[] } {
  const ok: string[] = [];
  const skipped: string[] = [];
  for (const py of pythons) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) ok.push(py);
    else skipped.push(`${py}: ${r.error?.message ?? (r.stderr ?? '').trim().split('\n').pop()}`);
  }
  return { ok, skipped };
}

export function runSuite(o: SuiteOptions): { rows: SuiteRow[]; skipped: string[] } {
  const log = o.log ?? (() => {});
  const { ok, skipped } = existsSync(o.torchScript) ? usablePythons(o.pythons) : { ok: [], skipped: [`${o.torchScript} not found`] };
  const rows: SuiteRow[] = [];
  for (const shape of SUITE_SHAPES.filter((s) => o.shapes == null || o.shapes.includes(s.name))) {
    for (const threads of o.threads) {
      // PyTorch first, then ours, back to back: the same machine state for the pair.
      const torchRows = ok.map((py) => {
        log(`${shape.name}, ${threads} thread(s): PyTorch (${py})...`);
        return runTorch(o, py, shape, threads);
      });
      log(`${shape.name}, ${threads} thread(s): contrastive (--backend ${o.backend})...`);
      const ours = runOurs(o, shape, threads);
      for (const t of torchRows) {
        t.ratio = t.seconds_per_step != null && ours.seconds_per_step != null ? Number((t.seconds_per_step / ours.seconds_per_step).toFixed(3)) : null;
      }
      ours.ratio = torchRows[0]?.ratio ?? null;
      rows.push(...torchRows, ours);
    }
  }
  return { rows, skipped };
}

export interface GemmFigure {
  path: SimdPath;
  fma_peak_gflops: number;
  shape: string;
  gflops: number;
  percent_of_peak: number;
}

/** One thread: the sgemm on the SciRus-tiny FFN shapes against a simple FMA loop, per SIMD path, interleaved. */
export function gemmFigures(): GemmFigure[] {
  const addon = loadNativeAddon().addon;
  if (addon == null) return [];
  const info = addon.info();
  const paths: SimdPath[] = [...(info.avx512 ? ['avx512' as const] : []), ...(info.avx2fma ? ['avx2' as const] : [])];
  const threads = info.threads;
  addon.setThreads(1);
  const out: GemmFigure[] = [];
  const shapes: Array<[number, number, number, boolean, boolean]> = [[4096, 312, 600, false, false], [4096, 600, 312, false, true], [312, 4096, 600, true, false]];
  try {
    for (const path of paths) {
      addon.setPath(path);
      for (const [M, K, N, ta, tb] of shapes) {
        const a = new Float32Array(M * K).fill(0.5);
        const b = new Float32Array(K * N).fill(0.25);
        const c = new Float32Array(M * N);
        const one = new Int32Array([0]);
        // Best of several short windows for both, interleaved: on a loaded machine the best window
        // is the one closest to having the core to itself.
        addon.matmul(a, b, c, one, one, M, K, N, ta, tb, null, 0, 0);
        let best = Infinity;
        let peak2 = 0;
        for (let i = 0; i < 8; i++) {
          peak2 = Math.max(peak2, addon.fmaPeak(path, 0.02));
          const t0 = performance.now();
          addon.matmul(a, b, c, one, one, M, K, N, ta, tb, null, 0, 0);
          best = Math.min(best, (performance.now() - t0) / 1000);
        }
        const gflops = (2 * M * K * N) / best / 1e9;
        out.push({ path, fma_peak_gflops: Number(peak2.toFixed(1)), shape: `${M}x${K}x${N}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`, gflops: Number(gflops.toFixed(1)), percent_of_peak: Math.round((100 * gflops) / peak2) });
      }
    }
  } finally {
    addon.setPath('auto');
    addon.setThreads(threads);
  }
  return out;
}

export function formatSuite(rows: SuiteRow[], gemm: GemmFigure[]): string {
  const lines = ['| shape | threads | implementation | s/step | pairs/s | PyTorch s/step ÷ ours | peak RSS MB |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| ${r.shape} | ${r.threads} | ${r.impl} | ${r.seconds_per_step ?? `failed: ${r.error ?? ''}`} | ${r.pairs_per_s ?? ''} | ${r.ratio != null ? `${r.ratio}x` : ''} | ${r.peak_rss_mb ?? ''} |`);
  }
  if (gemm.length > 0) {
    lines.push('', '| path | sgemm shape (1 thread) | GFLOP/s | FMA peak GFLOP/s | % of peak |', '| --- | --- | --- | --- | --- |');
    for (const g of gemm) lines.push(`| ${g.path} | ${g.shape} | ${g.gflops} | ${g.fma_peak_gflops} | ${g.percent_of_peak} % |`);
  }
  return lines.join('\n');
}
