import type { EventStore } from '../event-store/event-store.port.js';
import { upcast } from '../event-store/upcasting.js';
import { leadStream, type LeadQualified, type QualificationPlan } from '../leads/lead.events.js';
import type { AcceptedQualification } from '../leads/qualification-outcome.js';
import type { QualifyOptions } from './qualify-lead.parameters.js';

/**
 * A QualifyLead sent again (its answer was lost, or it timed out: docs/dataverse.md, QualifyLead)
 * answers the records of the qualification it made, instead of "lead not open".
 */

export type EarlierQualification = AcceptedQualification & { plan: QualificationPlan };

const CLOSING_TYPES = ['LeadQualified', 'LeadDisqualified', 'LeadReactivated'];

/**
 * The latest qualification of a lead that is Qualified by it, when the request asks for what that
 * qualification did (asksForWhatItDid); read from the lead's stream, so it is never behind.
 */
export async function earlierQualification(store: EventStore, leadId: string, options: QualifyOptions): Promise<EarlierQualification | undefined> {
  const events = (await store.readStream(leadStream(leadId))).map((e) => upcast(e));
  const last = events.filter((e) => CLOSING_TYPES.includes(e.type)).at(-1);
  if (last?.type !== 'LeadQualified') return undefined;
  const data = last.data as LeadQualified['data'];
  if (!asksForWhatItDid(data, options)) return undefined;
  return { leadId, qualificationId: data.qualificationId, plan: data.plan, position: last.position };
}

type Qualified = Pick<
  LeadQualified['data'],
  'plan' | 'decidedBy' | 'opportunityCustomerId' | 'opportunityCustomerType' | 'opportunityCurrencyId' | 'sourceCampaignId'
>;

/**
 * Whether `options` ask for what the qualification did: every record it created was asked for;
 * every contact or opportunity asked for was created or linked (an account is not created without
 * a company name, whatever was asked); a new opportunity was shaped by the same customer,
 * currency and campaign. A boolean left out counts as what the setting decided (Yes: all three).
 */
export function asksForWhatItDid(qualified: Qualified, options: QualifyOptions): boolean {
  const asked = { account: options.createAccount, contact: options.createContact, opportunity: options.createOpportunity };
  for (const kind of ['account', 'contact', 'opportunity'] as const) {
    const wanted = asked[kind] ?? qualified.decidedBy === 'setting';
    const action = qualified.plan[kind].action;
    if (action === 'create' && !wanted) return false;
    if (wanted && action === 'none' && kind !== 'account') return false;
  }
  if (qualified.plan.opportunity.action !== 'create') return true;
  return (
    options.opportunityCustomerId === qualified.opportunityCustomerId &&
    options.opportunityCustomerType === qualified.opportunityCustomerType &&
    options.opportunityCurrencyId === qualified.opportunityCurrencyId &&
    options.sourceCampaignId === qualified.sourceCampaignId
  );
}
