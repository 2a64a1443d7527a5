/**
 * The `webgpu` backend: tfjs-backend-webgpu on Dawn (the `webgpu` npm package, a prebuilt dawn.node)
 * in Node. Both packages are optionalDependencies, imported only here and only when asked for.
 *
 * Set-up (what Dawn in Node needs): Dawn's globals (GPUBufferUsage, ...) and `navigator.gpu` must
 * exist *before* tfjs-backend-webgpu is imported; `navigator` is deleted and the device destroyed at
 * exit, or Node never exits. We create the adapter and device ourselves (instead of the package's
 * factory) to request the adapter's maximum limits and the optional features our kernels use, and to
 * refuse CPU adapters: a software Vulkan/GL driver is slower than the native backend.
 *
 * Reasons, one line each: package missing; no Vulkan loader (libvulkan.so.1, which dawn.node
 * dlopens); no adapter (the loader found no driver: on NVIDIA point VK_ICD_FILENAMES at
 * nvidia_icd.json); adapter rejected (a CPU adapter, unless CONTRASTIVE_WEBGPU_SOFTWARE=1).
 *
 * CONTRASTIVE_WEBGPU_SOFTWARE=1 (opt-in, for tests and development on machines without a GPU): also
 * accept software adapters, and try Dawn's OpenGL ES backend on Mesa's llvmpipe through surfaceless
 * EGL (a WebGPU "compatibility" adapter). Debian 12's lavapipe is rejected by Dawn itself
 * ("Vulkan shaderUniform*ArrayDynamicIndexing required"), so on such a machine this GL path is the
 * only way to run WGSL.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors.js';

export const WEBGPU = 'webgpu';
export const WEBGPU_PKG = 'webgpu';
export const TFJS_WEBGPU_PKG = '@tensorflow/tfjs-backend-webgpu';
export const VULKAN_LOADER = 'libvulkan.so.1';
export const SOFTWARE_ENV = 'CONTRASTIVE_WEBGPU_SOFTWARE';

/** The adapter and device facts the CLI, the kernels and the GPU check report. */
export interface WebgpuFacts {
  /** Dawn backend of the adapter (vulkan, opengles, ...). */
  backendType: string;
  adapterType: string;
  description: string;
  vendor: string;
  architecture: string;
  /** True for a CPU (software) adapter, or a compatibility-mode (GL) one. */
  software: boolean;
  /** Adapter features, sorted. */
  features: string[];
  /** Features requested on the device (a subset of `features` our kernels can use). */
  deviceFeatures: string[];
  limits: Record<string, number>;
}

/** Minimal structural types of the WebGPU objects used here (the `webgpu` package is optional, so no compile-time dependency on its types). */
interface GpuAdapterLike {
  features: Set<string>;
  limits: Record<string, number>;
  info: { vendor: string; architecture: string; device: string; description: string; backendType?: string; adapterType?: string; isFallbackAdapter?: boolean };
  requestDevice(d: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<GpuDeviceLike>;
}
export interface GpuDeviceLike {
  features: Set<string>;
  limits: Record<string, number>;
  lost: Promise<unknown>;
  destroy(): void;
  addEventListener?(type: 'uncapturederror', f: (e: { error?: { message?: string } }) => void): void;
}

/** Validation/out-of-memory errors Dawn raised on our device: a kernel that hits one returns garbage without throwing. */
const deviceErrors = { count: 0, first: null as string | null };

/** How many uncaptured WebGPU errors occurred so far, and the first one's message (the GPU check reports them). */
export function webgpuErrors(): { count: number; first: string | null } {
  return { ...deviceErrors };
}
interface GpuLike {
  requestAdapter(o: Record<string, unknown>): Promise<GpuAdapterLike | null>;
}

/** Features our kernels use when present (each behind a check in webgpu-kernels.ts). */
export const WANTED_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;
/** Limits raised to the adapter's maximum (big matmuls and embedding tables need large bindings). */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
] as const;

