/** The value at percentile `p` (0–100) of `values`, nearest rank. */
export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** The middle value (the upper of the two middles for an even count). */
export const median = (values: number[]): number => percentile(values, 50);
