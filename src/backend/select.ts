/**
 * `--backend auto|cuda|webgpu|native|tensorflow|wasm|cpu`: picks and initialises the TensorFlow.js
 * backend and says why.
 *
 * auto: tfjs-node-gpu when it is installed and CUDA can work (an NVIDIA device plus the CUDA 11 /
 * cuDNN 8 user-space libraries that TensorFlow 2.9 loads; with only CUDA 12/13 it silently runs on
 * the CPU, which is checked after loading too), else webgpu when a GPU adapter exists (Dawn on
 * Vulkan, webgpu.ts), else native (our C++ kernels on the cpu backend, when the addon was built at install),
 * else tfjs-node, else wasm (XNNPACK, single-threaded in Node) with the kernel fixes. native comes
 * before tfjs-node because it was measured faster than PyTorch eager here, while tfjs-node could not
 * be installed (nor measured) on the offline machines this was written on.
 * tfjs-node(-gpu) are optionalDependencies whose install downloads libtensorflow; offline npm drops
 * them, so they are imported dynamically and their absence is a reason, not an error.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors.js';
import { NATIVE, registerNativeBackend } from './native-backend.js';
import { resolveThreads } from './native-threads.js';
import { loadNativeAddon } from './native-addon.js';
import { WEBGPU, prepareWebgpu } from './webgpu.js';

export type BackendRequest = 'auto' | 'cuda' | 'webgpu' | 'native' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'cuda', 'webgpu', 'native', 'tensorflow', 'wasm', 'cpu'];

export interface BackendOptions {
  /** Threads for the native kernels (0 or absent: CONTRASTIVE_THREADS, else the physical cores). */
  threads?: number;
  /**
   * The caller reads tensors only asynchronously (data(), trainStepAsync), as webgpu requires in Node
   * (tfjs-backend-webgpu has no synchronous read there). Default false: `auto` then skips webgpu and
   * an explicit `webgpu` request is refused at once instead of failing at the first dataSync().
   */
  asyncReads?: boolean;
}

/** Why webgpu does not suit a caller that reads synchronously. */
export const WEBGPU_SYNC_READS = 'tfjs-backend-webgpu cannot read tensors synchronously in Node, and this command does; webgpu runs `contrastive train`, `eval` and `bench` (and the library\'s trainStepAsync)';

export interface BackendInfo {
  requested: BackendRequest;
  name: 'tensorflow' | 'webgpu' | 'native' | 'wasm' | 'cpu';
  /** gpu: a WebGPU hardware adapter (a software one reports cpu). */
  device: 'cuda' | 'gpu' | 'cpu';
  reason: string;
}

export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
export const TFJS_NODE = '@tensorflow/tfjs-node';

/** The user-space libraries libtensorflow 2.9 (tfjs-node-gpu 4.22) dlopens for the GPU. */
export const CUDA_LIBS = ['libcudart.so.11.0', 'libcudnn.so.8'] as const;

export const INSTALL_HINT_GPU =
  `npm install ${TFJS_NODE_GPU} (needs network access at install time, an NVIDIA GPU, and CUDA 11.x + cuDNN 8 libraries on the loader path)`;
export const INSTALL_HINT_CPU = `npm install ${TFJS_NODE} (needs network access at install time: it downloads libtensorflow)`;

/** What the machine offers for tfjs-node-gpu, found without loading TensorFlow. */
export interface CudaFacts {
  /** How an NVIDIA GPU was seen (`/dev/nvidia0` or the nvidia-smi path), or null. */
  gpu: string | null;
  /** For each of CUDA_LIBS: where it was found, or null. */
  libs: Record<string, string | null>;
}

/** Why CUDA cannot work with these facts, or null when it can. */
export function cudaProblem(f: CudaFacts): string | null {
  const problems: string[] = [];
  if (f.gpu == null) problems.push('no NVIDIA GPU (no /dev/nvidia0, no nvidia-smi on PATH)');
  const missing = Object.entries(f.libs).filter(([, where]) => where == null).map(([lib]) => lib);
  if (missing.length > 0) {
    problems.push(
      `${missing.join(' and ')} not found on LD_LIBRARY_PATH or in the ldconfig cache ` +
        '(TensorFlow 2.9 needs CUDA 11.x + cuDNN 8; with only CUDA 12/13 it silently runs on the CPU)',
    );
  }
  return problems.length > 0 ? problems.join('; ') : null;
}

