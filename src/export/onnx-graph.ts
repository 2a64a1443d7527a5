/**
 * A small builder for ONNX graphs on top of `onnx-proto` (protobufjs classes for ONNX 1.10 / IR 8):
 * nodes with unique output names, initializers stored as little-endian `raw_data`, int64 constants,
 * and graph inputs/outputs with symbolic (dim_param) axes. Knows nothing about BERT.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = InstanceType<typeof onnx.ModelProto>;
type IAttributeProto = Parameters<typeof onnx.AttributeProto.create>[0] & object;
type ITensorProto = Parameters<typeof onnx.TensorProto.create>[0] & object;
type INodeProto = Parameters<typeof onnx.NodeProto.create>[0] & object;
type IValueInfoProto = Parameters<typeof onnx.ValueInfoProto.create>[0] & object;

export const DT = onnx.TensorProto.DataType;
export type ElemType = 'float32' | 'int64' | 'int32' | 'int8' | 'uint8';
const ELEM: Record<ElemType, number> = { float32: DT.FLOAT, int64: DT.INT64, int32: DT.INT32, int8: DT.INT8, uint8: DT.UINT8 };

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };
/** A dimension: a fixed size, or a name for a symbolic (dynamic) axis. */
export type Dim = number | string;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // raw_data is little-endian by the ONNX spec; views of typed arrays are host-endian.
  throw new Error('ONNX export needs a little-endian host');
}

function attribute(name: string, v: AttrValue): IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer; pass { float: ${v} }`);
    return { name, type: A.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  if ('float' in v) return { name, type: A.FLOAT, f: v.float };
  return { name, type: A.FLOATS, floats: v.floats };
}

function valueInfo(name: string, elem: ElemType, dims: Dim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

type TypedData = Float32Array | Int32Array | Int8Array | Uint8Array | BigInt64Array;

function elemTypeOf(data: TypedData): ElemType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  return 'int64';
}

export class GraphBuilder {
  private readonly nodes: INodeProto[] = [];
  private readonly initializers: ITensorProto[] = [];
  private readonly inputs: IValueInfoProto[] = [];
  private readonly outputs: IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private counter = 0;

  /** A name not used yet, derived from `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, elem: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(this.fresh(name), elem, dims));
    return name;
  }

  /** Declare `value` (a node output) as a graph output under `name` (through Identity if renamed). */
  output(value: string, name: string, elem: ElemType, dims: Dim[]): void {
    if (value !== name) this.node('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** A weight or constant tensor, stored as little-endian raw_data (a view: do not change `data` afterwards). */
  initializer(name: string, data: TypedData, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`initializer ${name}: ${data.length} values for shape [${dims}]`);
    const n = this.fresh(name);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name: n, dataType: ELEM[elemTypeOf(data)], dims, rawData: raw });
    return n;
  }

  /** An int64 tensor constant (shapes, axes, indices); a scalar when `scalar` is set. Deduplicated. */
  ints(values: number[], scalar = false): string {
    const key = `i64:${scalar ? 's' : 'v'}:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.initializer(`const_${scalar ? 'scalar_' : ''}${values.join('_').replace(/-/g, 'm')}`, BigInt64Array.from(values, BigInt), scalar ? [] : [values.length]);
    this.constCache.set(key, name);
    return name;
  }

  /** A float32 scalar constant. Deduplicated. */
  float(value: number): string {
    const key = `f32:${value}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.initializer(`const_f_${String(value).replace(/[^0-9a-z]/gi, '_')}`, Float32Array.of(value), []);
    this.constCache.set(key, name);
    return name;
  }

  /** Add one node; returns its (first) output name. Empty strings in `inputs` mark omitted optional inputs. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    return this.nodeN(op, inputs, 1, attrs, outName ? [outName] : undefined)[0];
  }

  /** Add a node with `numOutputs` outputs. */
  nodeN(op: string, inputs: string[], numOutputs: number, attrs: Record<string, AttrValue> = {}, outNames?: string[]): string[] {
    const base = outNames?.[0] ?? `${op}_${this.nodes.length}`;
    const outputs = Array.from({ length: numOutputs }, (_, i) => this.fresh(outNames?.[i] ?? (i === 0 ? base : `${base}_${i}`)));
    this.nodes.push({
      name: this.fresh(`n${this.nodes.length}_${op}`),
      opType: op,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  get numNodes(): number {
    return this.nodes.length;
  }

  build(opts: { name: string; opset: number; producer: string; docString?: string; metadata?: Record<string, string> }): ModelProto {
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: opts.producer,
      docString: opts.docString,
      opsetImport: [{ domain: '', version: opts.opset }],
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: opts.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }
}

/** Bytes of all initializer data (the bulk of the file): to check a size limit before encoding. */
export function initializerBytes(model: ModelProto): number {
  return (model.graph?.initializer ?? []).reduce((n, t) => n + (t.rawData?.length ?? 0), 0);
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export interface IoSignature {
  name: string;
  /** onnx TensorProto.DataType */
  elemType: number;
  /** fixed sizes as numbers, symbolic axes by their dim_param */
  dims: Dim[];
}

/** The declared graph inputs and outputs of a model (for checks and printing). */
export function ioSignature(model: ModelProto): { inputs: IoSignature[]; outputs: IoSignature[] } {
  const sig = (v: IValueInfoProto): IoSignature => {
    const t = v.type?.tensorType;
    return {
      name: v.name ?? '',
      elemType: t?.elemType ?? 0,
      dims: (t?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))),
    };
  };
  return { inputs: (model.graph?.input ?? []).map(sig), outputs: (model.graph?.output ?? []).map(sig) };
}