const requireHere = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    requireHere.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Where the dynamic loader would find libvulkan.so.1 (LD_LIBRARY_PATH, the ldconfig cache, the usual dirs), or null. */
export function findVulkanLoader(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.LD_LIBRARY_PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, VULKAN_LOADER))) return join(dir, VULKAN_LOADER);
  }
  for (const cmd of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const cache = execFileSync(cmd, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
      const line = cache.split('\n').find((l) => l.trim().startsWith(`${VULKAN_LOADER} `));
      if (line != null) return line.split('=>').pop()?.trim() ?? 'ldconfig cache';
      break;
    } catch {
      // try the next location
    }
  }
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu']) {
    if (existsSync(join(dir, VULKAN_LOADER))) return join(dir, VULKAN_LOADER);
  }
  return null;
}

export function softwareAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[SOFTWARE_ENV] === '1';
}

type Outcome = { ok: true; facts: WebgpuFacts; why: string } | { ok: false; why: string };

let state: { outcome: Outcome; device?: GpuDeviceLike } | undefined;

/** A CPU adapter: Dawn marks CPU devices as fallback adapters; the names catch the rest. */
function isSoftware(i: GpuAdapterLike['info']): boolean {
  return i.isFallbackAdapter === true || /cpu/i.test(i.adapterType ?? '') || /llvmpipe|lavapipe|swiftshader/i.test(`${i.device} ${i.description}`);
}

function factsOf(adapter: GpuAdapterLike, device: GpuDeviceLike, compat: boolean): WebgpuFacts {
  const i = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage', 'minSubgroupSize', 'maxSubgroupSize']) {
    const v = (adapter.limits as Record<string, unknown>)[k] ?? (i as Record<string, unknown>)[k === 'minSubgroupSize' ? 'subgroupMinSize' : k === 'maxSubgroupSize' ? 'subgroupMaxSize' : k];
    if (typeof v === 'number') limits[k] = v;
  }
  const adapterType = i.adapterType ?? 'unknown';
  return {
    backendType: i.backendType ?? (compat ? 'opengles' : 'vulkan'),
    adapterType,
    description: i.description || i.device || 'unknown',
    vendor: i.vendor,
    architecture: i.architecture,
    software: compat || isSoftware(i),
    features: [...adapter.features].sort(),
    deviceFeatures: [...device.features].filter((f) => (WANTED_FEATURES as readonly string[]).includes(f)).sort(),
    limits,
  };
}

function describe(f: WebgpuFacts): string {
  const feats = f.deviceFeatures.length > 0 ? f.deviceFeatures.join(', ') : 'no optional features';
  return `${f.description} (${f.backendType}, ${f.adapterType}${f.software ? ', software' : ''}; ${feats})`;
}

async function requestAdapter(gpu: GpuLike, compat: boolean): Promise<GpuAdapterLike | null> {
  try {
    return await gpu.requestAdapter(compat ? { featureLevel: 'compatibility' } : { powerPreference: 'high-performance' });
  } catch {
    return null;
  }
}

/** Removes `navigator` and destroys the device, so Dawn lets Node exit. */
export function releaseWebgpu(): void {
  if (state?.device != null) {
    try {
      state.device.destroy();
    } catch {
      // already lost
    }
  }
  delete (globalThis as { navigator?: unknown }).navigator;
}

