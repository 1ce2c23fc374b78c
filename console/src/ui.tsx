/** Shared pieces of the console's pages: loading, errors, role pickers, confirmations, the show-once key. */
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type AccessEntry, type ApiKey, api, entryBody, entryPath, type ListPage } from './api.js';
import { roleLabel } from './roles.js';

/**
 * A labelled input whose value is state: `<label for=id>` and the `<input id=id>` it names, the input's
 * other attributes as given (type, required, maxLength, aria-describedby…).
 */
export function TextField({
  id,
  label,
  value,
  onValue,
  ...attrs
}: {
  id: string;
  label: string;
  value: string;
  onValue: (v: string) => void;
} & Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onInput' | 'label'>) {
  return (
    <>
      <label for={id}>{label}</label>
      <input {...attrs} id={id} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </>
  );
}

/** An error's message, shown where it happened. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}

/** Loads data for a page; `reload` reads it again. A stale answer (deps changed meanwhile) is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const reload = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error: unknown) => mine === seq.current && setState({ error, loading: false }),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/** Runs a change: busy while it runs, its error kept to show beside the control. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async (fn: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}

/** An ISO-8601 UTC time as people read it: `2027-01-31T12:00:00Z` → `2027-01-31 12:00:00 UTC`. */
export function utc(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, ' UTC');
}

