/**
 * contrastive — the library API. Re-exports only; each name lives in one file.
 */
export { UserError } from './util/errors.js';

// backends
export { initBackend, BACKEND_REQUESTS, type BackendInfo, type BackendRequest } from './backend/select.js';
export { registerWasmOverrides } from './backend/wasm-overrides.js';

// data
export { prepare, type PrepareOptions, type PrepareResult } from './data/prepare.js';
export { readPairBatches, countRows, readSchema, readColumnBatches } from './data/arrow-reader.js';
export type { SchemaInfo } from './data/schema.js';
export {
  textBatches,
  textRecordBatches,
  countBatches,
  tokenizeTexts,
  type TextBatch,
  type RawTextBatch,
  type TextBatchOptions,
  type BatchOrderOptions,
} from './data/loader.js';
export { readLabelledPairs, type LabelledPairs } from './data/labelled.js';
export { noDuplicateBatches } from './data/batching.js';
export { shuffled } from './data/shuffle.js';
export { TextTokenizer, type TokenBatch } from './data/tokenizer.js';
export type { PairRecord, DataKind, LabelledRecord } from './data/records.js';

// model
export { SentenceEncoder, toInputs } from './model/encoder.js';
export { bertForward, gelu, type EncoderInputs } from './model/bert.js';
export { debertaForward } from './model/deberta.js';
export { validateMoe, bakeExpert, layersOfRule, SCIMULT_TASKS, type MoeConfig, type MoePart } from './model/moe.js';
export { pool } from './model/pooling.js';
export {
  validateModelConfig, validateModelFrom, toHfConfig, fromHfConfig,
  type ModelConfig, type BertConfig, type Pooling, type EncoderOverrides,
} from './model/config.js';

// model folders (sentence-transformers / Hugging Face layout)
export { readModelFolder, loadEncoder, openWeights, type ModelFolder } from './folder/read.js';
export { writeModelFolder, encoderWeights, type ModelFolderContents, type WeightSource } from './folder/write.js';
export { modelCard, type ModelCardInfo } from './folder/model-card.js';
export {
  readSafetensors, writeSafetensors, writeSafetensorsStream, openSafetensors, encodeSafetensors, decodeSafetensors,
  type NamedTensor, type TensorSpec, type SafetensorsFile,
} from './folder/safetensors.js';

// similarity
export { l2Normalize, pairwiseCosine, cosineMatrix, pairwiseAngle, cosineRows } from './math/similarity.js';

// losses
export { infoNCE, type InfoNCEOptions } from './losses/infonce.js';
export { angle, ANGLE_DEFAULTS, type AnglEOptions } from './losses/angle.js';
export { cosent, type CoSENTOptions } from './losses/cosent.js';
export { triplet, type TripletOptions } from './losses/triplet.js';
export { computeLoss, validateLossConfig, LOSS_NAMES, type LossConfig } from './losses/registry.js';

// training
export { train, trainIter, type TrainOptions, type TrainEvent } from './train/trainer.js';
export { loadTrainConfig, validateTrainConfig, type TrainConfig } from './train/config.js';
export { AdamW, clipByGlobalNorm } from './train/adamw.js';
export { linearWarmupDecay } from './train/schedule.js';
export { trainStep } from './train/step.js';
export { gradCache } from './train/gradcache.js';
export { benchTrainStep, type BenchShape, type BenchResult } from './train/bench.js';

// merge (LM-Cocktail)
export { mergeModels, MERGE_DEFAULTS, type MergeOptions, type MergeResult } from './merge/merge.js';
export { checkWeights, softmaxWeights, exampleLoss } from './merge/weights.js';
export { readExamples, type Example } from './merge/examples.js';

// pipelines
export { loadPipelineConfig, validatePipelineConfig, type PipelineConfig, type Stage } from './pipeline/config.js';
export { pipelineIter, runPipeline, type PipelineEvent, type PipelineOptions, type PlannedStage } from './pipeline/run.js';

// export
export { exportOnnx, type ExportOptions, type ExportResult } from './export/export.js';
export { buildBertOnnx } from './export/bert-graph.js';

// encode
export { encodeFile, type EncodeFileOptions, type EncodeFileResult } from './encode/encode-file.js';

// evaluation
export { evaluateRetrieval, evaluateSts, evaluateFile, loadRetrievalSet } from './eval/evaluate.js';
export { pearson, spearman } from './eval/correlation.js';
export { retrievalMetrics, topK, type RetrievalMetrics } from './eval/retrieval-metrics.js';
export { embedTexts, cosineScores } from './eval/embed.js';
