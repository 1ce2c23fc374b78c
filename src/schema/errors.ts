/**
 * The closed error catalog: every Ops Manager error code pakman can answer with, its HTTP status and
 * detail template. `docs/errors.md` is checked against this table by a test.
 */

/** One catalog entry: status, and a detail template whose `{}` holes take the parameters in order. */
export interface ErrorSpec {
  readonly status: number;
  readonly detail: string;
}

export const ERROR_CATALOG = {
  USER_UNAUTHORIZED: { status: 401, detail: 'Current user is not authorized to perform this action.' },
  IP_ADDRESS_NOT_ON_ACCESS_LIST: {
    status: 403,
    detail: 'IP address {} is not allowed to access this resource.',
  },
  ORG_NOT_FOUND: { status: 404, detail: 'No organization with ID {} exists.' },
  GROUP_NOT_FOUND: { status: 404, detail: 'No group with ID {} exists.' },
  GROUP_NAME_NOT_FOUND: { status: 404, detail: 'No group with name {} exists.' },
  API_KEY_NOT_FOUND: { status: 404, detail: 'No API Key with ID {} exists.' },
  USER_NOT_FOUND: { status: 404, detail: 'No user with ID {} exists.' },
  USERNAME_NOT_FOUND: { status: 404, detail: 'No user with username {} exists.' },
  EVENT_NOT_FOUND: { status: 404, detail: 'No event with ID {} exists.' },
  GLOBAL_ACCESS_LIST_ENTRY_NOT_FOUND: { status: 404, detail: 'No access list entry with ID {} exists.' },
  PATH_PARAM_PARSE_ERROR: {
    status: 400,
    detail: 'Invalid path parameter {}: expected a 24-character hexadecimal ID, got {}.',
  },
  INVALID_PATH_PARAMETER: { status: 400, detail: 'Invalid path parameter {} specified.' },
  RESOURCE_NOT_FOUND: { status: 404, detail: 'Cannot find resource {}.' },
  METHOD_NOT_ALLOWED: { status: 405, detail: 'Method {} is not allowed on {}.' },
  INVALID_JSON: { status: 400, detail: 'Received JSON does not match expected format.' },
  INVALID_JSON_ATTRIBUTE: {
    status: 400,
    detail: 'Received JSON for the {} attribute does not match expected format.',
  },
  MISSING_ATTRIBUTE: { status: 400, detail: 'The required attribute {} was not specified.' },
  INVALID_ATTRIBUTE: { status: 400, detail: 'Invalid attribute {} specified.' },
  ATTRIBUTE_READ_ONLY: {
    status: 400,
    detail: 'The attribute {} is read-only and cannot be changed by the user.',
  },
  INVALID_ENUM_VALUE: { status: 400, detail: 'An invalid enumeration value {} was specified.' },
  INVALID_QUERY_PARAMETER: { status: 400, detail: 'Invalid query parameter {} specified.' },
  ROLE_NEEDS_GROUP_ID: { status: 400, detail: 'Group-specific role {} requires a group ID.' },
  ROLE_NEEDS_ORG_ID: { status: 400, detail: 'Organization-specific role {} requires an organization ID.' },
  CANNOT_ADD_GLOBAL_ROLE: { status: 403, detail: 'Adding a global role is not supported.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, detail: 'Send the request body as application/json.' },
  REQUEST_TOO_LARGE: { status: 413, detail: 'The request body exceeds {} bytes.' },
  REQUEST_TIMEOUT: { status: 408, detail: 'The request did not arrive in time.' },
  REQUEST_HEADERS_TOO_LARGE: { status: 431, detail: "The request's headers exceed {} bytes." },
  MALFORMED_REQUEST: { status: 400, detail: 'The request is not well-formed HTTP/1.1.' },
  BAD_ACCESS_LIST_ADD_REQUEST: {
    status: 400,
    detail: 'Should not specify both the IP address and the CIDR block.',
  },
  DUPLICATE_ADDRESSES_IN_INPUT: {
    status: 400,
    detail: 'Two or more of the IP addresses being added to the access list are the same.',
  },
  API_KEY_ACCESS_LIST_NOT_FOUND: {
    status: 404,
    detail: 'The specified IP address does not exist in the corresponding API key access list.',
  },
  CANNOT_REMOVE_CALLER_FROM_ACCESS_LIST: {
    status: 400,
    detail: "Cannot remove caller's IP address {} from access list.",
  },
  CANNOT_REMOVE_CALLER_FROM_GLOBAL_ACCESS_LIST: {
    status: 400,
    detail: "Cannot remove caller's IP address {} from the global access list.",
  },
  API_KEY_ACCESS_LIST_ACCESS_DENIED: {
    status: 400,
    detail: 'API Key access lists are only accessible by the API Key or by a user administrator.',
  },
  DUPLICATE_GLOBAL_ACCESS_LIST_ENTRY: {
    status: 409,
    detail: 'The address {} is already on the global access list.',
  },
  USER_ALREADY_EXISTS: { status: 409, detail: 'A user with username {} already exists.' },
  INVITATION_ONLY_MODE_OR_LDAP: {
    status: 403,
    detail: 'Forbidden when either in invitation mode or using an LDAP backend.',
  },
  GROUP_ALREADY_EXISTS: { status: 409, detail: 'A group with name "{}" already exists.' },
  DUPLICATE_ORG_NAME: { status: 409, detail: 'An organization with name "{}" already exists.' },
  CANNOT_DELETE_ORG_WITH_PROJECTS: {
    status: 400,
    detail: 'Cannot delete organization {} while it has projects.',
  },
  API_KEY_EXPIRY_EXCEEDS_POLICY: {
    status: 400,
    detail: "Invalid attribute {}: the organization's API keys may live at most {} seconds.",
  },
  API_KEY_ROTATION_IN_PROGRESS: {
    status: 409,
    detail: 'API Key {} is being rotated; rotate it again once its previous private key expires at {}.',
  },
  RATE_LIMIT_NOT_FOUND: { status: 404, detail: 'No rate limit is set for {}.' },
  RATE_LIMITED: { status: 429, detail: 'Resource {} is limited to {} requests every {} minutes.' },
  CONSOLE_SIGN_IN_FAILED: { status: 401, detail: 'The username or password is incorrect.' },
  CONSOLE_SIGN_IN_LOCKED: {
    status: 429,
    detail: 'Too many failed sign-ins for {}; try again in {} seconds.',
  },
  CONSOLE_CSRF_TOKEN_INVALID: {
    status: 403,
    detail: "A change made with a console session needs the session's X-CSRF-Token header.",
  },
  SERVICE_UNAVAILABLE: { status: 503, detail: 'The service is temporarily unavailable. Try again shortly.' },
  UNEXPECTED_ERROR: { status: 500, detail: 'Unexpected error.' },
} as const satisfies Record<string, ErrorSpec>;

/** Every error code pakman can return. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** HTTP reason phrases for the statuses the catalog uses. */
export const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Fills a detail template's `{}` holes with the parameters, in order. */
export function formatDetail(template: string, parameters: readonly string[]): string {
  let i = 0;
  return template.replace(/\{\}/g, () => parameters[i++] ?? '');
}

/** The wire body of an Ops Manager error, fields in alphabetical order. */
export interface ErrorBody {
  detail: string;
  error: number;
  errorCode: ErrorCode;
  parameters: string[];
  reason: string;
}

/** A typed API error: thrown by services and hooks, turned into a body only by the error handler. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly parameters: string[];
  readonly status: number;
  /** Extra response headers (Allow, Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * @param suffix a further sentence appended to the detail (the public-key hint on malformed key ids).
   */
  constructor(
    code: ErrorCode,
    parameters: readonly (string | number)[] = [],
    headers: Record<string, string> = {},
    suffix = '',
  ) {
    const params = parameters.map(String);
    const spec: ErrorSpec = ERROR_CATALOG[code];
    super(formatDetail(spec.detail, params) + suffix);
    this.name = 'ApiError';
    this.code = code;
    this.parameters = params;
    this.status = spec.status;
    this.headers = headers;
  }

  /** The alphabetical wire body. */
  toBody(): ErrorBody {
    return {
      detail: this.message,
      error: this.status,
      errorCode: this.code,
      parameters: this.parameters,
      reason: REASONS[this.status] ?? 'Error',
    };
  }
}

/** The exact body of a digest-authentication failure (Ops Manager sends no errorCode here). */
export const UNAUTHORIZED_BODY = {
  detail: 'You are not authorized for this resource.',
  error: 401,
  reason: 'Unauthorized',
};
