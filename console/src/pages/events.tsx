/** Org or project activity, filtered by type and date on the server. */
import { useState } from 'preact/hooks';
import { api, type ListPage } from '../api.js';
import { ErrorNote, Pager, TextField, useLoad } from '../ui.js';
import type { PageProps } from './common.js';

interface Event {
  id: string;
  created: string;
  eventTypeName: string;
  username?: string;
  publicKey?: string;
  targetPublicKey?: string;
  targetUsername?: string;
  remoteAddress?: string;
  whitelistEntry?: string;
}

/** The event types pakman records (src/server/domain/audit.ts). */
const TYPES = [
  'API_KEY_CREATED',
  'API_KEY_DELETED',
  'API_KEY_DESCRIPTION_CHANGED',
  'API_KEY_ROLES_CHANGED',
  'API_KEY_ADDED_TO_GROUP',
  'API_KEY_REMOVED_FROM_GROUP',
  'API_KEY_ACCESS_LIST_ENTRY_ADDED',
  'API_KEY_ACCESS_LIST_ENTRY_DELETED',
  'GLOBAL_API_KEY_CREATED',
  'GLOBAL_API_KEY_DELETED',
  'GLOBAL_API_KEY_DESCRIPTION_CHANGED',
  'GLOBAL_API_KEY_ROLES_CHANGED',
  'GLOBAL_ACCESS_LIST_ENTRY_ADDED',
  'GLOBAL_ACCESS_LIST_ENTRY_UPDATED',
  'GLOBAL_ACCESS_LIST_ENTRY_DELETED',
  'ORG_CREATED',
  'ORG_RENAMED',
  'ORG_DELETED',
  'GROUP_CREATED',
  'GROUP_DELETED',
  'JOINED_ORG',
  'JOINED_GROUP',
  'USER_CREATED',
  'USER_UPDATED',
  'USER_DELETED',
  'USER_ROLES_CHANGED',
  'USER_API_KEY_CREATED',
  'USER_API_KEYS_REVOKED',
];

/** Events of an org (`scope` orgs) or a project (`scope` groups). */
export function EventsPage({ scope, id }: PageProps & { scope: 'orgs' | 'groups'; id: string }) {
  const [type, setType] = useState('');
  const [minDate, setMin] = useState('');
  const [maxDate, setMax] = useState('');
  const [applied, setApplied] = useState('');
  const [pageNum, setPageNum] = useState(1);
  const q = `itemsPerPage=100&pageNum=${pageNum}${applied}`;
  const list = useLoad(() => api<ListPage<Event>>('GET', `/${scope}/${id}/events?${q}`), [scope, id, q]);
  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">{scope === 'orgs' ? 'Organization events' : 'Project events'}</h1>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const p = new URLSearchParams();
          if (type) p.set('eventType', type);
          if (minDate) p.set('minDate', minDate);
          if (maxDate) p.set('maxDate', maxDate);
          const s = p.toString();
          setApplied(s ? `&${s}` : '');
          setPageNum(1);
        }}
      >
        <label for="event-type">Type</label>
        <select
          id="event-type"
          value={type}
          onChange={(e) => setType((e.currentTarget as HTMLSelectElement).value)}
        >
          <option value="">All types</option>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <TextField id="event-min" label="From" type="date" value={minDate} onValue={setMin} />
        <TextField id="event-max" label="To" type="date" value={maxDate} onValue={setMax} />
        <button type="submit" class="primary">
          Filter
        </button>
      </form>
      <ErrorNote error={list.error} />
      {list.data && (
        <>
          <div class="table-wrap">
            <table data-testid="events-table">
              <caption class="sr-only">Events</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Type</th>
                  <th scope="col">By</th>
                  <th scope="col">Target</th>
                  <th scope="col">From</th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((e) => (
                  <tr key={e.id}>
                    <td>{e.created}</td>
                    <td>{e.eventTypeName}</td>
                    <td>{e.username ?? e.publicKey ?? ''}</td>
                    <td>{e.targetPublicKey ?? e.targetUsername ?? e.whitelistEntry ?? ''}</td>
                    <td>{e.remoteAddress ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {list.data.results.length === 0 && <p>No events match.</p>}
          <Pager pageNum={pageNum} itemsPerPage={100} totalCount={list.data.totalCount} onPage={setPageNum} />
        </>
      )}
    </section>
  );
}
