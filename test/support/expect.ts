/** Shared expectations: the exact Ops Manager error bodies tests compare responses with. */
import { expect } from 'vitest';
import type { TestResponse } from './client.js';

/** HTTP reason phrases, written out independently of the server's own table. */
export const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The exact error body for a status, code, detail and parameters. */
export function errorBody(
  status: number,
  errorCode: string,
  detail: string,
  parameters: readonly string[] = [],
) {
  return { detail, error: status, errorCode, parameters: [...parameters], reason: REASONS[status] };
}

/** Asserts status and the exact error body together (so a failure shows both). */
export function expectError(
  res: TestResponse,
  status: number,
  errorCode: string,
  detail: string,
  parameters: readonly string[] = [],
): void {
  expect({ status: res.status, body: res.json }).toEqual({
    status,
    body: errorBody(status, errorCode, detail, parameters),
  });
}

/** The body of 401 USER_UNAUTHORIZED: authenticated, but not allowed. */
export const USER_UNAUTHORIZED = errorBody(
  401,
  'USER_UNAUTHORIZED',
  'Current user is not authorized to perform this action.',
);

/** Asserts 401 USER_UNAUTHORIZED, which carries no digest challenge. */
export function expectUnauthorized(res: TestResponse): void {
  expect({ status: res.status, body: res.json }).toEqual({ status: 401, body: USER_UNAUTHORIZED });
  expect(res.headers['www-authenticate']).toBeUndefined();
}

/** The body of a digest failure (sent with a challenge), exactly as Ops Manager sends it. */
export const CHALLENGE_BODY = {
  detail: 'You are not authorized for this resource.',
  error: 401,
  reason: 'Unauthorized',
};
