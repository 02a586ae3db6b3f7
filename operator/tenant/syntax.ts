// Name and label syntax shared by the CRD schema (as RE2 patterns the API server evaluates)
// and the offline validator (as JS RegExps), so that both accept exactly the same strings.
// Every pattern here is valid in both dialects.

/** RFC 1123 DNS label: what namespaces, tenants and rule names must be. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS_LABEL_MAX = 63;

/**
 * Label key: optional DNS-subdomain prefix and '/', then a name of at most 63 letters, digits,
 * '-', '_', '.' starting and ending alphanumeric. The bounded repeats keep each part within 63.
 */
export const LABEL_KEY_PATTERN =
  '^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
/** 253 (prefix) + 1 ('/') + 63 (name). */
export const LABEL_KEY_MAX = 317;

/** Label value: empty, or letters, digits, '-', '_', '.' starting and ending alphanumeric. */
export const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
export const LABEL_VALUE_MAX = 63;

/**
 * Named port (IANA service name): lowercase letters, digits and '-', no leading, trailing or
 * doubled '-', and at least one letter so that it cannot be mistaken for a number.
 */
export const PORT_NAME_PATTERN = '^[a-z0-9]([a-z0-9]|-[a-z0-9])*$';
export const PORT_NAME_LETTER_PATTERN = '[a-z]';
export const PORT_NAME_MAX = 15;

/** Longest CIDR text: a fully written IPv6 address and /128. */
export const CIDR_MAX = 43;

export const dnsLabelRe = new RegExp(DNS_LABEL_PATTERN);
export const labelKeyRe = new RegExp(LABEL_KEY_PATTERN);
export const labelValueRe = new RegExp(LABEL_VALUE_PATTERN);
export const portNameRe = new RegExp(PORT_NAME_PATTERN);
export const portNameLetterRe = new RegExp(PORT_NAME_LETTER_PATTERN);

export function isDnsLabel(s: string): boolean {
  return s.length <= DNS_LABEL_MAX && dnsLabelRe.test(s);
}

export function isLabelKey(s: string): boolean {
  return s.length <= LABEL_KEY_MAX && labelKeyRe.test(s);
}

export function isLabelValue(s: string): boolean {
  return s.length <= LABEL_VALUE_MAX && labelValueRe.test(s);
}

export function isPortName(s: string): boolean {
  return s.length <= PORT_NAME_MAX && portNameRe.test(s) && portNameLetterRe.test(s);
}
