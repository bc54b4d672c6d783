/**
 * exportOnnx encodes a logistic model as an ONNX ModelProto (IR 8, opset 13):
 *   features float[1, N] ─Gemm(W[N,1], B[1])→ logit float[1, 1] ─Sigmoid→ score float[1, 1]
 * using the ONNX message subset in onnx.proto (generated into gen/onnx_pb.ts).
 */
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  type ModelProto,
  ModelProtoSchema,
  TensorProto_DataType,
  type TypeProtoSchema,
} from "./gen/onnx_pb.ts";
import type { LogisticModel } from "./logistic.ts";

export const MODEL_INPUT = "features";
export const MODEL_OUTPUT = "score";
const IR_VERSION = 8n;
const OPSET = 13n;

export interface ExportOptions {
  featureNames: readonly string[];
  /** Key/value facts stored in the model's metadata_props (seed, metrics, feature names). */
  metadata: Record<string, string>;
  producerVersion: string;
}

export function buildModelProto(m: LogisticModel, o: ExportOptions): ModelProto {
  const n = m.weights.length;
  if (o.featureNames.length !== n) {
    throw new RangeError(`model has ${n} weights but ${o.featureNames.length} feature names`);
  }
  return create(ModelProtoSchema, {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "tradepipe",
    producerVersion: o.producerVersion,
    domain: "io.tradepipe",
    modelVersion: 1n,
    docString: "Signal model: P(mid price up over the training horizon) from the feature vector.",
    metadataProps: Object.entries(o.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: "signal",
      node: [
        { name: "linear", opType: "Gemm", input: [MODEL_INPUT, "W", "B"], output: ["logit"] },
        { name: "probability", opType: "Sigmoid", input: ["logit"], output: [MODEL_OUTPUT] },
      ],
      initializer: [
        {
          name: "W",
          dims: [BigInt(n), 1n],
          dataType: TensorProto_DataType.FLOAT,
          floatData: Array.from(m.weights),
        },
        { name: "B", dims: [1n], dataType: TensorProto_DataType.FLOAT, floatData: [m.bias] },
      ],
      input: [{ name: MODEL_INPUT, type: floatTensorType([1, n]) }],
      output: [{ name: MODEL_OUTPUT, type: floatTensorType([1, 1]) }],
    },
  });
}

function floatTensorType(dims: number[]): MessageInitShape<typeof TypeProtoSchema> {
  return {
    value: {
      case: "tensorType",
      value: {
        elemType: TensorProto_DataType.FLOAT,
        shape: { dim: dims.map((v) => ({ value: { case: "dimValue", value: BigInt(v) } })) },
      },
    },
  };
}

export function exportOnnx(m: LogisticModel, o: ExportOptions): Uint8Array {
  return toBinary(ModelProtoSchema, buildModelProto(m, o));
}
