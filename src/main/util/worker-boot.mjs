// Worker bootstrap for TypeScript entries: register tsx, then load the real entry.
// The entry reads its own data with `workerPayload()` from ./worker-data.ts.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__entry);
