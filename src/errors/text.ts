// Text from outside (a claim, a kid, a key server's answer, a URL) on its way into an error
// message, a cause, a warning or the CLI's screen: made inert and bounded.

// C0 controls, DEL, C1 controls, the line and paragraph separators, and the bidirectional
// embeddings, overrides and isolates (Unicode TR9): each can rewrite a terminal or a log viewer's
// line (ESC sequences, OSC 52 clipboard writes, a fake line after a CR, text shown reversed).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- the same, but the line feed
const UNPRINTABLE_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * `text` with every control character, DEL, C1 control and bidirectional override shown as a
 * visible escape (`\u001b`); with `keepNewlines`, line feeds stay (for text whose line breaks are
 * its writer's own, like `JSON.stringify(value, null, 2)`, which escapes those inside strings).
 */
export function printable(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? UNPRINTABLE_BUT_LF : UNPRINTABLE, escape);
}

const QUOTED_MAX_CHARS = 64;

/**
 * A value from a token (a `kid`, an `iss`) made safe for a log line: JSON-quoted, every character
 * `printable` escapes shown as an escape, and cut to 64 characters.
 */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  return text.length > QUOTED_MAX_CHARS
    ? `${printable(JSON.stringify(text.slice(0, QUOTED_MAX_CHARS)))}... (${text.length} characters)`
    : printable(JSON.stringify(text));
}

/** Outside text for a message: `printable`, and cut to `maxChars` (default 300). */
export function bounded(text: string, maxChars = 300): string {
  const safe = printable(text);
  return safe.length > maxChars ? `${safe.slice(0, maxChars)}... (cut)` : safe;
}

/**
 * A URL as errors, causes and the CLI show it: without its user name and password
 * (`https://user:secret@host/keys` shows as `https://***@host/keys`), and printable.
 */
export function displayUrl(uri: string | URL): string {
  const url = typeof uri === "string" ? (URL.canParse(uri) ? new URL(uri) : undefined) : new URL(uri.href);
  if (url === undefined) return bounded(typeof uri === "string" ? uri.replace(/\/\/[^/@]*@/, "//***@") : "");
  const hidden = url.username !== "" || url.password !== "";
  url.username = "";
  url.password = "";
  return bounded(hidden ? url.href.replace("//", "//***@") : url.href);
}