const UNITS: readonly [seconds: number, name: string][] = [
  [86_400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/** A number of seconds in the largest unit that divides it: 7776000 → "90 days", 5400 → "90 minutes". */
export function duration(seconds: number): string {
  const [size, name] = UNITS.find(([u]) => seconds % u === 0) ?? [1, 'second'];
  const n = seconds / size;
  return `${n} ${name}${n === 1 ? '' : 's'}`;
}

/** A key's expiry: its date, with an "Expired" badge once it has passed, or "never". */
export function Expiry({ k }: { k: Pick<ApiKey, 'expiresAt' | 'expired'> }) {
  if (!k.expiresAt) return <span class="muted">never</span>;
  const when = <time dateTime={k.expiresAt}>{utc(k.expiresAt)}</time>;
  if (!k.expired) return when;
  return (
    <>
      <span class="badge expired">Expired</span> {when}
    </>
  );
}

/** Role names, human-readable. */
export function RoleList({ roles }: { roles: readonly { roleName: string }[] }) {
  if (roles.length === 0) return <span class="muted">none</span>;
  return <span>{roles.map((r) => roleLabel(r.roleName)).join(', ')}</span>;
}

/** Checkboxes for roles of one scope. */
export function RolePicker(props: {
  legend: string;
  choices: readonly string[];
  value: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
}) {
  return (
    <fieldset class="roles">
      <legend>{props.legend}</legend>
      {props.choices.map((r) => (
        <label key={r}>
          <input
            type="checkbox"
            name="role"
            value={r}
            checked={props.value.has(r)}
            onChange={(e) => {
              const next = new Set(props.value);
              if ((e.currentTarget as HTMLInputElement).checked) next.add(r);
              else next.delete(r);
              props.onChange(next);
            }}
          />{' '}
          {roleLabel(r)}
        </label>
      ))}
    </fieldset>
  );
}

/** A button that asks before it acts, in place (no modal to trap focus in). */
export function ConfirmButton(props: {
  label: string;
  question: string;
  onConfirm: () => Promise<unknown>;
  danger?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const action = useAction();
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button type="button" class={props.danger ? 'danger' : ''} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  return (
    <span class="confirm">
      <span>{props.question}</span>{' '}
      <button
        type="button"
        class="danger"
        ref={confirmRef}
        disabled={action.busy}
        onClick={async () => {
          if (await action.run(props.onConfirm)) setAsking(false);
        }}
      >
        Yes, {props.label.toLowerCase()}
      </button>{' '}
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
      <ErrorNote error={action.error} />
    </span>
  );
}

/** Copies text; falls back to selecting it where the clipboard API is unavailable (plain http). */
async function copy(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input?.select();
    return document.execCommand?.('copy') ?? false;
  }
}

/**
 * A new key's private key, shown this once: it lives only in this component's state (never storage, a URL
 * or a log) and is gone when the page is left.
 */
export function ShowOnce({ apiKey, children }: { apiKey: ApiKey; children?: ComponentChildren }) {
  const input = useRef<HTMLInputElement>(null);
  const title = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState<boolean | undefined>();
  useEffect(() => {
    // The control that led here is gone: keyboard and screen-reader users start at the warning.
    title.current?.focus();
    // Leaving the page (reload, close) would lose the key: the browser asks first.
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, []);
  return (
    <section class="show-once" aria-labelledby="once-title">
      <h2 id="once-title" ref={title} tabIndex={-1}>
        Save the private key
      </h2>
      <p class="warning" role="note">
        Copy and save the private key. The private key will not be displayed again: after you leave this page,
        only its last characters are shown.
      </p>
      <dl class="facts">
        <dt>Public key</dt>
        <dd>
          <code data-testid="public-key">{apiKey.publicKey}</code>
        </dd>
        <dt>
          <label for="private-key">Private key</label>
        </dt>
        <dd class="copy-row">
          <input
            id="private-key"
            ref={input}
            readOnly
            value={apiKey.privateKey}
            autocomplete="off"
            spellcheck={false}
            onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
          />
          <button type="button" onClick={async () => setCopied(await copy(apiKey.privateKey, input.current))}>
            Copy
          </button>
          <span aria-live="polite">
            {copied === true ? 'Copied.' : copied === false ? 'Selected: press Ctrl+C to copy.' : ''}
          </span>
        </dd>
      </dl>
      {children}
    </section>
  );
}

/** An access list: entries with their use, add (with "use my current address") and remove. */
export function AccessListEditor(props: { listPath: string; canWrite: boolean; clientAddress: string }) {
  const list = useLoad(
    () => api<ListPage<AccessEntry>>('GET', `${props.listPath}?itemsPerPage=500`),
    [props.listPath],
  );
  const [value, setValue] = useState('');
  const add = useAction();
  return (
    <section aria-labelledby="acl-title">
      <h2 id="acl-title">Access list</h2>
      <p class="muted">
        {list.data?.totalCount === 0
          ? 'Empty: the key may be used from any address.'
          : 'The key may be used only from these addresses.'}
      </p>
      <ErrorNote error={list.error} />
      {list.data && list.data.results.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Access list entries</caption>
            <thead>
              <tr>
                <th scope="col">Address or block</th>
                <th scope="col">Requests</th>
                <th scope="col">Last used</th>
                <th scope="col">Last address</th>
                {props.canWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.data.results.map((e) => (
                <tr key={e.cidrBlock}>
                  <td>
                    <code>{e.ipAddress ?? e.cidrBlock}</code>
                  </td>
                  <td>{e.count ?? 0}</td>
                  <td>{e.lastUsed ?? <span class="muted">never</span>}</td>
                  <td>{e.lastUsedAddress ?? ''}</td>
                  {props.canWrite && (
                    <td>
                      <ConfirmButton
                        label="Remove"
                        question={`Remove ${e.ipAddress ?? e.cidrBlock}?`}
                        onConfirm={async () => {
                          await api('DELETE', `${props.listPath}/${entryPath(e)}`);
                          list.reload();
                        }}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.canWrite && (
        <form
          class="inline-form"
          onSubmit={async (ev) => {
            ev.preventDefault();
            if (await add.run(() => api('POST', props.listPath, [entryBody(value)]))) {
              setValue('');
              list.reload();
            }
          }}
        >
          <label for="acl-add">IP address or CIDR block (IPv4 or IPv6)</label>
          <input
            id="acl-add"
            value={value}
            placeholder="203.0.113.7 or 2001:db8::/32"
            onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
            aria-describedby="acl-error"
          />
          <button type="button" onClick={() => setValue(props.clientAddress)}>
            Use my current address ({props.clientAddress})
          </button>
          <button type="submit" disabled={add.busy || value.trim() === ''}>
            Add to access list
          </button>
          <div id="acl-error">
            <ErrorNote error={add.error} />
          </div>
        </form>
      )}
    </section>
  );
}

/** Previous / next page controls with the position. */
export function Pager(props: {
  pageNum: number;
  itemsPerPage: number;
  totalCount: number;
  onPage: (n: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(props.totalCount / props.itemsPerPage));
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={props.pageNum <= 1} onClick={() => props.onPage(props.pageNum - 1)}>
        Previous
      </button>
      <span>
        Page {props.pageNum} of {pages} ({props.totalCount} in all)
      </span>
      <button type="button" disabled={props.pageNum >= pages} onClick={() => props.onPage(props.pageNum + 1)}>
        Next
      </button>
    </nav>
  );
}
