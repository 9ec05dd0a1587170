/** User settings, one small JSON file in the data directory; a corrupt file falls back to defaults. */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Settings } from '../shared/contract-results.ts';

const SettingsSchema = z.object({
  theme: z.enum(['system', 'light', 'dark']).default('system'),
  frameRate: z.number().int().min(1).max(120).default(30),
  datasetMirrors: z.record(z.string(), z.string()).default({}),
});

export class SettingsStore {
  private readonly file: string;
  private current: Settings;

  constructor(
    dataDir: string,
    private readonly onProblem: (message: string) => void = () => {},
  ) {
    this.file = path.join(dataDir, 'settings.json');
    this.current = this.read();
  }

  private read(): Settings {
    if (!fs.existsSync(this.file)) return SettingsSchema.parse({});
    try {
      return SettingsSchema.parse(JSON.parse(fs.readFileSync(this.file, 'utf8')));
    } catch (err) {
      this.onProblem(`ignoring unreadable settings file ${this.file}: ${(err as Error).message}`);
      return SettingsSchema.parse({});
    }
  }

  get(): Settings {
    return structuredClone(this.current);
  }

  set(patch: Partial<Settings>): Settings {
    this.current = SettingsSchema.parse({ ...this.current, ...patch });
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.current, null, 2));
    fs.renameSync(tmp, this.file); // atomic: a crash never leaves half a settings file
    return this.get();
  }
}