async function setUp(): Promise<Outcome> {
  for (const pkg of [WEBGPU_PKG, TFJS_WEBGPU_PKG]) {
    if (!installed(pkg)) return { ok: false, why: `webgpu unavailable: package ${pkg} not installed (optional dependency)` };
  }
  const software = softwareAllowed();
  const loader = findVulkanLoader();
  if (loader == null && !software) {
    return { ok: false, why: `webgpu unavailable: no Vulkan loader (${VULKAN_LOADER} not on LD_LIBRARY_PATH or in the ldconfig cache; Debian/Ubuntu: apt-get install libvulkan1)` };
  }
  const webgpuSpecifier: string = WEBGPU_PKG; // a variable: the package is optional, tsc must not need it
  let dawn: { create: (o: string[]) => GpuLike; globals: object };
  try {
    dawn = (await import(webgpuSpecifier)) as typeof dawn;
  } catch (e) {
    return { ok: false, why: `webgpu unavailable: ${WEBGPU_PKG} failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
  Object.assign(globalThis, dawn.globals);
  let adapter: GpuAdapterLike | null = null;
  let compat = false;
  let gpu: GpuLike | null = null;
  if (loader != null) {
    gpu = dawn.create(['backend=vulkan']);
    adapter = await requestAdapter(gpu, false);
  }
  if (adapter == null && software) {
    // Dawn's GL backend on Mesa (llvmpipe) without a display; EGL reads this when Dawn opens it.
    process.env.EGL_PLATFORM ??= 'surfaceless';
    gpu = dawn.create(['backend=opengles']);
    adapter = await requestAdapter(gpu, true);
    compat = adapter != null;
  }
  if (adapter == null || gpu == null) {
    const where = loader == null ? 'no Vulkan loader and no EGL/GL adapter' : `${VULKAN_LOADER} found at ${loader}, but no driver offered an adapter (NVIDIA: set VK_ICD_FILENAMES to nvidia_icd.json, e.g. /usr/share/vulkan/icd.d/nvidia_icd.json)`;
    return { ok: false, why: `webgpu unavailable: no adapter (${where})` };
  }
  const info = adapter.info;
  const cpuAdapter = compat || isSoftware(info);
  if (cpuAdapter && !software) {
    return { ok: false, why: `webgpu unavailable: adapter rejected: ${info.description || info.device} is a CPU (software) adapter, slower than the native backend (${SOFTWARE_ENV}=1 accepts it)` };
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const k of RAISED_LIMITS) {
    const v = adapter.limits[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  let device: GpuDeviceLike;
  try {
    device = await adapter.requestDevice({ requiredFeatures: [...requiredFeatures], requiredLimits });
  } catch (e) {
    return { ok: false, why: `webgpu unavailable: adapter rejected: requestDevice failed: ${(e as Error).message.split('\n')[0]}` };
  }
  device.addEventListener?.('uncapturederror', (e) => {
    deviceErrors.count++;
    deviceErrors.first ??= (e.error?.message ?? 'unknown error').split('\n')[0];
  });
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  state = { outcome: { ok: false, why: 'initialising' }, device };
  process.once('exit', releaseWebgpu);
  process.once('beforeExit', releaseWebgpu);

  const tfjsWebgpuSpecifier: string = TFJS_WEBGPU_PKG;
  let WebGPUBackend: new (device: GpuDeviceLike, info: unknown) => tf.KernelBackend;
  try {
    ({ WebGPUBackend } = (await import(tfjsWebgpuSpecifier)) as { WebGPUBackend: typeof WebGPUBackend });
  } catch (e) {
    return { ok: false, why: `webgpu unavailable: ${TFJS_WEBGPU_PKG} failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
  // tfjs-backend-webgpu reads synchronously through an OffscreenCanvas, which Node lacks: without
  // this, dataSync() dies with "OffscreenCanvas is not defined". Say what works instead.
  (WebGPUBackend.prototype as unknown as { readSync: () => never }).readSync = () => {
    throw new UserError(
      'webgpu: a tensor was read synchronously (dataSync), which tfjs-backend-webgpu cannot do in Node; ' +
        'read with data() (trainStepAsync), or use the native, cuda or wasm backend',
    );
  };
  // Replace the package's factory (it picks its own adapter, default limits, and priority 3 would
  // make it tfjs's default) with one for our device, at the lowest priority.
  if (tf.findBackendFactory(WEBGPU) != null) tf.removeBackend(WEBGPU);
  tf.registerBackend(WEBGPU, () => new WebGPUBackend(device, info), 0);
  const { registerWebgpuKernels } = await import('./webgpu-kernels.js');
  const facts = factsOf(adapter, device, compat);
  registerWebgpuKernels(facts);
  return { ok: true, facts, why: `WebGPU on ${describe(facts)}` };
}

/**
 * Sets up Dawn and registers the `webgpu` backend and our kernels (once per process; later calls
 * return the first outcome). Does not switch to it: call tf.setBackend('webgpu').
 */
export async function prepareWebgpu(): Promise<Outcome> {
  if (state == null || state.outcome.why === 'initialising') {
    const outcome = await setUp();
    state = { ...(state ?? {}), outcome };
  }
  return state.outcome;
}

/** The facts of the prepared adapter, or null. */
export function webgpuFacts(): WebgpuFacts | null {
  return state?.outcome.ok ? state.outcome.facts : null;
}
