// The canonical form of a name a User signs in with (email, userName): NFKC, then case-folded, so that names
// which look the same to a person are one name (OWASP ASVS 5.0 V6.2 / RFC 8265 §3.4's approach). Upper- then
// lower-casing folds more than lower-casing alone ("Straße" and "STRASSE" meet), which only makes two names
// more likely to collide: the safe direction for uniqueness.
export function canonicalLogin(name: string): string {
  return name.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}
