/** `npm run nca -- runs list | show ID | export ID FILE | import FILE | delete ID [--json]` */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RunStore } from '../../services/store/index.ts';
import { modelOnlyCheckpoint } from '../../services/engine/checkpoint.ts';
import { averageRunCheckpoints } from '../../services/training/average-run.ts';
import { CheckpointChoiceSchema, RunListFilterSchema, type RunSummary } from '../../../shared/runs.ts';
import { CliUsageError, type CliCommand, type CliContext } from '../types.ts';

const USAGE = [
  'Usage: npm run nca -- runs <list|show|export|import|average|delete> ... [--data-dir DIR] [--json]',
  '',
  '  runs list [--search Q] [--status S[,S]] [--task T] [--dataset D] [--tag T] [--sort KEY] [--order asc|desc]',
  '             sort keys: createdAt name status loss perCellAccuracy agreement evalAccuracy duration lastIteration',
  '  runs show ID                      one run: config, best metrics, checkpoints, recordings, recent events',
  '  runs export ID FILE [--checkpoints latest|best|all] [--model-only [--precision f32|f16]] [--compact-history]',
  '                                    write one .ncarun file (default: best); --model-only keeps only the weights',
  '                                    (small, for sharing; fork to fine-tune, cannot resume), --precision f16 halves',
  '                                    them; --compact-history rounds and thins the curves and evaluations it carries',
  '  runs import FILE                  add a .ncarun run (a clashing id gets a new one)',
  '  runs average ID (--checkpoints ID,ID,... | --from ITER [--to ITER]) [--name NAME]',
  '                                    a new run whose weights are the mean of checkpoints of run ID and the runs',
  '                                    it was forked from (weight averaging); --from takes every kept one in range',
  '  runs delete ID                    delete a run and everything it stored',
].join('\n');

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliUsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (parsed.positionals.length !== positionals.length)
    throw new CliUsageError(`expected ${positionals.join(' ') || 'no arguments'}\n\n${USAGE}`);
  return { values: parsed.values as Record<string, string | undefined>, positionals: parsed.positionals };
}

