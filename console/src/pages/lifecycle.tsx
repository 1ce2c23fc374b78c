/**
 * A key's lifecycle on its page (pakman extensions, docs/api.md "Key lifecycle"): its expiry (set, removed,
 * with the org's cap as a hint), rotation with a grace period (the new private key shown once), its last use
 * and a usage chart; and an org's key policy.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type ApiKey, type ApiKeyPolicy, api, type KeyUsage } from '../api.js';
import {
  ConfirmButton,
  duration,
  ErrorNote,
  Expiry,
  RoleList,
  ShowOnce,
  TextField,
  useAction,
  useLoad,
  utc,
} from '../ui.js';

/** A datetime-local value read as UTC: `2027-01-31T12:00` → `2027-01-31T12:00:00Z`. */
function inputToIso(value: string): string {
  return value.length === 16 ? `${value}:00Z` : `${value}Z`;
}

/** An org's key policy, or undefined for a global key (no org, no cap). */
function usePolicy(orgId: string | null) {
  return useLoad(
    () => (orgId ? api<ApiKeyPolicy>('GET', `/orgs/${orgId}/apiKeyPolicy`) : Promise.resolve(undefined)),
    [orgId],
  );
}

/** A key's expiry: shown; set (a UTC date and time) or removed by whoever may change the key. */
function ExpirySection(props: {
  keyPath: string;
  k: ApiKey;
  orgId: string | null;
  canWrite: boolean;
  onChanged: () => void;
}) {
  const { k } = props;
  const cap = usePolicy(props.orgId).data?.maxKeyLifetimeSeconds ?? null;
  const [value, setValue] = useState('');
  const [saved, setSaved] = useState('');
  const save = useAction();
  useEffect(() => setValue(k.expiresAt?.slice(0, 19) ?? ''), [k.expiresAt]);
  const change = async (expiresAt: string | null, done: string) => {
    setSaved('');
    if (await save.run(() => api('PATCH', props.keyPath, { expiresAt }))) {
      setSaved(done);
      props.onChanged();
    }
  };
  return (
    <section aria-labelledby="expiry-title">
      <h2 id="expiry-title">Expiry</h2>
      <p id="expiry-hint" class="muted">
        From its expiry on, the key is refused like a wrong key; it still lists and reads.
        {cap !== null &&
          ` The organization's key policy: keys live at most ${duration(cap)}, so an expiry may be at most ${duration(cap)} from now and cannot be removed.`}
      </p>
      {props.canWrite && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            change(inputToIso(value), 'Expiry saved.');
          }}
        >
          <TextField
            id="expires-at"
            label="Expires at (UTC)"
            type="datetime-local"
            step={1}
            required
            aria-describedby="expiry-hint expiry-error"
            value={value}
            onValue={setValue}
          />
          <button type="submit" class="primary" disabled={save.busy}>
            Set expiry
          </button>
          {k.expiresAt && cap === null && (
            <button type="button" disabled={save.busy} onClick={() => change(null, 'Expiry removed.')}>
              Remove expiry
            </button>
          )}
          <span aria-live="polite">{saved}</span>
          <div id="expiry-error">
            <ErrorNote error={save.error} />
          </div>
        </form>
      )}
    </section>
  );
}

/** The grace periods offered for the replaced private key. */
const GRACE: readonly [seconds: number, label: string][] = [
  [0, 'none (at once)'],
  [900, '15 minutes'],
  [3600, '1 hour'],
  [86_400, '1 day'],
  [259_200, '3 days'],
  [604_800, '7 days'],
];

/** Rotation: a grace period for the current private key, then (after asking) the new one. */
function RotateSection({ keyPath, onRotated }: { keyPath: string; onRotated: (k: ApiKey) => void }) {
  const [grace, setGrace] = useState(3600);
  return (
    <section aria-labelledby="rotate-title">
      <h2 id="rotate-title">Rotate private key</h2>
      <p id="rotate-hint" class="muted">
        A new private key replaces the current one; the public key stays. During the grace period both private
        keys work, so clients can move to the new one.
      </p>
      <div class="inline-form">
        <label for="rotate-grace">Grace period</label>
        <select
          id="rotate-grace"
          value={grace}
          aria-describedby="rotate-hint"
          onChange={(e) => setGrace(Number((e.currentTarget as HTMLSelectElement).value))}
        >
          {GRACE.map(([s, label]) => (
            <option key={s} value={s}>
              {label}
            </option>
          ))}
        </select>
        <ConfirmButton
          label="Rotate private key"
          question={
            grace === 0
              ? 'Replace the private key? Clients using the current one stop working at once.'
              : `Replace the private key? The current one keeps working for ${duration(grace)}.`
          }
          onConfirm={async () =>
            onRotated(await api<ApiKey>('POST', `${keyPath}/rotate`, { graceSeconds: grace }))
          }
        />
      </div>
    </section>
  );
}