function ldconfigCache(): string {
  for (const cmd of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      return execFileSync(cmd, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    } catch {
      // try the next location
    }
  }
  return '';
}

function findOnPath(file: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, file))) return join(dir, file);
  }
  return null;
}

/** Looks for the GPU device and CUDA_LIBS the way the dynamic loader would. */
export function probeCuda(env: NodeJS.ProcessEnv = process.env): CudaFacts {
  const gpu = existsSync('/dev/nvidia0') ? '/dev/nvidia0' : findOnPath('nvidia-smi', env.PATH);
  let cache: string | undefined;
  const libs: Record<string, string | null> = {};
  for (const lib of CUDA_LIBS) {
    let where = findOnPath(lib, env.LD_LIBRARY_PATH);
    if (where == null) {
      cache ??= ldconfigCache();
      const line = cache.split('\n').find((l) => l.trim().startsWith(`${lib} `));
      if (line != null) where = line.split('=>').pop()?.trim() ?? 'ldconfig cache';
    }
    libs[lib] = where;
  }
  return { gpu, libs };
}

const requireHere = createRequire(import.meta.url);

/** True when the package resolves from here (without loading it). */
export function isInstalled(pkg: string): boolean {
  try {
    requireHere.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Loads tfjs-node(-gpu) dynamically; returns an error message instead of throwing. */
async function loadTensorflow(pkg: string): Promise<string | null> {
  const specifier: string = pkg; // a variable, so tsc does not look for the package's types
  try {
    await import(specifier);
  } catch (e) {
    return `${pkg} failed to load: ${(e as Error).message.split('\n')[0]}`;
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    return `${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs`;
  }
  return null;
}

/** The webgpu backend on a GPU adapter (a software one only with CONTRASTIVE_WEBGPU_SOFTWARE=1), or why not. */
async function tryWebgpu(): Promise<{ ok: boolean; why: string; device: 'gpu' | 'cpu' }> {
  const prepared = await prepareWebgpu();
  if (!prepared.ok) return { ok: false, why: prepared.why, device: 'cpu' };
  try {
    const ok = await tf.setBackend(WEBGPU);
    await tf.ready();
    if (!ok || tf.getBackend() !== WEBGPU) return { ok: false, why: `tf.setBackend('${WEBGPU}') failed`, device: 'cpu' };
  } catch (e) {
    return { ok: false, why: `webgpu backend failed to initialise: ${(e as Error).message.split('\n')[0]}`, device: 'cpu' };
  }
  return { ok: true, why: prepared.why, device: prepared.facts.software ? 'cpu' : 'gpu' };
}

/** The native backend with its thread count, or why not. */
async function tryNative(options: BackendOptions): Promise<{ ok: boolean; why: string }> {
  try {
    const { threads, source } = resolveThreads(options.threads);
    const missing = registerNativeBackend(threads);
    if (missing != null) return { ok: false, why: `native unavailable: ${missing}` };
    const ok = await tf.setBackend(NATIVE);
    await tf.ready();
    if (!ok || tf.getBackend() !== NATIVE) return { ok: false, why: `tf.setBackend('${NATIVE}') failed` };
    const path = loadNativeAddon().addon?.info().path;
    return { ok: true, why: `C++ kernels (${path}, ${threads} thread${threads === 1 ? '' : 's'} from ${source}) on the cpu backend` };
  } catch (e) {
    if (e instanceof UserError) throw e;
    return { ok: false, why: `native backend failed to initialise: ${(e as Error).message.split('\n')[0]}` };
  }
}

async function use(name: 'tensorflow' | 'wasm' | 'cpu'): Promise<string | null> {
  try {
    if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
      const { registerWasmOverrides } = await import('./wasm-overrides.js');
      registerWasmOverrides();
    }
    if (name === 'cpu') {
      const { registerCpuOverrides } = await import('./cpu-overrides.js');
      registerCpuOverrides();
    }
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok && tf.getBackend() === name ? null : `tf.setBackend('${name}') failed`;
  } catch (e) {
    return `${name} backend failed to initialise: ${(e as Error).message.split('\n')[0]}`;
  }
}

function shortName(pkg: string): string {
  return pkg.replace('@tensorflow/', '');
}

/**
 * tfjs-node-gpu on the GPU. `cpuFallback`: installed, but the CUDA check failed before loading it,
 * so it can still run libtensorflow on the CPU.
 */
async function tryGpu(): Promise<{ ok: boolean; why: string; cpuFallback: boolean }> {
  const name = shortName(TFJS_NODE_GPU);
  if (!isInstalled(TFJS_NODE_GPU)) {
    return { ok: false, cpuFallback: false, why: `${name} not installed (optional dependency; its install downloads libtensorflow)` };
  }
  const problem = cudaProblem(probeCuda());
  if (problem != null) return { ok: false, cpuFallback: true, why: `${name} installed but cannot use CUDA: ${problem}` };
  const err = await loadTensorflow(TFJS_NODE_GPU);
  if (err != null) return { ok: false, cpuFallback: false, why: err };
  const use1 = await use('tensorflow');
  if (use1 != null) return { ok: false, cpuFallback: false, why: use1 };
  // The libraries were found, yet TensorFlow may still have found no usable GPU (wrong CUDA minor,
  // driver too old, a library it needs beyond CUDA_LIBS): then it runs on the CPU without an error.
  if ((tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === false) {
    return { ok: false, cpuFallback: false, why: `${name} loaded but TensorFlow placed no op on a GPU (it fell back to the CPU; run with TF_CPP_MIN_LOG_LEVEL=0 and look for "Could not load dynamic library")` };
  }
  return { ok: true, cpuFallback: false, why: `${name} loaded; NVIDIA GPU and ${CUDA_LIBS.join(' + ')} found` };
}

async function tryCpuTensorflow(): Promise<{ ok: boolean; why: string }> {
  const name = shortName(TFJS_NODE);
  if (!isInstalled(TFJS_NODE)) {
    return { ok: false, why: `${name} not installed (optional dependency; its install downloads libtensorflow)` };
  }
  const err = (await loadTensorflow(TFJS_NODE)) ?? (await use('tensorflow'));
  if (err != null) return { ok: false, why: err };
  return { ok: true, why: `${name} loaded (libtensorflow on the CPU)` };
}

function info(requested: BackendRequest, name: BackendInfo['name'], device: BackendInfo['device'], reasons: string[]): BackendInfo {
  return { requested, name, device, reason: reasons.join('; ') };
}

function unknownBackend(requested: string): UserError {
  return new UserError(`--backend: unknown backend "${requested}"; valid values: ${BACKEND_REQUESTS.join(', ')}`);
}

/**
 * Selects, initialises and returns the backend (tf.setBackend + tf.ready). On wasm it also
 * registers the kernel overrides. Explicit requests that cannot be met throw a UserError with the
 * reason and an install hint.
 */
export async function initBackend(requested: BackendRequest, options: BackendOptions = {}): Promise<BackendInfo> {
  if (!(BACKEND_REQUESTS as readonly string[]).includes(requested)) throw unknownBackend(String(requested));
  const reasons: string[] = [];

  if (requested === 'cpu' || requested === 'wasm') {
    const err = await use(requested);
    if (err != null) throw new UserError(`--backend ${requested}: ${err}`);
    const why = requested === 'wasm' ? 'requested (XNNPACK, single-threaded in Node; matmul/segment-sum overrides registered)' : 'requested (pure JS reference backend)';
    return info(requested, requested, 'cpu', [why]);
  }

  if (requested === 'native') {
    const native = await tryNative(options);
    if (!native.ok) {
      throw new UserError(`--backend native: ${native.why}. It needs the addon built at install: a C++17 compiler, make and python3, then \`npm rebuild @contrastive/native\` (or npm ci)`);
    }
    return info(requested, 'native', 'cpu', [`requested: ${native.why}`]);
  }

  if (requested === 'webgpu') {
    if (options.asyncReads !== true) throw new UserError(`--backend webgpu: ${WEBGPU_SYNC_READS}; use --backend native, cuda or wasm here`);
    const gpu = await tryWebgpu();
    if (!gpu.ok) throw new UserError(`--backend webgpu: ${gpu.why}`);
    return info(requested, 'webgpu', gpu.device, [`requested: ${gpu.why}`]);
  }

  if (requested === 'cuda') {
    const gpu = await tryGpu();
    if (!gpu.ok) {
      // When the package is missing, also say whether installing it would be enough here.
      const machine = gpu.cpuFallback ? null : cudaProblem(probeCuda());
      const also = machine != null && !gpu.why.includes(machine) ? `; this machine also has ${machine}` : '';
      throw new UserError(`--backend cuda: ${gpu.why}${also}. Install: ${INSTALL_HINT_GPU}`);
    }
    return info(requested, 'tensorflow', 'cuda', [gpu.why]);
  }

  if (requested === 'tensorflow') {
    const cpuTf = await tryCpuTensorflow();
    if (cpuTf.ok) return info(requested, 'tensorflow', 'cpu', [cpuTf.why]);
    reasons.push(cpuTf.why);
    const gpu = await tryGpu();
    if (gpu.ok) return info(requested, 'tensorflow', 'cuda', [...reasons, gpu.why]);
    if (gpu.cpuFallback) {
      const fallback = await cpuOnlyGpuPackage(gpu.why);
      if (fallback.ok) return info(requested, 'tensorflow', 'cpu', [...reasons, fallback.why]);
    }
    reasons.push(gpu.why);
    throw new UserError(`--backend tensorflow: ${reasons.join('; ')}. Install: ${INSTALL_HINT_CPU}`);
  }

  // auto
  const gpu = await tryGpu();
  if (gpu.ok) return info(requested, 'tensorflow', 'cuda', [gpu.why]);
  reasons.push(gpu.why);
  if (options.asyncReads === true) {
    const webgpu = await tryWebgpu();
    if (webgpu.ok && webgpu.device === 'gpu') return info(requested, 'webgpu', 'gpu', [...reasons, `using ${webgpu.why}`]);
    reasons.push(webgpu.ok ? `webgpu skipped: ${webgpu.why} is a software adapter (--backend webgpu uses it)` : webgpu.why);
  } else {
    reasons.push('webgpu not tried (this command reads tensors synchronously)');
  }
  const native = await tryNative(options);
  if (native.ok) return info(requested, 'native', 'cpu', [...reasons, `using ${native.why}`]);
  reasons.push(native.why);
  const cpuTf = await tryCpuTensorflow();
  if (cpuTf.ok) return info(requested, 'tensorflow', 'cpu', [...reasons, cpuTf.why]);
  reasons.push(cpuTf.why);
  if (gpu.cpuFallback) {
    const fallback = await cpuOnlyGpuPackage(gpu.why);
    if (fallback.ok) return info(requested, 'tensorflow', 'cpu', [...reasons, fallback.why]);
    reasons.push(fallback.why);
  }
  const wasmErr = await use('wasm');
  if (wasmErr == null) return info(requested, 'wasm', 'cpu', [...reasons, 'using wasm (XNNPACK, single-threaded in Node)']);
  reasons.push(wasmErr);
  const cpuErr = await use('cpu');
  if (cpuErr != null) throw new UserError(`--backend auto: no backend could be initialised: ${[...reasons, cpuErr].join('; ')}`);
  return info(requested, 'cpu', 'cpu', [...reasons, 'using the pure JS cpu backend (slow)']);
}

/** tfjs-node-gpu is installed but CUDA cannot work: libtensorflow still runs, on the CPU. */
async function cpuOnlyGpuPackage(whyNotGpu: string): Promise<{ ok: boolean; why: string }> {
  const err = (await loadTensorflow(TFJS_NODE_GPU)) ?? (await use('tensorflow'));
  if (err != null) return { ok: false, why: err };
  return { ok: true, why: `using ${shortName(TFJS_NODE_GPU)} on the CPU (${whyNotGpu})` };
}

/** One line for the CLI: `backend: wasm (cpu) — <reason>`. */
export function formatBackendInfo(i: BackendInfo): string {
  return `backend: ${i.name} (${i.device}) — ${i.reason}`;
}
