import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Database } from '../database/database.js';
import { placeholder } from '../database/sql.js';
import { Checkpoints } from '../event-store/checkpoints.js';
import {
  comparePositions,
  EVENT_STORE,
  isEventOf,
  START,
  type EventStore,
  type EventMetadata,
  type RecordedEvent,
  type RecordedOf,
  type StreamAppend,
} from '../event-store/event-store.port.js';
import { recordStream } from '../records/record-kinds.js';
import type { RecordCreated } from '../records/record.decider.js';
import { nameBasedId } from '../shared/record-ids.js';
import { claimAppend, type ClaimFields } from '../uniqueness/claim-appends.js';
import { expectedRevisionOf, foldClaims } from '../uniqueness/key-claims.js';
import { uniqueKey, uniqueKeyStream, type UniqueKey } from '../uniqueness/unique-keys.js';
import { leadStream, type LeadEvent, type LeadQualified } from './lead.events.js';

/** Its row in `checkpoints` marks the backfill done (the position is the head it covered). */
export const CLAIMS_BACKFILL = 'uniqueness-backfill';
const PAGE = 1000;
const KEYS_PER_APPEND = 200;

interface Wanted {
  key: UniqueKey;
  fields: ClaimFields;
}

/** The events the backfill learns records and leads from. */
type SourceEvent = LeadEvent | RecordCreated;
const SOURCE_EVENT_TYPES: readonly SourceEvent['type'][] = [
  'LeadConversionFailed',
  'AccountCreated',
  'ContactCreated',
  'LeadCreated',
  'LeadUpdated',
  'LeadQualified',
  'LeadDisqualified',
  'LeadReactivated',
];

interface LeadSketch {
  open: boolean;
  createdEventId: string;
  email: string | null;
  firstName: string | null;
  lastName: string;
  companyName: string | null;
}

/**
 * Records and open leads written before uniqueness claims existed hold no claim, so nothing would
 * stop a duplicate of them. Once per database, before the service takes requests, this reads the
 * log up to its head, works out the claims those records and leads would hold, and appends the
 * missing ones. Idempotent: each key's stream is read first and only absent claims are appended
 * (with ids derived from key and record), so a crash or a second instance running it at the same
 * time repeats nothing. Qualifications accepted but not yet converted when the head was read get
 * the claims of the records their plans create; everything appended after the head read carries
 * its claims already. (Their planned ids have no Planned event: linking one is refused until the
 * saga has created it.)
 */
