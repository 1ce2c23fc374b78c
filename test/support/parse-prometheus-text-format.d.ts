/** Types for the untyped parse-prometheus-text-format package (its default export only). */
declare module 'parse-prometheus-text-format' {
  /** Parses Prometheus text exposition into metric families. */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
