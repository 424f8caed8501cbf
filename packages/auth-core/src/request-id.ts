/**
 * A request id a client sent (`X-Request-Id`), kept only when it is at most 128 letters, digits
 * and `_ . : -`: it goes into log lines and error bodies, so anything else (newlines, quotes, a
 * megabyte) is dropped and a fresh id used instead.
 */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** `value` when it is an acceptable request id, else `undefined`. */
export function acceptableRequestId(value: string | undefined): string | undefined {
  return value !== undefined && REQUEST_ID.test(value) ? value : undefined;
}
