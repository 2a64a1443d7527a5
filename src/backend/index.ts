/** Backend selection (`--backend`) and the wasm kernel fixes. */
export {
  BACKEND_REQUESTS,
  CUDA_LIBS,
  cudaProblem,
  formatBackendInfo,
  initBackend,
  probeCuda,
  type BackendInfo,
  type BackendRequest,
  type CudaFacts,
} from './select.js';
export { BERT_KERNELS, missingKernels, registerWasmOverrides, WASM_ADDED_KERNELS, WASM_OVERRIDDEN_KERNELS } from './wasm-overrides.js';
