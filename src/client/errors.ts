/** Typed errors of the SDK: what the API answered, or why no answer came. */
import type { ErrorCode } from '../schema/errors.js';

/** An error code the server sent: one of pakman's catalog, or any other Ops Manager code. */
export type ApiErrorCode = ErrorCode | (string & {});

/** A non-2xx answer of the API, with the fields of the Ops Manager error body. */
export class PakmanApiError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** The body's `errorCode`; null when the server sent none (digest failures, non-JSON bodies). */
  readonly errorCode: ApiErrorCode | null;
  /** The body's `detail`, or the HTTP reason when there was no error body. */
  readonly detail: string;
  /** The values substituted into `detail`. */
  readonly parameters: readonly string[];
  /** The HTTP reason phrase. */
  readonly reason: string;
  /**
   * Seconds the server asks to wait before trying again (`Retry-After`: 429 `RATE_LIMITED`, a console
   * sign-in lockout); null when it sent none.
   */
  readonly retryAfter: number | null;
  /** The method and URL that failed. */
  readonly request: { method: string; url: string };

  constructor(
    init: {
      status: number;
      errorCode: string | null;
      detail: string;
      parameters: readonly string[];
      reason: string;
      retryAfter?: number | null;
    },
    request: { method: string; url: string },
  ) {
    super(`${init.errorCode ?? `${init.status} ${init.reason}`}: ${init.detail}`);
    this.name = 'PakmanApiError';
    this.status = init.status;
    this.errorCode = init.errorCode;
    this.detail = init.detail;
    this.parameters = init.parameters;
    this.reason = init.reason;
    this.retryAfter = init.retryAfter ?? null;
    this.request = request;
  }

  /**
   * Builds the error from a response's status, body text (tolerates empty or non-JSON bodies) and headers
   * (for `Retry-After`, in seconds; an HTTP date is not read).
   */
  static fromResponse(
    status: number,
    statusText: string,
    text: string,
    request: { method: string; url: string },
    headers?: Headers,
  ): PakmanApiError {
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
      // envelope=true wraps the error body in `content`.
      if (body.content && typeof body.content === 'object') body = body.content as Record<string, unknown>;
    } catch {
      // Not JSON (a proxy's HTML page, say): fall back to the status line.
    }
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const reason = str(body.reason) ?? statusText ?? '';
    const retryAfter = /^[0-9]{1,10}$/.exec(headers?.get('retry-after')?.trim() ?? '');
    return new PakmanApiError(
      {
        status,
        errorCode: str(body.errorCode) ?? null,
        detail: str(body.detail) ?? (text.trim().slice(0, 200) || reason || `HTTP ${status}`),
        parameters: Array.isArray(body.parameters) ? body.parameters.map(String) : [],
        reason,
        retryAfter: retryAfter ? Number(retryAfter[0]) : null,
      },
      request,
    );
  }
}

/** The request never got an HTTP answer: connection refused, DNS failure, TLS error or timeout. */
export class PakmanConnectionError extends Error {
  /** The method and URL that failed. */
  readonly request: { method: string; url: string };

  constructor(message: string, request: { method: string; url: string }, cause?: unknown) {
    super(message, { cause });
    this.name = 'PakmanConnectionError';
    this.request = request;
  }
}
