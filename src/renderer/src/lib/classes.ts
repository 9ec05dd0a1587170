/** Class labels for legends and charts: KMNIST shows the Hiragana glyph with its reading. */
export interface ClassLike {
  index?: number;
  name: string;
  glyph?: string;
  reading?: string;
}

export function classLabels(classes: readonly ClassLike[] | undefined, count = 10): string[] {
  if (!classes || classes.length === 0) return Array.from({ length: count }, (_, k) => String(k));
  return classes.map((c) => (c.glyph && c.reading ? `${c.glyph} ${c.reading}` : c.name));
}
