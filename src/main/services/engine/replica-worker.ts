/** Worker entry of a data-parallel replica: see replica.ts. */
import { parentPort } from 'node:worker_threads';
import { workerPayload } from '../../util/worker-data.ts';
import { initBackend } from './backends.ts';
import { LocalReplica, type EvalRequest, type GradRequest, type ReplicaSetup } from './replica.ts';

const setup = workerPayload<ReplicaSetup>();
const port = parentPort!;
let replica: LocalReplica | null = null;
const ready = (async () => {
  await initBackend(setup.backend === 'auto' ? 'wasm' : setup.backend);
  replica = new LocalReplica(setup);
})();

port.on(
  'message',
  async (m: { type: 'ready' } | { type: 'grad'; req: GradRequest } | { type: 'eval'; req: EvalRequest }) => {
    try {
      await ready;
      if (m.type === 'ready') return port.postMessage({ ok: true, value: null });
      if (m.type === 'grad') {
        const r = await replica!.grad(m.req);
        return port.postMessage({ ok: true, value: r }, [r.grads.buffer, r.states.buffer] as ArrayBuffer[]);
      }
      const r = await replica!.evaluate(m.req);
      return port.postMessage({ ok: true, value: r }, [r.states.buffer] as ArrayBuffer[]);
    } catch (e) {
      port.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
    }
  },
);
