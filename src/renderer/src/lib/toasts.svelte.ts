/** Transient messages: every API error a view does not show inline ends up here, in plain words. */
import { ApiCallError } from './api';

export interface Toast {
  id: number;
  kind: 'error' | 'info' | 'success';
  title: string;
  detail?: string;
}

let nextId = 1;
export const toasts = $state<Toast[]>([]);

export function dismiss(id: number): void {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

export function notify(
  kind: Toast['kind'],
  title: string,
  detail?: string,
  ms = kind === 'error' ? 8000 : 4000,
): void {
  const id = nextId++;
  toasts.push({ id, kind, title, detail });
  setTimeout(() => dismiss(id), ms);
}

export function showError(err: unknown, context?: string): void {
  if (err instanceof ApiCallError) {
    notify(
      'error',
      context ?? `Could not ${err.method.replace('.', ' ')}`,
      [err.message, ...err.issues.slice(1)].join('\n'),
    );
  } else {
    notify('error', context ?? 'Something went wrong', err instanceof Error ? err.message : String(err));
  }
}
