/**
 * Logistic regression trained with plain full-batch gradient descent on standardized features.
 * The standardization is folded into the weights afterwards, so the exported model takes the raw
 * feature vector: score = sigmoid(w · x + b).
 */
import type { Dataset } from "./dataset.ts";

export interface LogisticModel {
  /** Weights on the raw (unstandardized) features, rounded to float32 as they are exported. */
  weights: Float32Array;
  bias: number;
}

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  /** L2 penalty on the standardized weights. */
  l2: number;
}

export interface TrainResult {
  model: LogisticModel;
  /** Log loss on the training set after each epoch (for the training report). */
  lossHistory: number[];
}

export function trainLogistic(ds: Dataset, o: TrainOptions): TrainResult {
  const n = ds.rows;
  const d = ds.x.length / n;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += ds.x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) std[j]! += (ds.x[i * d + j]! - mean[j]!) ** 2;
  }
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]! / n) || 1;
  const z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) z[i * d + j] = (ds.x[i * d + j]! - mean[j]!) / std[j]!;
  }
  const w = new Float64Array(d);
  let b = 0;
  const grad = new Float64Array(d);
  const lossHistory: number[] = [];
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    grad.fill(0);
    let gradB = 0;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let logit = b;
      for (let j = 0; j < d; j++) logit += w[j]! * z[i * d + j]!;
      const p = sigmoid(logit);
      const err = p - ds.y[i]!;
      for (let j = 0; j < d; j++) grad[j]! += err * z[i * d + j]!;
      gradB += err;
      loss += logLoss(p, ds.y[i]!);
    }
    for (let j = 0; j < d; j++) w[j]! -= o.learningRate * (grad[j]! / n + o.l2 * w[j]!);
    b -= o.learningRate * (gradB / n);
    lossHistory.push(loss / n);
  }
  const weights = new Float32Array(d);
  let bias = b;
  for (let j = 0; j < d; j++) {
    weights[j] = w[j]! / std[j]!;
    bias -= (w[j]! * mean[j]!) / std[j]!;
  }
  return { model: { weights, bias: Math.fround(bias) }, lossHistory };
}

/** score is the model's forward pass in TypeScript: sigmoid(w · x + b). */
export function score(m: LogisticModel, x: ArrayLike<number>): number {
  let logit = m.bias;
  for (let j = 0; j < m.weights.length; j++) logit += m.weights[j]! * x[j]!;
  return sigmoid(logit);
}

export interface Evaluation {
  rows: number;
  accuracy: number;
  logLoss: number;
  /** Accuracy of always predicting the more frequent label. */
  baselineAccuracy: number;
}

export function evaluate(m: LogisticModel, ds: Dataset): Evaluation {
  const d = m.weights.length;
  let correct = 0;
  let loss = 0;
  let ups = 0;
  for (let i = 0; i < ds.rows; i++) {
    const p = score(m, ds.x.subarray(i * d, i * d + d));
    const y = ds.y[i]!;
    if ((p > 0.5 ? 1 : 0) === y) correct++;
    loss += logLoss(p, y);
    ups += y;
  }
  return {
    rows: ds.rows,
    accuracy: correct / ds.rows,
    logLoss: loss / ds.rows,
    baselineAccuracy: Math.max(ups, ds.rows - ups) / ds.rows,
  };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function logLoss(p: number, y: number): number {
  const q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  return y === 1 ? -Math.log(q) : -Math.log(1 - q);
}
