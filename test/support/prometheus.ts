/** Scrapes a Prometheus endpoint and parses it with a third-party parser (parse-prometheus-text-format). */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { request } from 'urllib';

/** One sample: labels and value (counters, gauges) or buckets/count/sum (histograms). */
export interface Sample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

/** A metric family as the parser gives it. */
export interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

/** A scrape: the raw text, its content type and the parsed families by name. */
export interface Scrape {
  text: string;
  contentType: string;
  families: Map<string, Family>;
  /** The value of the sample of `name` whose labels include `labels` (0 when there is none). */
  value(name: string, labels?: Record<string, string>): number;
  /**
   * The `_count` of the histogram series of `name` with exactly `labels` (0 when there is none). Read from
   * the text: the parser folds every series of a histogram into one (it handles unlabelled ones only).
   */
  histogramCount(name: string, labels: Record<string, string>): number;
}

function matches(s: Sample, labels: Record<string, string>): boolean {
  return Object.entries(labels).every(([k, v]) => s.labels?.[k] === v);
}

/** GET `url` and parse it. */
export async function scrape(url: string): Promise<Scrape> {
  const res = await request(url, { dataType: 'text', timeout: 20_000, retry: 0 });
  if (res.status !== 200) throw new Error(`scrape ${url}: ${res.status}`);
  const text = String(res.data);
  const families = new Map<string, Family>();
  for (const f of parsePrometheusTextFormat(text) as Family[]) families.set(f.name, f);
  const find = (name: string, labels: Record<string, string>) =>
    families.get(name)?.metrics.find((s) => matches(s, labels));
  return {
    text,
    contentType: String(res.headers['content-type']),
    families,
    value: (name, labels = {}) => Number(find(name, labels)?.value ?? 0),
    histogramCount: (name, labels) => {
      const set = Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      const line = text.split('\n').find((l) => l.startsWith(`${name}_count{${set}} `));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
    },
  };
}
