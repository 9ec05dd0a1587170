/** Which view is showing. Kept in the URL hash so reloads and the back button work. */
export type ViewName = 'runs' | 'new' | 'run' | 'playground' | 'compare' | 'datasets' | 'settings';

export interface Route {
  view: ViewName;
  /** run id for 'run' and 'playground'; comma-separated ids for 'compare' */
  arg?: string;
}

function parse(hash: string): Route {
  const [view, arg] = hash.replace(/^#\/?/, '').split('/');
  const known: ViewName[] = ['runs', 'new', 'run', 'playground', 'compare', 'datasets', 'settings'];
  return known.includes(view as ViewName)
    ? { view: view as ViewName, arg: arg ? decodeURIComponent(arg) : undefined }
    : { view: 'runs' };
}

export const route = $state<Route>(parse(typeof location === 'undefined' ? '' : location.hash));

export function go(view: ViewName, arg?: string): void {
  location.hash = arg ? `#/${view}/${encodeURIComponent(arg)}` : `#/${view}`;
}

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => Object.assign(route, { arg: undefined }, parse(location.hash)));
}
