import { PersonaError } from '../errors.js';

/**
 * The `type` of an OpenAI-style error body.
 *
 * @example const type: ApiErrorType = 'rate_limit_error';
 */
export type ApiErrorType =
  'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'conflict_error' | 'rate_limit_error' | 'server_error';

/**
 * The JSON body of every error response: `{ error: { message, type, param, code } }`, as OpenAI sends.
 *
 * @example const body: ErrorBody = new ApiError(429, 'Busy.', 'rate_limit_error').body();
 */
export interface ErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

/**
 * An HTTP error with an OpenAI-style body; thrown anywhere in a route, turned into the response by the
 * app's error handler.
 *
 * @example throw new ApiError(404, `No persona named "calm".`, 'not_found_error', { param: 'persona', code: 'persona_not_found' });
 */
export class ApiError extends PersonaError {
  readonly param: string | null;
  readonly code: string | null;

  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 408 | 409 | 413 | 415 | 429 | 500 | 503 | 507,
    message: string,
    readonly type: ApiErrorType = 'invalid_request_error',
    opts: { param?: string; code?: string } = {},
  ) {
    super(message);
    this.param = opts.param ?? null;
    this.code = opts.code ?? null;
  }

  /** The response body for this error. */
  body(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}
