import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  EVENT_STORE,
  isEventOf,
  NO_STREAM,
  WrongExpectedRevisionError,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type RecordedOf,
  type StreamAppend,
} from '../event-store/event-store.port.js';
import { concurrencyConflict, decide, type Decision } from '../event-store/decider.js';
import { readSettingInForce } from '../qualify-setting/qualify-lead-setting.commands.js';
import { RECORD_KINDS, recordStream, type RecordKind } from '../records/record-kinds.js';
import type { CommandContext } from '../shared/command-context.js';
import { DomainError } from '../shared/domain-error.js';
import { nameBasedId } from '../shared/record-ids.js';
import { claimAppend, releaseAppend } from '../uniqueness/claim-appends.js';
import { readClaims, type KeyClaims } from '../uniqueness/key-claims.js';
import { noDuplicates, type DuplicateMatches, type ReleaseReason } from '../uniqueness/unique-key.events.js';
import { isUniqueKeyStream, uniqueKey, type UniqueKey } from '../uniqueness/unique-keys.js';
import { asMatches, liveHolders } from './claim-holders.js';
import { decideLead, evolveLead, initialLead, type LeadCommand, type LeadState, type MissingLink } from './lead.decider.js';
import { leadStream, type LeadFields, type LeadQualified, type OpportunityCustomerType } from './lead.events.js';
import { recordPresence } from './record-presence.js';

/** A lead command as the API gives it; qualification's setting is filled in by the handler. */
export type LeadCommandInput = LeadCommand extends infer C ? (C extends { type: 'QualifyLead' } ? Omit<C, 'setting'> : C) : never;

export interface LeadCommandResult {
  id: string;
  version: number;
  position: string;
  state: LeadState;
  qualified?: LeadQualified['data'];
}