function duration(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

function bestText(r: RunSummary): string {
  if (r.task === 'grow') return r.bestLoss === null ? '-' : `loss ${r.bestLoss.toPrecision(3)}`;
  if (r.bestEvalAccuracy !== null) return `eval ${pct(r.bestEvalAccuracy)}`;
  return r.bestPerCellAccuracy === null ? '-' : `train ${pct(r.bestPerCellAccuracy)}`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function withStore<T>(ctx: CliContext, fn: (store: RunStore) => T): T {
  const store = RunStore.open(ctx.dataDir);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

export const runsCommand: CliCommand = {
  name: 'runs',
  summary: 'list, show, export, import, average or delete runs',
  usage: USAGE,
  async run(args, ctx) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'list': {
        const { values } = parse(
          rest,
          {
            search: { type: 'string' },
            status: { type: 'string' },
            task: { type: 'string' },
            dataset: { type: 'string' },
            tag: { type: 'string' },
            sort: { type: 'string' },
            order: { type: 'string' },
          },
          [],
        );
        const filter = RunListFilterSchema.safeParse({
          ...values,
          status: values.status?.includes(',') ? values.status.split(',') : values.status,
        });
        if (!filter.success)
          throw new CliUsageError(
            filter.error.issues.map((i) => `--${String(i.path[0] ?? 'option')}: ${i.message}`).join('; '),
          );
        const runs = withStore(ctx, (s) => s.listRuns(filter.data));
        if (ctx.json) ctx.stdout(JSON.stringify({ runs }));
        else if (runs.length === 0) ctx.stdout(`no runs in ${ctx.dataDir}`);
        else
          ctx.stdout(
            table([
              ['ID', 'NAME', 'STATUS', 'TASK', 'DATASET', 'BEST', 'ITER', 'BACKEND', 'TIME', 'TAGS'],
              ...runs.map((r) => [
                r.id,
                r.name.length > 30 ? r.name.slice(0, 29) + '…' : r.name,
                r.status,
                r.task,
                r.dataset,
                bestText(r),
                r.lastIteration === null ? '-' : String(r.lastIteration),
                r.backend ?? '-',
                duration(r.durationMs),
                r.tags.join(','),
              ]),
            ]),
          );
        return 0;
      }
      case 'show': {
        const { positionals } = parse(rest, {}, ['ID']);
        const info = withStore(ctx, (s) => {
          const run = s.getSummary(positionals[0]);
          return {
            run,
            checkpoints: s.listCheckpoints(run.id),
            recordings: s.listRecordings(run.id),
            latestEvaluation: s.latestEvaluation(run.id),
            events: s.events(run.id, 20),
          };
        });
        if (ctx.json) {
          ctx.stdout(JSON.stringify(info));
          return 0;
        }
        const r = info.run;
        const lines = [
          `${r.name}  (${r.id})`,
          `  status      ${r.status}${r.statusMessage ? ` - ${r.statusMessage}` : ''}`,
          `  task        ${r.task} on ${r.dataset}, seed ${r.seed}`,
          `  backend     ${r.backend ?? '-'}${r.device ? ` (${r.device})` : ''}`,
          `  created     ${r.createdAt}   started ${r.startedAt ?? '-'}   ended ${r.endedAt ?? '-'}`,
          `  progress    iteration ${r.lastIteration ?? '-'} of ${r.config.iterations}, ${duration(r.durationMs)}`,
          `  best        loss ${r.bestLoss?.toPrecision(4) ?? '-'}, per-cell ${pct(r.bestPerCellAccuracy)}, ` +
            `agreement ${pct(r.bestAgreement)}, eval ${pct(r.bestEvalAccuracy)}`,
          `  tags        ${r.tags.join(', ') || '-'}`,
          ...(r.parentRunId ? [`  parent      ${r.parentRunId}`] : []),
          ...(r.notes ? [`  notes       ${r.notes.replace(/\n/g, '\n              ')}`] : []),
          `  checkpoints ${info.checkpoints.map((c) => `${c.id}@${c.iteration}${c.best ? '*' : ''}`).join(', ') || '-'}`,
          `  recordings  ${info.recordings.map((c) => `${c.name} (${c.frameCount} frames)`).join(', ') || '-'}`,
          '  events',
          ...info.events.map((e) => `    ${e.at} ${e.level.padEnd(5)} ${e.message}`),
          '  config',
          ...JSON.stringify(r.config, null, 2)
            .split('\n')
            .map((l) => `    ${l}`),
        ];
        ctx.stdout(lines.join('\n'));
        return 0;
      }
      case 'export': {
        const { values, positionals } = parse(
          rest,
          {
            checkpoints: { type: 'string', default: 'best' },
            'model-only': { type: 'boolean', default: false },
            precision: { type: 'string', default: 'f32' },
            'compact-history': { type: 'boolean', default: false },
          },
          ['ID', 'FILE'],
        );
        const choice = CheckpointChoiceSchema.safeParse(values.checkpoints);
        if (!choice.success)
          throw new CliUsageError(`--checkpoints must be latest, best or all, not "${values.checkpoints}"`);
        const precision = values.precision;
        if (precision !== 'f32' && precision !== 'f16')
          throw new CliUsageError(`--precision must be f32 or f16, not "${String(precision)}"`);
        const modelOnly = Boolean(values['model-only']);
        if (precision === 'f16' && !modelOnly)
          throw new CliUsageError('--precision f16 needs --model-only (a run resumes from f32 weights)');
        const [id, file] = positionals;
        const out = withStore(ctx, (s) =>
          s.exportRun(id, file, {
            checkpoints: choice.data,
            transformCheckpoint: modelOnly ? (ck) => modelOnlyCheckpoint(ck, { precision }) : undefined,
            compactHistory: Boolean(values['compact-history']),
          }),
        );
        if (ctx.json) ctx.stdout(JSON.stringify({ runId: id, ...out }));
        else ctx.stdout(`exported run ${id} to ${out.file} (${(out.bytes / 1024).toFixed(1)} KiB)`);
        return 0;
      }
      case 'import': {
        const { positionals } = parse(rest, {}, ['FILE']);
        const run = withStore(ctx, (s) => s.importRun(positionals[0]));
        if (ctx.json) ctx.stdout(JSON.stringify({ run }));
        else ctx.stdout(`imported run ${run.id} "${run.name}" (${run.status})`);
        return 0;
      }
      case 'average': {
        const { values, positionals } = parse(
          rest,
          {
            checkpoints: { type: 'string' },
            from: { type: 'string' },
            to: { type: 'string' },
            name: { type: 'string' },
          },
          ['ID'],
        );
        if ((values.checkpoints === undefined) === (values.from === undefined))
          throw new CliUsageError(`give either --checkpoints or --from\n\n${USAGE}`);
        if (values.to !== undefined && values.from === undefined)
          throw new CliUsageError(`--to goes with --from\n\n${USAGE}`);
        const iteration = (flag: string, v: string) => {
          if (!/^\d+$/.test(v))
            throw new CliUsageError(`--${flag} must be an iteration (a whole number), not "${v}"`);
          return Number(v);
        };
        const select = values.checkpoints
          ? { ids: values.checkpoints.split(',').map((id) => id.trim()) }
          : {
              fromIteration: iteration('from', values.from!),
              toIteration: values.to === undefined ? undefined : iteration('to', values.to),
            };
        const run = withStore(ctx, (s) =>
          averageRunCheckpoints(s, { runId: positionals[0], select, name: values.name }),
        );
        if (ctx.json) ctx.stdout(JSON.stringify({ run }));
        else
          ctx.stdout(
            `run ${run.id} "${run.name}": evaluate it with npm run nca -- eval --run ${run.id} --checkpoint latest`,
          );
        return 0;
      }
      case 'delete': {
        const { positionals } = parse(rest, {}, ['ID']);
        withStore(ctx, (s) => s.deleteRun(positionals[0]));
        if (ctx.json) ctx.stdout(JSON.stringify({ deleted: positionals[0] }));
        else ctx.stdout(`deleted run ${positionals[0]}`);
        return 0;
      }
      default:
        throw new CliUsageError(sub ? `unknown runs command "${sub}"\n\n${USAGE}` : USAGE);
    }
  },
};
