/**
 * The engine's dataset input: plain images and labels. Structurally the same as the datasets
 * service's LoadedDataset, so its result can be passed straight in.
 */
export interface EngineSplit {
  /** count*height*width bytes, 0..255, row-major */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface EngineDataset {
  id: string;
  width: number;
  height: number;
  classNames: string[];
  train: EngineSplit;
  test: EngineSplit;
}

/** Load a dataset by id through the datasets service (imported lazily: workers only pay when used). */
export async function loadEngineDataset(
  id: string,
  dataDir: string,
  env?: NodeJS.ProcessEnv,
): Promise<EngineDataset> {
  const { loadDataset } = await import('../datasets/index.ts');
  return loadDataset(id, { dataDir, env });
}

export function image(split: EngineSplit, index: number, hw: number): Uint8Array {
  return split.images.subarray(index * hw, (index + 1) * hw);
}

/** Checks that make a bad dataset an error naming the dataset and what is wrong. */
export function checkDataset(ds: EngineDataset, numClasses: number, needTrain: boolean): void {
  const hw = ds.width * ds.height;
  if (ds.width < 3 || ds.height < 3 || ds.width > 64 || ds.height > 64)
    throw new Error(`dataset ${ds.id}: grid ${ds.width}x${ds.height} is outside 3..64`);
  for (const [name, sp] of [
    ['train', ds.train],
    ['test', ds.test],
  ] as const) {
    if (sp.images.length !== sp.count * hw)
      throw new Error(
        `dataset ${ds.id}: ${name} images hold ${sp.images.length} bytes, expected ${sp.count * hw}`,
      );
    if (sp.labels.length !== sp.count)
      throw new Error(`dataset ${ds.id}: ${name} has ${sp.labels.length} labels for ${sp.count} images`);
    for (let i = 0; i < sp.count; i++)
      if (sp.labels[i] >= numClasses)
        throw new Error(
          `dataset ${ds.id}: ${name} label ${sp.labels[i]} at ${i} is not below ${numClasses} classes`,
        );
  }
  if (needTrain && ds.train.count === 0) throw new Error(`dataset ${ds.id}: no training images`);
}
