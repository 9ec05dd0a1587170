/** datasets.samples through the API, normalised to typed bytes whatever the transport did to them. */
import { api } from './api';
import { toBytes, toNumbers } from './bytes.ts';
import type { SampleSet } from './images.ts';

export async function loadSamples(
  id: string,
  opts: { split?: 'train' | 'test'; perClass?: number; classIndex?: number; offset?: number } = {},
): Promise<SampleSet> {
  const r = (await api.call('datasets.samples', { id, ...opts })) as unknown as Record<string, unknown>;
  const width = Number(r.width);
  const height = Number(r.height);
  const images = toBytes(r.bytes ?? r.images ?? r.pixels);
  const labels = toNumbers(r.labels);
  const count = Number(r.count ?? labels.length ?? images.length / (width * height));
  return {
    width,
    height,
    count,
    images,
    labels,
    indices: r.indices ? toNumbers(r.indices) : labels.map((_, i) => i),
    classNames: Array.isArray(r.classNames) ? (r.classNames as string[]) : [],
  };
}