/**
 * A key page's rotation: `onRotated` for the rotate section, and while a rotation's new private key has
 * not been dismissed, `view` — what the page shows instead of itself (RotatedKey); `reload` afterwards.
 */
export function useRotation(reload: () => void): {
  view: JSX.Element | undefined;
  onRotated: (k: ApiKey) => void;
} {
  const [rotated, setRotated] = useState<ApiKey | undefined>();
  const view = rotated && (
    <RotatedKey
      apiKey={rotated}
      onDone={() => {
        setRotated(undefined);
        reload();
      }}
    />
  );
  return { view, onRotated: setRotated };
}

/** What a key page states first, after any facts of its own: the redacted private key, roles and expiry. */
export function KeyFacts({ k, children }: { k: ApiKey; children?: ComponentChildren }) {
  return (
    <dl class="facts">
      {children}
      <dt>Private key</dt>
      <dd>
        <code>{k.privateKey}</code>
      </dd>
      <dt>Roles</dt>
      <dd>
        <RoleList roles={k.roles} />
      </dd>
      <dt>Expires</dt>
      <dd data-testid="key-expiry">
        <Expiry k={k} />
      </dd>
    </dl>
  );
}

/** After a rotation: the new private key, once, and until when the previous one works. */
export function RotatedKey({ apiKey, onDone }: { apiKey: ApiKey; onDone: () => void }) {
  return (
    <ShowOnce apiKey={apiKey}>
      <p data-testid="grace-end">
        {apiKey.graceEndsAt ? (
          <>
            The previous private key keeps working until{' '}
            <time dateTime={apiKey.graceEndsAt}>{utc(apiKey.graceEndsAt)}</time>, then stops.
          </>
        ) : (
          'The previous private key no longer works.'
        )}
      </p>
      <p>
        <button type="button" class="primary" onClick={onDone}>
          I have saved the private key — done
        </button>
      </p>
    </ShowOnce>
  );
}

const VIEW = { width: 600, height: 120 };

/**
 * Requests per bucket as inline SVG bars (no chart library), named for screen readers by a summary, with
 * every bucket's figure in a visually hidden table.
 */
