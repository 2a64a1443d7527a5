/**
 * `Identity` and same-dtype `Cast` for the wasm backend without a copy. The stock kernels copy the
 * whole tensor; tfjs-core's gradients call them a lot (every `clone()`, every `cast(x, 'float32')`
 * of a float tensor): ~470 full-tensor copies per BERT training step. Tensors are immutable and the
 * wasm backend reference-counts its buffers (as Reshape already shares them), so the output can share
 * the input's buffer, as the cpu backend's Identity does.
 */
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };
type Kernel = (args: KernelArgs) => TensorInfo | TensorInfo[];
interface RefCounting {
  incRef(dataId: object): void;
}

function share(x: TensorInfo, backend: unknown): TensorInfo {
  (backend as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export function makeIdentity(original: Kernel): Kernel {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    return x.dtype === 'string' ? original(args) : share(x, args.backend);
  };
}

export function makeCast(original: Kernel): Kernel {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dtype } = args.attrs as { dtype: string };
    return dtype === x.dtype && x.dtype !== 'string' ? share(x, args.backend) : original(args);
  };
}
