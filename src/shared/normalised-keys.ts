/**
 * How names and e-mail addresses are normalised into the keys that uniqueness claims (account names,
 * e-mails) and the record searches (`?q=`) compare. One definition for the write side, the records
 * projection and the migration that computed the keys of existing rows, so that the three agree;
 * here because src/database/ may import no feature folder.
 */

/** Account names: case, surrounding and repeated inner white space ignored. */
export function accountNameKey(name: string | null | undefined): string | null {
  const key = name?.trim().replace(/\s+/g, ' ').toLowerCase();
  return key ? key : null;
}

/** E-mail addresses: case and surrounding space ignored. */
export function emailKey(email: string | null | undefined): string | null {
  const key = email?.trim().toLowerCase();
  return key ? key : null;
}

/**
 * Contacts are searched by full name, normalised as account names are, so what the salesperson
 * types compares with one key whatever the spacing or case.
 */
export const contactNameKey = (firstName: string | null | undefined, lastName: string | null | undefined): string | null =>
  accountNameKey([firstName, lastName].filter((part) => part).join(' '));

/** A contact is also found by its last name: people are looked up by it as often as by first. */
export const lastNameKey = (lastName: string | null | undefined): string | null => accountNameKey(lastName);

/**
 * A lead's company name as `lead_details.company_key` holds it (the Dataverse-compatible
 * `companyname eq` filter): normalised as account names are (case, surrounding and repeated inner
 * white space ignored), so that the lead whose company would become an existing account's
 * duplicate is found by that account's name.
 */
export const companyNameKey = (companyName: string | null | undefined): string | null => accountNameKey(companyName);
