/**
 * Generic fused row kernels on the native backend, for ops the model builds with tf.customGrad
 * (src/model/layer-norm.ts, src/model/gelu.ts): tfjs's per-op machinery costs more than the math
 * for LayerNorm (~8 ops forward, ~15 backward) and GELU (5 + 10). The names are this toolkit's;
 * other backends lack them and the model falls back to the composite ops.
 *
 *   RowLayerNorm      x [n, h], gamma [h], beta [h] (attr eps) -> y [n, h], mean [n], rstd [n]
 *   RowLayerNormGrad  dy, x, gamma, mean, rstd -> dx [n, h], dgamma [h], dbeta [h]
 *   GeluErf           x -> 0.5·x·(1 + erf(x/√2))
 *   GeluErfGrad       x, dy -> dy·(Φ(x) + x·φ(x))
 *   AdamWUpdate       p, m, v, g (attr scalars) -> p', m', v': one AdamW step over a parameter (src/train/adamw.ts)
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.js';
import { f32View, outputBuffer, type CpuBackend } from './native-cpu-data.js';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };

export const FUSED_KERNELS = { layerNorm: 'RowLayerNorm', layerNormGrad: 'RowLayerNormGrad', gelu: 'GeluErf', geluGrad: 'GeluErfGrad', adamw: 'AdamWUpdate' } as const;

function rowsOf(x: TensorInfo): { n: number; h: number } {
  const h = x.shape[x.shape.length - 1] ?? 1;
  return { n: h === 0 ? 0 : tf.util.sizeFromShape(x.shape) / h, h };
}

export function makeFusedKernels(addon: NativeAddon): Record<string, KernelFunc> {
  const layerNorm = (args: KernelArgs) => {
    const { x, gamma, beta } = args.inputs as Record<string, TensorInfo>;
    const b = args.backend as CpuBackend;
    const { n, h } = rowsOf(x);
    const y = outputBuffer(n * h);
    const mean = new Float32Array(n);
    const rstd = new Float32Array(n);
    addon.layerNorm(f32View(b, x), f32View(b, gamma), f32View(b, beta), (args.attrs as { eps: number }).eps, n, h, y, mean, rstd);
    return [b.makeTensorInfo(x.shape.slice(), 'float32', y), b.makeTensorInfo([n], 'float32', mean), b.makeTensorInfo([n], 'float32', rstd)];
  };
  const layerNormGrad = (args: KernelArgs) => {
    const { dy, x, gamma, mean, rstd } = args.inputs as Record<string, TensorInfo>;
    const b = args.backend as CpuBackend;
    const { n, h } = rowsOf(x);
    const dx = outputBuffer(n * h);
    const dgamma = new Float32Array(h);
    const dbeta = new Float32Array(h);
    addon.layerNormGrad(f32View(b, dy), f32View(b, x), f32View(b, gamma), f32View(b, mean), f32View(b, rstd), n, h, dx, dgamma, dbeta);
    return [b.makeTensorInfo(x.shape.slice(), 'float32', dx), b.makeTensorInfo([h], 'float32', dgamma), b.makeTensorInfo([h], 'float32', dbeta)];
  };
  const gelu = (args: KernelArgs) => {
    const { x } = args.inputs as Record<string, TensorInfo>;
    const b = args.backend as CpuBackend;
    const y = outputBuffer(tf.util.sizeFromShape(x.shape));
    addon.gelu(f32View(b, x), y);
    return b.makeTensorInfo(x.shape.slice(), 'float32', y);
  };
  const geluGrad = (args: KernelArgs) => {
    const { x, dy } = args.inputs as Record<string, TensorInfo>;
    const b = args.backend as CpuBackend;
    const dx = outputBuffer(tf.util.sizeFromShape(x.shape));
    addon.geluGrad(f32View(b, x), f32View(b, dy), dx);
    return b.makeTensorInfo(x.shape.slice(), 'float32', dx);
  };
  const adamw = (args: KernelArgs) => {
    const { p, m, v, g } = args.inputs as Record<string, TensorInfo>;
    const b = args.backend as CpuBackend;
    const n = tf.util.sizeFromShape(p.shape);
    const [pOut, mOut, vOut] = [outputBuffer(n), outputBuffer(n), outputBuffer(n)];
    addon.adamw(f32View(b, p), f32View(b, m), f32View(b, v), f32View(b, g), pOut, mOut, vOut, Float32Array.from((args.attrs as { scalars: number[] }).scalars));
    return [pOut, mOut, vOut].map((a) => b.makeTensorInfo(p.shape.slice(), 'float32', a));
  };
  return {
    [FUSED_KERNELS.adamw]: adamw as unknown as KernelFunc,
    [FUSED_KERNELS.layerNorm]: layerNorm as unknown as KernelFunc,
    [FUSED_KERNELS.layerNormGrad]: layerNormGrad as unknown as KernelFunc,
    [FUSED_KERNELS.gelu]: gelu as unknown as KernelFunc,
    [FUSED_KERNELS.geluGrad]: geluGrad as unknown as KernelFunc,
  };
}
