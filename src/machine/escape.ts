/**
 * Escaping text echoed from input (no imports: the command front ends load it before the
 * rest of the model).
 */

/**
 * `s` with every control character (C0, DEL, C1: the ESC that starts a terminal escape
 * sequence, newlines, tabs) written as an escape (`\n`, `\u001b`), so that text echoed from
 * input stays on its line and cannot colour the terminal or fake a report line.
 */
export function escapeControl(s: string): string {
  return CONTROL.test(s) ? s.replace(CONTROL_ALL, escapeOne) : s;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(ch: string): string {
  return SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
