/** Hash routing (`#/orgs/…`): the server serves one page; nothing secret ever goes into a URL. */
import { useEffect, useState } from 'preact/hooks';

/** The address's route as path segments, read now (not the state a component last rendered). */
export function currentRoute(): string[] {
  return location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
}

/** The current route's path segments, following `hashchange`. */
export function useRoute(): string[] {
  const read = currentRoute;
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => {
      const next = read();
      setRoute((prev) => (prev.join('/') === next.join('/') ? prev : next));
    };
    addEventListener('hashchange', on);
    // The hash may have changed between the first render and this subscription (a navigation right after
    // sign-in): that hashchange was missed, so read it once more now.
    on();
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** Goes to a console route. */
export function go(path: string): void {
  location.hash = `#${path}`;
}

/** A link to a console route. */
export function href(path: string): string {
  return `#${path}`;
}