function UsageChart({ usage }: { usage: KeyUsage }) {
  const hourly = usage.granularity === 'HOURLY';
  const unit = hourly ? 'hour' : 'day';
  const label = (iso: string) => (hourly ? utc(iso).replace(':00 UTC', ' UTC') : iso.slice(0, 10));
  const n = usage.results.length;
  const peak = Math.max(0, ...usage.results.map((b) => b.count));
  const slot = VIEW.width / Math.max(1, n);
  const first = usage.results[0];
  const last = usage.results[n - 1];
  const summary =
    `Requests per ${unit}, ${first ? label(first.start) : ''} to ${last ? label(last.start) : ''}: ` +
    `${usage.total} in all, at most ${peak} in one ${unit}.`;
  return (
    <div class="usage">
      <svg
        class="chart"
        data-testid="usage-chart"
        role="img"
        aria-label={summary}
        viewBox={`0 0 ${VIEW.width} ${VIEW.height}`}
        preserveAspectRatio="none"
        focusable="false"
      >
        {usage.results.map((b, i) => {
          if (b.count === 0) return null;
          const h = Math.max(1.5, (b.count / peak) * VIEW.height);
          return (
            <rect
              key={b.start}
              class="bar"
              x={i * slot + slot * 0.1}
              width={slot * 0.8}
              y={VIEW.height - h}
              height={h}
            >
              <title>{`${label(b.start)}: ${b.count}`}</title>
            </rect>
          );
        })}
      </svg>
      <div class="chart-axis">
        <span>{first && label(first.start)}</span>
        <span>
          peak {peak} per {unit}
        </span>
        <span>{last && label(last.start)}</span>
      </div>
      <table class="sr-only" data-testid="usage-table">
        <caption>Requests per {unit} (UTC)</caption>
        <thead>
          <tr>
            <th scope="col">{hourly ? 'Hour' : 'Day'}</th>
            <th scope="col">Requests</th>
          </tr>
        </thead>
        <tbody>
          {usage.results.map((b) => (
            <tr key={b.start}>
              <td>{label(b.start)}</td>
              <td>{b.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The key's last use and its requests per hour (last 24 hours) or per day (last 30 days). */
function UsageSection({ keyPath }: { keyPath: string }) {
  const [granularity, setGranularity] = useState<KeyUsage['granularity']>('HOURLY');
  const usage = useLoad(
    () => api<KeyUsage>('GET', `${keyPath}/usage?granularity=${granularity}`),
    [keyPath, granularity],
  );
  // The answer for the period chosen: while the other period's is still on hand, none.
  const u = usage.data?.granularity === granularity ? usage.data : undefined;
  const lastUsed = usage.data?.lastUsed;
  const choice = (g: KeyUsage['granularity'], text: string) => (
    <button type="button" aria-pressed={granularity === g} onClick={() => setGranularity(g)}>
      {text}
    </button>
  );
  return (
    <section aria-labelledby="usage-title" aria-busy={usage.loading}>
      <h2 id="usage-title">Usage</h2>
      <dl class="facts">
        <dt>Last used</dt>
        <dd data-testid="last-used">
          {lastUsed ? (
            <time dateTime={lastUsed}>{utc(lastUsed)}</time>
          ) : (
            <span class="muted">{usage.data ? 'never' : '…'}</span>
          )}
        </dd>
        <dt>Requests</dt>
        <dd data-testid="usage-total">
          {u ? `${u.total} in the last ${granularity === 'HOURLY' ? '24 hours' : '30 days'}` : '…'}
        </dd>
      </dl>
      <div class="toolbar">
        <fieldset class="plain">
          <legend class="sr-only">Usage period</legend>
          {choice('HOURLY', 'Hourly, last 24 hours')}
          {choice('DAILY', 'Daily, last 30 days')}
        </fieldset>
        <button type="button" onClick={usage.reload}>
          Refresh
        </button>
      </div>
      <ErrorNote error={usage.error} />
      {u && <UsageChart usage={u} />}
    </section>
  );
}

/** A key page's lifecycle sections: expiry, rotation (for whoever may change the key) and usage. */
export function KeyLifecycle(props: {
  keyPath: string;
  k: ApiKey;
  orgId: string | null;
  canWrite: boolean;
  onChanged: () => void;
  onRotated: (k: ApiKey) => void;
}) {
  return (
    <>
      <ExpirySection
        keyPath={props.keyPath}
        k={props.k}
        orgId={props.orgId}
        canWrite={props.canWrite}
        onChanged={props.onChanged}
      />
      {props.canWrite && <RotateSection keyPath={props.keyPath} onRotated={props.onRotated} />}
      <UsageSection keyPath={props.keyPath} />
    </>
  );
}

/** The units the key-policy form offers. */
const LIFETIME_UNITS: readonly [seconds: number, name: string][] = [
  [86_400, 'days'],
  [3600, 'hours'],
  [60, 'minutes'],
];

/** An org's key policy: the cap on its keys' lifetimes, shown to all, changed by whoever may change keys. */
export function KeyPolicySection({ orgId, canWrite }: { orgId: string; canWrite: boolean }) {
  const policy = usePolicy(orgId);
  const [amount, setAmount] = useState('');
  const [unit, setUnit] = useState(86_400);
  const [saved, setSaved] = useState('');
  const save = useAction();
  const cap = policy.data?.maxKeyLifetimeSeconds ?? null;
  const change = async (maxKeyLifetimeSeconds: number | null, done: string) => {
    setSaved('');
    if (await save.run(() => api('PATCH', `/orgs/${orgId}/apiKeyPolicy`, { maxKeyLifetimeSeconds }))) {
      setSaved(done);
      setAmount('');
      policy.reload();
    }
  };
  return (
    <section aria-labelledby="policy-title">
      <h2 id="policy-title">Key policy</h2>
      <ErrorNote error={policy.error} />
      <p data-testid="key-policy">
        {!policy.data
          ? '…'
          : cap === null
            ? 'No cap on key lifetimes: a key expires only when given an expiry.'
            : `Keys live at most ${duration(cap)}: a key created without an expiry expires ${duration(cap)} after its creation. Existing keys keep their expiry.`}
      </p>
      {canWrite && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            change(Math.round(Number(amount) * unit), 'Policy saved.');
          }}
        >
          <TextField
            id="policy-amount"
            label="Maximum key lifetime"
            type="number"
            required
            step="any"
            aria-describedby="policy-error"
            value={amount}
            onValue={setAmount}
          />
          <label for="policy-unit" class="sr-only">
            Unit
          </label>
          <select
            id="policy-unit"
            value={unit}
            onChange={(e) => setUnit(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {LIFETIME_UNITS.map(([s, name]) => (
              <option key={s} value={s}>
                {name}
              </option>
            ))}
          </select>
          <button type="submit" class="primary" disabled={save.busy}>
            Save policy
          </button>
          {cap !== null && (
            <button type="button" disabled={save.busy} onClick={() => change(null, 'Cap removed.')}>
              Remove cap
            </button>
          )}
          <span aria-live="polite">{saved}</span>
          <div id="policy-error">
            <ErrorNote error={save.error} />
          </div>
        </form>
      )}
    </section>
  );
}