export class ExecuteLeadCommand extends Command<LeadCommandResult> {
  constructor(
    readonly command: LeadCommandInput,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}

const leadDecider = { initial: initialLead, evolve: evolveLead, decide: decideLead };

/** Rematches after losing a key to a concurrent claimer; the next decision sees its claim. */
const KEY_RACE_RETRIES = 8;

type Claimer = 'account' | 'contact' | 'lead';

/** What a command takes and gives up outside the lead's stream, as read while deciding. */
interface OutsideWork {
  /** The keys it would claim, read before deciding (their revisions are the expected ones). */
  claimable: Map<Claimer, KeyClaims>;
  /** Claims to release once the lead's event is written. */
  releases: { claims: KeyClaims; recordId: string; reason: ReleaseReason }[];
}

/**
 * Every lead command. Uniqueness (accounts by name, contacts and open leads by e-mail) is decided
 * here, on the write side: the command reads the claims on the keys it would take, the decider
 * refuses when a live claim holds one (DUPLICATES_FOUND), and the command appends its own claims
 * at the revisions it read, before the lead's event, with the releases after it. On the SQL store
 * all of it is one transaction; on EventStoreDB the order makes a crash leave at worst a claim
 * without owner, which lapses (claim-holders.ts). A concurrent claimer of the same key makes the
 * append fail; the command then decides again and now sees that claim.
 */
@CommandHandler(ExecuteLeadCommand)
export class ExecuteLeadCommandHandler implements ICommandHandler<ExecuteLeadCommand> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ command, ctx }: ExecuteLeadCommand): Promise<LeadCommandResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(command as LeadCommand, ctx);
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError && isUniqueKeyStream(error.streamId) && attempt < KEY_RACE_RETRIES) continue;
        throw this.refusal(command, concurrencyConflict(error));
      }
    }
  }

  private refusal(command: LeadCommandInput, error: unknown): unknown {
    // The client pinned a version and another write got in first: its version is stale.
    if (command.type === 'UpdateLead' && command.expectedVersion !== undefined && error instanceof DomainError && error.code === 'CONCURRENCY_CONFLICT') {
      return new DomainError('VERSION_MISMATCH', `lead ${command.leadId} changed after version ${command.expectedVersion}`, error.details);
    }
    return error;
  }

  private async attempt(command: LeadCommand, ctx: CommandContext): Promise<LeadCommandResult> {
    const work: OutsideWork = { claimable: new Map(), releases: [] };
    const decision = await decide(this.store, leadStream(command.leadId), leadDecider, command, ctx, (c, state, history) =>
      this.enrich(c, state, history, ctx, work),
    );
    if (!decision.append) return { id: command.leadId, version: decision.revision, position: decision.lastPosition, state: decision.state };
    const owner = decision.append.events[0];
    const state = decision.evolved();
    const before = this.claims(owner, decision, state, work);
    const after = work.releases.flatMap((r) => releaseAppend(r.claims, r.recordId, r.reason, owner.metadata) ?? []);
    const results = await this.store.appendToStreams([...before, decision.append, ...after]);
    const lead = results[before.length];
    const qualified = owner.type === 'LeadQualified' ? (owner.data as LeadQualified['data']) : undefined;
    return { id: command.leadId, version: lead.nextRevision, position: lead.position, state, qualified };
  }

  /** Reads what the decision needs beyond the lead's stream: the setting, claims, linked records. */
  private async enrich(command: LeadCommand, state: LeadState, history: RecordedEvent[], ctx: CommandContext, work: OutsideWork): Promise<LeadCommand> {
    switch (command.type) {
      case 'CreateLead': {
        if (state.status !== 'None') return command;
        const [missingLinks, leads] = await Promise.all([
          this.missingLinks(command.fields),
          this.claimable(work, 'lead', uniqueKey('lead-email', command.fields.email), ctx, command.leadId),
        ]);
        return { ...command, missingLinks, duplicates: leads };
      }
      case 'UpdateLead': {
        if (state.status !== 'Open') return command;
        const { existingAccountId, existingContactId, email } = command.changes;
        const links = {
          existingAccountId: existingAccountId !== state.fields.existingAccountId ? existingAccountId : undefined,
          existingContactId: existingContactId !== state.fields.existingContactId ? existingContactId : undefined,
        };
        const before = uniqueKey('lead-email', state.fields.email);
        const after = email === undefined ? before : uniqueKey('lead-email', email);
        if (before?.key === after?.key) return { ...command, missingLinks: await this.missingLinks(links) };
        await this.releaseLater(work, before, state.id, 'email-changed');
        const [missingLinks, duplicates] = await Promise.all([this.missingLinks(links), this.claimable(work, 'lead', after, ctx, state.id)]);
        return { ...command, missingLinks, duplicates };
      }
      case 'QualifyLead': {
        // The setting is read from the event store, never a read model: the value in force now.
        const setting = await readSettingInForce(this.store);
        if (state.status !== 'Open') return { ...command, setting };
        const { fields } = state;
        const accountId = command.existingAccountId ?? fields.existingAccountId ?? undefined;
        const contactId = command.existingContactId ?? fields.existingContactId ?? undefined;
        // A qualification that cannot create an opportunity ignores its customer: no need to look.
        const { opportunityCustomerId, opportunityCustomerType } = command;
        const customer =
          opportunityCustomerId && opportunityCustomerType && command.createOpportunity !== false
            ? { kind: opportunityCustomerType, id: opportunityCustomerId.toLowerCase() }
            : undefined;
        // The lead's own e-mail claim ends with LeadQualified (claim-holders.ts judges it by the
        // lead's state); a release event on this hot path would cost a read and an append.
        const [missingLinks, accounts, contacts] = await Promise.all([
          this.missingLinks({ existingAccountId: accountId, existingContactId: contactId }, customer),
          accountId || state.convertedAccountId ? undefined : this.claimable(work, 'account', uniqueKey('account-name', fields.companyName), ctx, state.id),
          contactId || state.convertedContactId ? undefined : this.claimable(work, 'contact', uniqueKey('contact-email', fields.email), ctx, state.id),
        ]);
        const duplicates: DuplicateMatches = { ...noDuplicates(), accounts: accounts?.accounts ?? [], contacts: contacts?.contacts ?? [] };
        return { ...command, setting, missingLinks, duplicates };
      }
      case 'ReactivateLead':
        if (state.status === 'None' || state.status === 'Open') return command;
        return { ...command, duplicates: await this.claimable(work, 'lead', uniqueKey('lead-email', state.fields.email), ctx, state.id) };
      case 'RecordConversionFailed':
        if (state.status !== 'None' && !state.conversions[command.qualificationId]) await this.releaseUncreated(work, history, command.qualificationId);
        return command;
      default:
        return command;
    }
  }

  /** Reads a key's claims for the command to append to, and the records that hold it now. */
  private async claimable(
    work: OutsideWork,
    claimer: Claimer,
    key: UniqueKey | null,
    ctx: CommandContext,
    ignoreLeadId?: string,
  ): Promise<DuplicateMatches | undefined> {
    if (!key) return undefined;
    const claims = await readClaims(this.store, key);
    work.claimable.set(claimer, claims);
    return asMatches(await liveHolders(this.store, claims, ctx.now, { ignoreLeadId }));
  }

  private async releaseLater(work: OutsideWork, key: UniqueKey | null, recordId: string, reason: ReleaseReason): Promise<void> {
    if (key) work.releases.push({ claims: await readClaims(this.store, key), recordId, reason });
  }

  /** A failed conversion frees the keys of the records it planned and never created. */
  private async releaseUncreated(work: OutsideWork, history: RecordedEvent[], qualificationId: string): Promise<void> {
    const qualified = history.find(
      (e): e is RecordedOf<LeadQualified> => isEventOf<LeadQualified>(e, ['LeadQualified']) && e.data.qualificationId === qualificationId,
    )?.data;
    if (!qualified) return;
    const planned = [
      { kind: 'account' as const, record: qualified.plan.account, key: uniqueKey('account-name', qualified.lead.companyName) },
      { kind: 'contact' as const, record: qualified.plan.contact, key: uniqueKey('contact-email', qualified.lead.email) },
    ];
    await Promise.all(
      planned.map(async ({ kind, record, key }) => {
        if (record.action !== 'create' || !record.id || !key) return;
        const stream = await this.store.readStream(recordStream(kind, record.id));
        if (!stream.some((e) => e.type === RECORD_KINDS[kind].eventType)) await this.releaseLater(work, key, record.id, 'conversion-failed');
      }),
    );
  }

  /**
   * Linked ids, and the new opportunity's customer, must name a record whose creation is in the
   * log, or one an accepted qualification will create.
   */
  private async missingLinks(
    links: Pick<LeadFields, 'existingAccountId' | 'existingContactId'>,
    customer?: { kind: OpportunityCustomerType; id: string },
  ): Promise<MissingLink[]> {
    const checks: { field: MissingLink['field']; kind: RecordKind; id: string | null | undefined }[] = [
      { field: 'existingAccountId', kind: 'account', id: links.existingAccountId },
      { field: 'existingContactId', kind: 'contact', id: links.existingContactId },
      ...(customer ? [{ field: 'opportunityCustomerId' as const, ...customer }] : []),
    ];
    const found = await Promise.all(
      checks.map(async ({ field, kind, id }) => {
        if (!id) return [];
        const presence = await recordPresence(this.store, kind, id.toLowerCase());
        return presence.state === 'missing' ? [{ field, id, reason: presence.reason }] : [];
      }),
    );
    return found.flat();
  }

  /** The claims a decided event takes, and the Planned events that open its new records' streams. */
  private claims(owner: NewEvent, decision: Decision<LeadState>, state: LeadState, work: OutsideWork): StreamAppend[] {
    const metadata = owner.metadata;
    const bound = { ownerStreamId: decision.streamId, ownerEventId: owner.id, ...ignoredOf(owner) };
    const appends: StreamAppend[] = [];
    if (owner.type === 'LeadQualified') {
      const { plan, qualificationId, leadId, lead } = owner.data as LeadQualified['data'];
      const planned: { claimer: 'account' | 'contact'; record: typeof plan.account; display: Record<string, string | null> }[] = [
        { claimer: 'account', record: plan.account, display: { name: lead.companyName?.trim() ?? null } },
        { claimer: 'contact', record: plan.contact, display: { firstName: lead.firstName ?? null, lastName: lead.lastName, email: lead.email ?? null } },
      ];
      for (const { claimer, record, display } of planned) {
        if (record.action !== 'create' || !record.id) continue;
        const claims = work.claimable.get(claimer);
        if (claims) appends.push(claimAppend(claims, { recordId: record.id, leadId, qualificationId, record: display, ...bound }, metadata));
        const info = RECORD_KINDS[claimer];
        appends.push({
          streamId: recordStream(claimer, record.id),
          expectedRevision: NO_STREAM,
          // Derived id: a command deciding again after a lost race appends the same event, a retry.
          events: [
            {
              id: nameBasedId(`${qualificationId}/${claimer}/planned`),
              type: info.plannedEventType!,
              data: { id: record.id, leadId, qualificationId },
              metadata,
            },
          ],
        });
      }
      return appends;
    }
    const claims = work.claimable.get('lead');
    if (!claims || state.status !== 'Open') return appends;
    if (owner.type === 'LeadUpdated' && !('email' in owner.data)) return appends;
    const { firstName, lastName, email, companyName } = state.fields;
    const display = { firstName: firstName ?? null, lastName, email: email ?? null, companyName: companyName ?? null };
    appends.push(claimAppend(claims, { recordId: state.id, leadId: state.id, qualificationId: null, record: display, ...bound }, metadata));
    return appends;
  }
}

function ignoredOf(owner: NewEvent): { ignoredDuplicates?: string[] } {
  const ignored = (owner.data as { ignoredDuplicates?: string[] }).ignoredDuplicates;
  return ignored?.length ? { ignoredDuplicates: ignored } : {};
}