@Injectable()
export class ClaimsBackfill implements OnApplicationBootstrap {
  private readonly logger = new Logger(ClaimsBackfill.name);
  private readonly checkpoints: Checkpoints;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly db: Database,
  ) {
    this.checkpoints = new Checkpoints(db);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.run();
  }

  /** The number of claims appended (0 when already done). */
  async run(): Promise<number> {
    if (await this.done()) return 0;
    const head = await this.store.headPosition();
    const wanted = head === START ? [] : await this.wantedClaims(head);
    let appended = 0;
    for (let i = 0; i < wanted.length && !(await this.done()); i += KEYS_PER_APPEND) appended += await this.appendMissing(wanted.slice(i, i + KEYS_PER_APPEND));
    // Instances starting together may both get here: the first mark stands.
    const p = (n: number) => placeholder(this.db.kind, n);
    await this.db.transactionSql(async (sql) =>
      sql(
        `INSERT INTO checkpoints (processor, position, owner, lease_until, updated_at) VALUES (${p(1)}, ${p(2)}, NULL, 0, ${p(3)}) ON CONFLICT (processor) DO NOTHING`,
        [CLAIMS_BACKFILL, head, new Date().toISOString()],
      ),
    );
    if (head !== START)
      this.logger.log(`uniqueness claims backfilled up to position ${head}: ${appended} appended for ${wanted.length} records and open leads`);
    return appended;
  }

  private async done(): Promise<boolean> {
    return !!(await this.checkpoints.get((sql, params) => this.db.query(sql, params), CLAIMS_BACKFILL));
  }

  private async wantedClaims(head: string): Promise<Wanted[]> {
    const wanted: Wanted[] = [];
    const leads = new Map<string, LeadSketch>();
    const converting = new Map<string, Wanted[]>();
    const created = new Set<string>();
    for (let after = START; ;) {
      const page = (await this.store.readAll(after, PAGE)).filter((e) => comparePositions(e.position, head) <= 0);
      if (!page.length) break;
      for (const event of page) this.take(event, wanted, leads, converting, created);
      after = page[page.length - 1].position;
      if (comparePositions(after, head) >= 0) break;
    }
    // Qualifications accepted before the upgrade whose records the saga has yet to create: their
    // names and e-mails are taken as surely as created ones.
    for (const claims of converting.values()) wanted.push(...claims.filter((w) => !created.has(w.fields.recordId)));
    for (const [leadId, lead] of leads) {
      const key = lead.open ? uniqueKey('lead-email', lead.email) : null;
      if (!key) continue;
      const record = { firstName: lead.firstName, lastName: lead.lastName, email: lead.email, companyName: lead.companyName };
      wanted.push({
        key,
        fields: {
          recordId: leadId,
          leadId,
          qualificationId: null,
          ownerStreamId: leadStream(leadId),
          ownerEventId: lead.createdEventId,
          record,
          backfilled: true,
        },
      });
    }
    return wanted;
  }

  private take(event: RecordedEvent, wanted: Wanted[], leads: Map<string, LeadSketch>, converting: Map<string, Wanted[]>, created: Set<string>): void {
    if (!isEventOf<SourceEvent>(event, SOURCE_EVENT_TYPES)) return;
    switch (event.type) {
      case 'LeadConversionFailed':
        converting.delete(event.data.qualificationId);
        return;
      case 'AccountCreated':
      case 'ContactCreated': {
        const d = event.data;
        created.add(d.id);
        const account = event.type === 'AccountCreated';
        const key = account ? uniqueKey('account-name', d.name) : uniqueKey('contact-email', d.email);
        if (!key) return;
        // An account with a name key has a name; a contact has a last name (a lead's is required).
        const record: Record<string, string | null> = account
          ? { name: d.name ?? null }
          : { firstName: d.firstName ?? null, lastName: d.lastName ?? null, email: d.email ?? null };
        const ownerStreamId = recordStream(account ? 'account' : 'contact', d.id);
        wanted.push({
          key,
          fields: {
            recordId: d.id,
            leadId: d.originatingLeadId,
            qualificationId: d.qualificationId,
            ownerStreamId,
            ownerEventId: event.id,
            record,
            backfilled: true,
          },
        });
        return;
      }
      case 'LeadCreated': {
        const d = event.data;
        leads.set(d.leadId, {
          open: true,
          createdEventId: event.id,
          email: d.email ?? null,
          firstName: d.firstName ?? null,
          lastName: d.lastName,
          companyName: d.companyName ?? null,
        });
        return;
      }
      case 'LeadUpdated': {
        const d = event.data;
        const lead = leads.get(d.leadId);
        if (!lead) return;
        if (d.email !== undefined) lead.email = d.email;
        if (d.firstName !== undefined) lead.firstName = d.firstName;
        if (d.lastName !== undefined) lead.lastName = d.lastName;
        if (d.companyName !== undefined) lead.companyName = d.companyName;
        return;
      }
      case 'LeadQualified':
      case 'LeadDisqualified':
      case 'LeadReactivated': {
        if (event.type === 'LeadQualified') converting.set(event.data.qualificationId, plannedClaims(event));
        const lead = leads.get(event.data.leadId);
        if (lead) lead.open = event.type === 'LeadReactivated';
        return;
      }
    }
  }

  /** Appends the claims of `wanted` that their keys' streams do not hold yet; retried when a concurrent writer got in. */
  private async appendMissing(wanted: Wanted[]): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        const byStream = new Map<string, Wanted[]>();
        for (const w of wanted) byStream.set(uniqueKeyStream(w.key), [...(byStream.get(uniqueKeyStream(w.key)) ?? []), w]);
        const appends: StreamAppend[] = [];
        for (const group of byStream.values()) {
          const events = await this.store.readStream(uniqueKeyStream(group[0].key));
          const claims = foldClaims(group[0].key, events);
          const held = new Set(claims.claims.map((c) => c.data.recordId));
          // A claim this backfill appended before (on another instance) and that was released
          // since, must not come back.
          const appendedBefore = new Set(events.map((e) => e.id));
          const missing = group.filter((w) => !held.has(w.fields.recordId) && !appendedBefore.has(backfillEventId(w)));
          const newEvents = missing.flatMap((w) => {
            held.add(w.fields.recordId);
            return claimAppend(claims, w.fields, metadata(), backfillEventId(w)).events;
          });
          if (newEvents.length) appends.push({ streamId: claims.streamId, expectedRevision: expectedRevisionOf(claims), events: newEvents });
        }
        if (appends.length) await this.store.appendToStreams(appends);
        return appends.reduce((n, a) => n + a.events.length, 0);
      } catch (error) {
        // Another instance finished the backfill meanwhile: its work stands.
        if (await this.done()) return 0;
        if (attempt >= 5) throw error;
        this.logger.warn(`backfill: a key changed while claiming, reading again: ${(error as Error).message}`);
      }
    }
  }
}

const metadata = (): EventMetadata => ({
  userId: 'system:uniqueness-backfill',
  correlationId: CLAIMS_BACKFILL,
  causationId: CLAIMS_BACKFILL,
  at: new Date().toISOString(),
});

/** The claims of the accounts and contacts a LeadQualified plans to create. */
function plannedClaims(event: RecordedOf<LeadQualified>): Wanted[] {
  const { plan, qualificationId, leadId, lead } = event.data;
  const owner = { leadId, qualificationId, ownerStreamId: leadStream(leadId), ownerEventId: event.id, backfilled: true };
  const out: Wanted[] = [];
  const account = uniqueKey('account-name', lead.companyName);
  if (plan.account.action === 'create' && plan.account.id && account)
    out.push({ key: account, fields: { recordId: plan.account.id, record: { name: lead.companyName!.trim() }, ...owner } });
  const contact = uniqueKey('contact-email', lead.email);
  if (plan.contact.action === 'create' && plan.contact.id && contact) {
    out.push({
      key: contact,
      fields: { recordId: plan.contact.id, record: { firstName: lead.firstName ?? null, lastName: lead.lastName, email: lead.email ?? null }, ...owner },
    });
  }
  return out;
}

/** The same claim gets the same event id on every run. */
const backfillEventId = ({ key, fields }: Wanted): string => nameBasedId(`${CLAIMS_BACKFILL}/${key.kind}/${key.key}/${fields.recordId}`);
