/** Output of the client commands: aligned tables by default, JSON on request, progress on a TTY only. */

/** `--output` values. */
export type OutputFormat = 'table' | 'json';

/** One table column: a header and how to render a row's cell. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

const cell = (v: string | number | boolean | null | undefined) =>
  v === null || v === undefined || v === '' ? '-' : String(v).replace(/[\r\n\t]+/g, ' ');

/** Rows as an aligned table: upper-case headers, columns separated by three spaces, no trailing blanks. */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = [
    columns.map((c) => c.header.toUpperCase()),
    ...rows.map((r) => columns.map((c) => cell(c.value(r)))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return `${cells.map((line) => line.map((v, i) => (i === line.length - 1 ? v : v.padEnd(widths[i]!))).join('   ')).join('\n')}\n`;
}

/** Writes to stdout. */
export function out(text: string): void {
  process.stdout.write(text);
}

/** Writes a value as indented JSON (valid for jq, full objects). */
export function printJson(value: unknown): void {
  out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a list in the chosen format: the list object as JSON, or its rows as a table. */
export function printList<T>(
  format: OutputFormat,
  columns: readonly Column<T>[],
  list: { results: T[]; totalCount: number; links?: unknown },
): void {
  if (format === 'json') printJson(list);
  else out(renderTable(columns, list.results));
}

/** Prints one entity: JSON, or a one-row table. */
export function printEntity<T>(format: OutputFormat, columns: readonly Column<T>[], entity: T): void {
  if (format === 'json') printJson(entity);
  else out(renderTable(columns, [entity]));
}

/** Prints a confirmation message, or `json` as JSON when the output is JSON (so scripts can parse it). */
export function printDone(format: OutputFormat, message: string, json: unknown): void {
  if (format === 'json') printJson(json);
  else out(`${message}\n`);
}

/** A "fetched n of total" line on stderr, redrawn in place; silent unless stderr is a terminal. */
export class Progress {
  readonly #enabled = process.stderr.isTTY === true;
  readonly #label: string;

  constructor(label: string) {
    this.#label = label;
  }

  /** Redraws the line. */
  update(fetched: number, total: number): void {
    if (this.#enabled) process.stderr.write(`\r${this.#label}: fetched ${fetched} of ${total}…\u001b[K`);
  }

  /** Clears the line. */
  done(): void {
    if (this.#enabled) process.stderr.write('\r\u001b[K');
  }
}
