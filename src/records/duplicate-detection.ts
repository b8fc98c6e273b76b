import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import { placeholder } from '../database/sql.js';
import type { DuplicateMatches } from '../leads/lead.decider.js';
import type { LeadFields } from '../leads/lead.events.js';
import { accountNameKey, contactEmailKey } from './record-kinds.js';

/**
 * Finds accounts with the lead's company name (case and surrounding space ignored) and contacts
 * with its email, in the records read models. The decider decides whether they matter (only for
 * records the plan creates). Read models trail the log by milliseconds: a record created by a
 * qualification still converting is not yet seen.
 */
@Injectable()
export class DuplicateDetection {
  constructor(private readonly db: Database) {}

  async find(lead: Pick<LeadFields, 'companyName' | 'email'>): Promise<DuplicateMatches> {
    const nameKey = accountNameKey(lead.companyName);
    const emailKey = contactEmailKey(lead.email);
    const p = placeholder(this.db.kind, 1);
    const [accounts, contacts] = await Promise.all([
      nameKey ? this.db.query(`SELECT id, name FROM accounts WHERE name_key = ${p} ORDER BY created_at LIMIT 20`, [nameKey]) : [],
      emailKey
        ? this.db.query(`SELECT id, first_name, last_name, email FROM contacts WHERE email_key = ${p} ORDER BY created_at LIMIT 20`, [emailKey])
        : [],
    ]);
    return {
      accounts: accounts.map((a: any) => ({ id: a.id, name: a.name })),
      contacts: contacts.map((c: any) => ({ id: c.id, firstName: c.first_name ?? null, lastName: c.last_name, email: c.email ?? null })),
    };
  }
}
