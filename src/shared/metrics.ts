/**
 * What a training run reports: one row per iteration and one evaluation every N iterations.
 * The engine produces these, the store keeps them, the UI charts them: one shape everywhere.
 */
import { z } from 'zod';

export const IterationMetricsSchema = z.object({
  iteration: z.number().int().min(0),
  loss: z.number(),
  /** share of alive cells whose argmax logit is the image's class (classifiers); NaN for growing runs */
  perCellAccuracy: z.number().or(z.nan()),
  /** share of images whose alive cells all agree on one label (classifiers); NaN for growing runs */
  agreement: z.number().or(z.nan()),
  lr: z.number(),
  gradNorm: z.number(),
  iterationMs: z.number(),
  cellsPerSec: z.number(),
  /** milliseconds since the run (first) started, excluding paused time */
  wallMs: z.number(),
});
export type IterationMetrics = z.infer<typeof IterationMetricsSchema>;

const Matrix = z.array(z.array(z.number()));

export const EvaluationSchema = z.object({
  iteration: z.number().int().min(0),
  images: z.number().int().min(0),
  /** per step 1..steps (+ mutateSteps after the mutation): accuracy and agreement */
  perStep: z.array(z.object({ step: z.number().int(), perCellAccuracy: z.number(), agreement: z.number() })),
  /** the step at which the images were swapped (mutation); absent when no mutation was run */
  mutationStep: z.number().int().optional(),
  perCellAccuracy: z
    .number()
    .or(z.nan())
    .describe('at the last step before the mutation (e.g. step 200); NaN for growing runs'),
  agreement: z.number().or(z.nan()),
  perClassAccuracy: z.array(z.number()),
  confusionCells: Matrix.describe('[true][predicted] counts of alive cells'),
  confusionImages: Matrix.describe('[true][predicted] counts of images by majority vote'),
  /** growing runs: loss on the target; adversarial runs: attack success rate per adversary fraction */
  loss: z.number().optional(),
  attackSuccess: z.array(z.object({ fraction: z.number(), successRate: z.number() })).optional(),
  durationMs: z.number(),
});
export type Evaluation = z.infer<typeof EvaluationSchema>;
