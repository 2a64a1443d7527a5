/**
 * Linear warmup then linear decay to 0, exactly as transformers' get_linear_schedule_with_warmup:
 * the multiplier for 0-based step t is t/warmup while t < warmup, then (total − t)/(total − warmup).
 * (So with warmup > 0 the very first update has lr 0, as in HF.)
 */
export function linearWarmupDecay(step: number, opts: { lr: number; warmupSteps: number; totalSteps: number }): number {
  const { lr, warmupSteps, totalSteps } = opts;
  if (step < warmupSteps) return (lr * step) / Math.max(1, warmupSteps);
  return lr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}
